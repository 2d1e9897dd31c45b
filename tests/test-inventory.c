/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of inventory/: host roots built by the tests under $TMPDIR,
 * the committed fixture roots, lspci dumps, captures of the live host. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "inventory/inventory-internal.h"
#include "inventory/inventory.h"

/* ----- building host roots ------------------------------------------------ */

static void mkdir_parents(const char *path)
{
	char buf[2 * PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(buf, 0755);
			*p = '/';
		}
}

static void put_bytes(const char *root, const char *rel, const void *data, size_t len)
{
	char path[2 * PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir_parents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "cannot create %s", path);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put(const char *root, const char *rel, const char *fmt, ...) _printf_(3, 4);
static void put(const char *root, const char *rel, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	put_bytes(root, rel, text, strlen(text));
}

static void put_link(const char *root, const char *rel, const char *target)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir_parents(path);
	ck_assert_int_eq(symlink(target, path), 0);
}

static void put_dir(const char *root, const char *rel)
{
	char path[2 * PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/", root, rel);
	mkdir_parents(path);
}

static int rm_entry(const char *path, const struct stat *st _unused_, int flag _unused_, struct FTW *f _unused_)
{
	return remove(path);
}

static char *new_root(void)
{
	const char *tmp = getenv("TMPDIR");
	char *root;

	ck_assert_int_gt(asprintf(&root, "%s/memtype-inv-XXXXXX", tmp ? tmp : "/tmp"), 0);
	ck_assert_ptr_nonnull(mkdtemp(root));
	return root;
}

static void free_root(char *root)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* Config space of a function, laid out as real hardware does. */
struct config_spec {
	uint16_t vendor, device;
	uint32_t class_code;
	bool pcie, nosnoop;
	unsigned msix_entries, msix_bir, msix_table, msix_pba_bir, msix_pba;
	unsigned sriov_total, sriov_num;
};

static void config_build(const struct config_spec *s, uint8_t cfg[4096])
{
	uint8_t last = 0x34;

	memset(cfg, 0, 4096);
	cfg[0] = s->vendor & 0xff, cfg[1] = s->vendor >> 8;
	cfg[2] = s->device & 0xff, cfg[3] = s->device >> 8;
	cfg[8] = 0x01;                 /* revision */
	cfg[9] = s->class_code & 0xff, cfg[10] = (s->class_code >> 8) & 0xff, cfg[11] = s->class_code >> 16;
	cfg[0x2c] = s->vendor & 0xff, cfg[0x2d] = s->vendor >> 8;
	if (!s->pcie && !s->msix_entries)
		return;
	cfg[6] = 0x10;                 /* status: capability list */
	if (s->pcie) {
		cfg[last] = 0x40, last = 0x41;
		cfg[0x40] = 0x10, cfg[0x42] = 0x02;
		cfg[0x48] = s->nosnoop ? 0x10 : 0x10, cfg[0x49] = s->nosnoop ? 0x08 : 0x00;
	}
	if (s->msix_entries) {
		uint32_t table = s->msix_table | s->msix_bir, pba = s->msix_pba | s->msix_pba_bir;

		cfg[last] = 0x70, last = 0x71;
		cfg[0x70] = 0x11;
		cfg[0x72] = (s->msix_entries - 1) & 0xff, cfg[0x73] = (s->msix_entries - 1) >> 8;
		memcpy(&cfg[0x74], &table, 4);
		memcpy(&cfg[0x78], &pba, 4);
	}
	if (s->sriov_total) {
		uint32_t hdr = 0x10 | 1 << 16;

		memcpy(&cfg[0x100], &hdr, 4);
		cfg[0x10e] = s->sriov_total & 0xff, cfg[0x10f] = s->sriov_total >> 8;
		cfg[0x110] = s->sriov_num & 0xff, cfg[0x111] = s->sriov_num >> 8;
	}
}

struct bar_spec {
	uint64_t start, size, flags;
};

struct function_spec {
	const char *bdf;
	const char *parent;            /* "pci0000:00" or a bridge path */
	struct config_spec cfg;
	size_t config_len;             /* bytes of config the file holds */
	struct bar_spec bars[PCI_BAR_COUNT];
	const char *driver;
	int group;                     /* -1: none */
};

static void add_function(const char *root, const struct function_spec *f)
{
	char dev[PATH_MAX], rel[PATH_MAX + 64], target[PATH_MAX], res[2048] = "";
	uint8_t cfg[4096];
	size_t len = 0;

	snprintf(dev, sizeof(dev), "sys/devices/%s/%s", f->parent ? f->parent : "pci0000:00", f->bdf);
	config_build(&f->cfg, cfg);
	snprintf(rel, sizeof(rel), "%s/config", dev);
	put_bytes(root, rel, cfg, f->config_len ? f->config_len : 4096);
#define ATTR(name, ...) (snprintf(rel, sizeof(rel), "%s/" name, dev), put(root, rel, __VA_ARGS__))
	ATTR("vendor", "0x%04x\n", f->cfg.vendor);
	ATTR("device", "0x%04x\n", f->cfg.device);
	ATTR("class", "0x%06x\n", f->cfg.class_code);
	ATTR("revision", "0x01\n");
	ATTR("subsystem_vendor", "0x%04x\n", f->cfg.vendor);
	ATTR("subsystem_device", "0x0001\n");
	ATTR("irq", "0\n");
#undef ATTR
	for (unsigned i = 0; i < 13; i++) {
		const struct bar_spec *b = i < PCI_BAR_COUNT ? &f->bars[i] : NULL;

		len += (size_t)snprintf(res + len, sizeof(res) - len, "0x%016llx 0x%016llx 0x%016llx\n",
					b && b->size ? (unsigned long long)b->start : 0ULL,
					b && b->size ? (unsigned long long)(b->start + b->size - 1) : 0ULL,
					b && b->size ? (unsigned long long)b->flags : 0ULL);
	}
	snprintf(rel, sizeof(rel), "%s/resource", dev);
	put(root, rel, "%s", res);
	snprintf(rel, sizeof(rel), "sys/bus/pci/devices/%s", f->bdf);
	snprintf(target, sizeof(target), "../../../devices/%s/%s", f->parent ? f->parent : "pci0000:00", f->bdf);
	put_link(root, rel, target);
	if (f->driver) {
		snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s", f->driver);
		put_dir(root, rel);
		snprintf(rel, sizeof(rel), "%s/driver", dev);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", f->driver);
		put_link(root, rel, target);
	}
	if (f->group >= 0) {
		snprintf(rel, sizeof(rel), "%s/iommu_group", dev);
		snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", f->group);
		put_link(root, rel, target);
	}
}

static void add_platform(const char *root, const char *cpuinfo, const char *release)
{
	put(root, "proc/cpuinfo", "%s", cpuinfo);
	if (release)
		put(root, "proc/sys/kernel/osrelease", "%s\n", release);
	put(root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
	put_dir(root, "sys/bus/pci/devices");
}

static const char intel_cpuinfo[] =
	"processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 183\n"
	"model name\t: 13th Gen Intel(R) Core(TM) i9-13900K\n"
	"flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm\n\n"
	"processor\t: 1\nvendor_id\t: GenuineIntel\n";

static struct host *read_root(const char *root)
{
	struct inventory_options o = { .root = root };
	struct mt_error err = {};
	struct host *h = NULL;
	int r = inventory_read(&o, &h, &err);

	ck_assert_msg(r == 0, "inventory_read(%s): %s", root, mt_error_message(&err, r));
	return h;
}

static bool has_note(const struct host *h, const char *needle)
{
	for (size_t i = 0; i < h->n_notes; i++)
		if (strstr(h->notes[i], needle))
			return true;
	return false;
}

static const struct pci_function *find(const struct host *h, const char *bdf)
{
	const struct pci_function *f = host_find_function(h, bdf);

	ck_assert_msg(f, "no function %s", bdf);
	return f;
}

/* ----- /proc/cpuinfo ----------------------------------------------------- */

START_TEST(test_cpuinfo_parse)
{
	static const struct {
		const char *text;
		enum cpu_vendor vendor;
		bool pat, ss;
		unsigned family, model;
		const char *arch;
	} cases[] = {
		{ intel_cpuinfo, CPU_VENDOR_INTEL, true, true, 6, 183, "x86_64" },
		{ "vendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nflags\t\t: fpu pat sse sse2 lm ssbd\n",
		  CPU_VENDOR_AMD, true, false, 26, 2, "x86_64" },
		/* "ss" and "pat" only as whole words */
		{ "vendor_id\t: GenuineIntel\nflags\t\t: sse ssse3 pate patx ss_x\n", CPU_VENDOR_INTEL, false, false, 0, 0, "i686" },
		{ "vendor_id\t: GenuineIntel\nflags\t\t: pat\n", CPU_VENDOR_INTEL, true, false, 0, 0, "i686" },
		{ "vendor_id\t: HygonGenuine\nflags\t\t: ss lm\n", CPU_VENDOR_OTHER, false, true, 0, 0, "x86_64" },
		{ "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n",
		  CPU_VENDOR_ARM64, false, false, 0, 0, "aarch64" },
		/* only the first block counts */
		{ "vendor_id\t: AuthenticAMD\nflags\t\t: lm\n\nvendor_id\t: GenuineIntel\nflags\t\t: pat ss lm\n",
		  CPU_VENDOR_AMD, false, false, 0, 0, "x86_64" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct host_cpu cpu;
		char arch[16];

		ck_assert_int_eq(cpuinfo_parse(cases[i].text, &cpu, arch), 0);
		ck_assert_msg(cpu.vendor == cases[i].vendor, "case %zu: vendor %d", i, cpu.vendor);
		ck_assert_msg(cpu.pat == cases[i].pat && cpu.self_snoop == cases[i].ss, "case %zu: flags", i);
		ck_assert_uint_eq(cpu.family, cases[i].family);
		ck_assert_uint_eq(cpu.model, cases[i].model);
		ck_assert_str_eq(arch, cases[i].arch);
	}
	{
		struct host_cpu cpu;
		char arch[16];

		ck_assert_int_eq(cpuinfo_parse("", &cpu, arch), -EINVAL);
		ck_assert_int_eq(cpuinfo_parse("no colon here\n", &cpu, arch), -EINVAL);
	}
}
END_TEST

/* ----- a complete synthetic host ------------------------------------------ */

#define VTD_CAP "d2008c40660462"
#define VTD_ECAP_SC "f050da"       /* bit 7 set, bit 0 clear */
#define VTD_ECAP_NOSC "19e2ff0505e"  /* bit 7 clear, bit 0 clear */

static void build_intel_host(const char *root)
{
	const struct function_spec igpu = {
		.bdf = "0000:00:02.0", .driver = "i915", .group = 0,
		.cfg = { .vendor = 0x8086, .device = 0xa780, .class_code = 0x030000, .pcie = true, .nosnoop = true,
			 .msix_entries = 16, .msix_bir = 0, .msix_table = 0x2000, .msix_pba_bir = 0, .msix_pba = 0x3000 },
		.bars = { [0] = { 0x6000000000, 16 << 20, 0x140204 },
			  [2] = { 0x4000000000, 256 << 20, 0x14220c },
			  [4] = { 0x4000, 64, 0x40101 } },
	};
	const struct function_spec pf = {
		.bdf = "0000:3b:00.0", .driver = "ice", .group = 7,
		.cfg = { .vendor = 0x8086, .device = 0x1592, .class_code = 0x020000, .pcie = true,
			 .msix_entries = 1024, .msix_bir = 3, .msix_table = 0, .msix_pba_bir = 3, .msix_pba = 0x8000,
			 .sriov_total = 7, .sriov_num = 2 },
		.bars = { [0] = { 0xa0000000, 32 << 20, 0x14220c }, [3] = { 0xa2000000, 64 << 10, 0x14220c } },
	};
	struct function_spec vf = {
		.driver = "vfio-pci", .group = 8,
		.cfg = { .vendor = 0x8086, .device = 0x1889, .class_code = 0x020000, .pcie = true },
		.bars = { [0] = { 0xa4000000, 128 << 10, 0x14220c } },
	};

	add_platform(root, intel_cpuinfo, "6.12.117+deb12-amd64");
	add_function(root, &igpu);
	put(root, "sys/devices/pci0000:00/0000:00:02.0/resource2_wc", "%s", "");
	add_function(root, &pf);
	vf.bdf = "0000:3b:02.0";
	add_function(root, &vf);
	vf.bdf = "0000:3b:02.1";
	vf.group = 9;
	add_function(root, &vf);
	put_link(root, "sys/devices/pci0000:00/0000:3b:00.0/virtfn0", "../0000:3b:02.0");
	put_link(root, "sys/devices/pci0000:00/0000:3b:00.0/virtfn1", "../0000:3b:02.1");
	put_link(root, "sys/devices/pci0000:00/0000:3b:02.0/physfn", "../0000:3b:00.0");
	put_link(root, "sys/devices/pci0000:00/0000:3b:02.1/physfn", "../0000:3b:00.0");
	/* dmar0: the iGPU's unit, without snoop control; dmar1: the rest */
	put_link(root, "sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	put_link(root, "sys/class/iommu/dmar1", "../../devices/virtual/iommu/dmar1");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/cap", VTD_CAP "\n");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/ecap", VTD_ECAP_NOSC "\n");
	put(root, "sys/devices/virtual/iommu/dmar1/intel-iommu/cap", VTD_CAP "\n");
	put(root, "sys/devices/virtual/iommu/dmar1/intel-iommu/ecap", VTD_ECAP_SC "\n");
	put_link(root, "sys/devices/virtual/iommu/dmar0/devices/0000:00:02.0", "../../../../pci0000:00/0000:00:02.0");
	put_link(root, "sys/devices/pci0000:00/0000:00:02.0/iommu", "../../virtual/iommu/dmar0");
	/* dmar1 lists its devices; they have no iommu link: found through the list */
	put_link(root, "sys/devices/virtual/iommu/dmar1/devices/0000:3b:00.0", "../../../../pci0000:00/0000:3b:00.0");
	put_link(root, "sys/devices/virtual/iommu/dmar1/devices/0000:3b:02.0", "../../../../pci0000:00/0000:3b:02.0");
	put_link(root, "sys/devices/virtual/iommu/dmar1/devices/0000:3b:02.1", "../../../../pci0000:00/0000:3b:02.1");
	put_link(root, "sys/devices/virtual/iommu/dmar1/devices/dmar-platform", "../../../../platform/x");
	put(root, "sys/kernel/iommu_groups/0/type", "DMA\n");
	put(root, "sys/kernel/iommu_groups/7/type", "DMA-FQ\n");
	put(root, "sys/kernel/iommu_groups/8/type", "identity\n");
	put_dir(root, "sys/kernel/iommu_groups/9");  /* before 5.11: no type file */
	put(root, "sys/module/kvm_intel/parameters/ept", "Y\n");
	put(root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n");
	put(root, SNAPSHOT_FILE, "{\"schema\": \"memtype.snapshot/1\", \"kvm\": {\"present\": true, "
				 "\"supported_quirks\": 2047, \"future_key\": [1, 2]}, \"other\": {}}\n");
}

START_TEST(test_synthetic_intel_host)
{
	char *root = new_root();
	struct host *h;
	const struct pci_function *f;
	const struct iommu_unit *u;

	build_intel_host(root);
	h = read_root(root);
	ck_assert_msg(!h->partial, "partial: %s", h->n_notes ? h->notes[0] : "");
	ck_assert_str_eq(h->source, "sysfs");
	ck_assert_str_eq(h->arch, "x86_64");
	ck_assert_str_eq(h->kernel_release, "6.12.117+deb12-amd64");
	ck_assert_uint_eq(h->kernel.major, 6);
	ck_assert_uint_eq(h->kernel.minor, 12);
	ck_assert_int_eq(h->cpu.vendor, CPU_VENDOR_INTEL);
	ck_assert(h->cpu.pat && h->cpu.self_snoop);
	ck_assert_int_eq(h->kvm.present, MT_YES);
	ck_assert(h->kvm.quirks_known);
	ck_assert_uint_eq(h->kvm.supported_quirks, 0x7ff);
	ck_assert_str_eq(h->kvm.quirks_source, "snapshot");
	ck_assert_str_eq(h->kvm.module, "kvm_intel");
	ck_assert_int_eq(h->kvm.tdp, MT_YES);
	ck_assert(!h->vfio_noiommu && !h->amd_iommu_v2);

	ck_assert_uint_eq(h->n_iommu_units, 2);
	u = host_find_iommu_unit(h, "dmar0");
	ck_assert_ptr_nonnull(u);
	ck_assert_int_eq(u->kind, IOMMU_KIND_INTEL_VTD);
	ck_assert(u->regs_valid);
	ck_assert_uint_eq(u->cap, 0xd2008c40660462ULL);
	ck_assert(!u->snoop_control && !u->pagewalk_coherent);
	ck_assert_uint_eq(u->n_devices, 1);
	u = host_find_iommu_unit(h, "dmar1");
	ck_assert(u->snoop_control && !u->pagewalk_coherent);
	ck_assert_uint_eq(u->n_devices, 3);  /* the platform device is not a PCI function */
	ck_assert_str_eq(u->devices[0], "0000:3b:00.0");

	ck_assert_uint_eq(h->n_functions, 4);
	f = find(h, "00:02.0");
	ck_assert_uint_eq(f->vendor_id, 0x8086);
	ck_assert_uint_eq(f->device_id, 0xa780);
	ck_assert_uint_eq(f->class_code, 0x030000);
	ck_assert_uint_eq(f->revision, 1);
	ck_assert_str_eq(f->driver, "i915");
	ck_assert_int_eq(f->iommu_group, 0);
	ck_assert_str_eq(f->iommu_group_type, "DMA");
	ck_assert_str_eq(f->iommu_unit, "dmar0");
	ck_assert(f->is_pcie && !f->config_partial && f->sizes_known);
	ck_assert_int_eq(f->nosnoop_enabled, MT_YES);
	ck_assert(f->bars[0].present && !f->bars[0].prefetchable && f->bars[0].is_64bit);
	ck_assert_uint_eq(f->bars[0].start, 0x6000000000ULL);
	ck_assert_uint_eq(f->bars[0].size, 16 << 20);
	ck_assert(!f->bars[0].has_wc_file);
	ck_assert(f->bars[2].present && f->bars[2].prefetchable && f->bars[2].has_wc_file);
	ck_assert(!f->bars[1].present && !f->bars[3].present);
	ck_assert(f->bars[4].present && f->bars[4].is_io && f->bars[4].size == 64);
	ck_assert(f->has_msix);
	ck_assert_uint_eq(f->msix_table_size, 16);
	ck_assert_int_eq(f->msix_table_bar, 0);
	ck_assert_uint_eq(f->msix_table_offset, 0x2000);
	ck_assert_uint_eq(f->msix_pba_offset, 0x3000);
	ck_assert(!f->sriov_capable && !f->is_vf);

	f = find(h, "0000:3b:00.0");
	ck_assert_str_eq(f->iommu_unit, "dmar1");
	ck_assert_str_eq(f->iommu_group_type, "DMA-FQ");
	ck_assert_int_eq(f->nosnoop_enabled, MT_NO);
	ck_assert_uint_eq(f->msix_table_size, 1024);
	ck_assert_int_eq(f->msix_table_bar, 3);
	ck_assert_int_eq(f->msix_pba_bar, 3);
	ck_assert_uint_eq(f->msix_pba_offset, 0x8000);
	ck_assert(f->sriov_capable);
	ck_assert_uint_eq(f->sriov_total_vfs, 7);
	ck_assert_uint_eq(f->sriov_num_vfs, 2);
	ck_assert_uint_eq(f->n_virtfns, 2);
	ck_assert_str_eq(f->virtfns[1], "0000:3b:02.1");

	f = find(h, "0000:3b:02.1");
	ck_assert(f->is_vf);
	ck_assert_str_eq(f->physfn, "0000:3b:00.0");
	ck_assert_str_eq(f->iommu_unit, "dmar1");
	ck_assert_str_eq(f->driver, "vfio-pci");
	ck_assert_int_eq(f->iommu_group, 9);
	ck_assert_str_eq(f->iommu_group_type, "");
	ck_assert_str_eq(find(h, "0000:3b:02.0")->iommu_group_type, "identity");
	host_free(h);
	free_root(root);
}
END_TEST

START_TEST(test_host_json)
{
	char *root = new_root();
	struct json_object *j, *o, *dev;
	struct host *h;

	build_intel_host(root);
	h = read_root(root);
	ck_assert_int_eq(host_to_json(h, &j), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "schema")), "memtype.host/1");
	o = json_object_object_get(j, "kvm");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "supported_quirks")), "0x7ff");
	ck_assert_int_eq(json_object_array_length(json_object_object_get(o, "supported_quirk_names")), 11);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(json_object_object_get(o, "supported_quirk_names"), 9)),
			 "IGNORE_GUEST_PAT");
	o = json_object_array_get_idx(json_object_object_get(json_object_object_get(j, "iommu"), "units"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "ecap")), "0x" VTD_ECAP_NOSC);
	dev = json_object_array_get_idx(json_object_object_get(j, "devices"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(dev, "id")), "8086:a780");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(dev, "class")), "030000");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(dev, "iommu_unit")), "dmar0");
	ck_assert(json_object_get_boolean(json_object_object_get(dev, "nosnoop_enabled")));
	ck_assert(json_object_is_type(json_object_object_get(dev, "sriov"), json_type_null));
	o = json_object_array_get_idx(json_object_object_get(dev, "bars"), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "index")), 2);
	ck_assert_int_eq(json_object_get_int64(json_object_object_get(o, "size")), 256 << 20);
	ck_assert(json_object_get_boolean(json_object_object_get(o, "wc_file")));
	dev = json_object_array_get_idx(json_object_object_get(j, "devices"), 3);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(dev, "physfn")), "0000:3b:00.0");
	ck_assert(json_object_is_type(json_object_object_get(dev, "iommu_group_type"), json_type_null));
	json_object_put(j);
	host_free(h);
	free_root(root);
}
END_TEST

/* ----- memtype-snapshot.json ---------------------------------------------- */

START_TEST(test_snapshot_parse)
{
	static const struct {
		const char *text;
		int ret;
		enum mt_tristate present;
		bool known;
		uint64_t mask;
		const char *message;  /* substring of the error */
	} cases[] = {
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"present\":true,\"supported_quirks\":1535}}", 0, MT_YES, true, 0x5ff, NULL },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"present\":false}}", 0, MT_NO, false, 0, NULL },
		{ "{\"schema\":\"memtype.snapshot/1\"}", 0, MT_UNKNOWN, false, 0, NULL },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"supported_quirks\":0,\"x\":1}}", 0, MT_UNKNOWN, true, 0, NULL },
		{ "{\"schema\":\"memtype.snapshot/2\",\"kvm\":{}}", -EINVAL, 0, 0, 0, "key \"schema\"" },
		{ "{\"kvm\":{}}", -EINVAL, 0, 0, 0, "key \"schema\"" },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":[]}", -EINVAL, 0, 0, 0, "key \"kvm\"" },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"present\":\"yes\"}}", -EINVAL, 0, 0, 0, "kvm.present" },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"supported_quirks\":\"0x5ff\"}}", -EINVAL, 0, 0, 0, "kvm.supported_quirks" },
		{ "{\"schema\":\"memtype.snapshot/1\",\"kvm\":{\"supported_quirks\":-1}}", -ERANGE, 0, 0, 0, "kvm.supported_quirks" },
		{ "{\"schema\":\"memtype.snapshot/1\",", -EINVAL, 0, 0, 0, "not valid JSON" },
		{ "[1,2]", -EINVAL, 0, 0, 0, "expected a JSON object" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct host_kvm kvm = { .tdp = MT_YES };
		struct mt_error err = {};
		int r = snapshot_parse(cases[i].text, "snap.json", &kvm, &err);

		ck_assert_msg(r == cases[i].ret, "case %zu: %d", i, r);
		if (r < 0) {
			ck_assert_msg(strstr(err.message, "snap.json") && strstr(err.message, cases[i].message),
				      "case %zu: %s", i, err.message);
			continue;
		}
		ck_assert_int_eq(kvm.present, cases[i].present);
		ck_assert_int_eq(kvm.quirks_known, cases[i].known);
		ck_assert_uint_eq(kvm.supported_quirks, cases[i].mask);
		ck_assert_int_eq(kvm.tdp, MT_YES);  /* not the snapshot's business */
	}
}
END_TEST

START_TEST(test_snapshot_in_root)
{
	char *root = new_root();
	struct inventory_options o = { .root = root };
	struct mt_error err = {};
	struct host *h;
	char *text = NULL, *again = NULL;
	struct host_kvm kvm = { .present = MT_YES, .quirks_known = true, .supported_quirks = 0x5ff };
	struct host_kvm back = {};

	add_platform(root, intel_cpuinfo, "6.1.0-26-amd64");
	/* absent: unknown, never "no quirks" */
	h = read_root(root);
	ck_assert_int_eq(h->kvm.present, MT_UNKNOWN);
	ck_assert(!h->kvm.quirks_known);
	ck_assert_str_eq(h->kvm.quirks_source, "");
	ck_assert(has_note(h, "no memtype-snapshot.json"));
	host_free(h);
	/* malformed: an error naming the file */
	put(root, SNAPSHOT_FILE, "{\"schema\": \"memtype.snapshot/1\", \"kvm\": {\"present\": 1}}");
	ck_assert_int_eq(inventory_read(&o, &h, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, SNAPSHOT_FILE));
	ck_assert_ptr_nonnull(strstr(err.message, "kvm.present"));
	/* what the capture writes reads back the same */
	ck_assert_int_eq(snapshot_format(&kvm, &text), 0);
	ck_assert_int_eq(snapshot_parse(text, "x", &back, NULL), 0);
	ck_assert_int_eq(back.present, MT_YES);
	ck_assert_uint_eq(back.supported_quirks, 0x5ff);
	kvm = (struct host_kvm){ .present = MT_NO };
	ck_assert_int_eq(snapshot_format(&kvm, &again), 0);
	ck_assert_int_eq(snapshot_parse(again, "x", &back, NULL), 0);
	ck_assert_int_eq(back.present, MT_NO);
	ck_assert(!back.quirks_known);
	free(text);
	free(again);
	free_root(root);
}
END_TEST

/* ----- partial and malformed trees --------------------------------------- */

static const struct function_spec plain_gpu = {
	.bdf = "0000:01:00.0", .group = -1,
	.cfg = { .vendor = 0x10de, .device = 0x2204, .class_code = 0x030000, .pcie = true, .nosnoop = true,
		 .msix_entries = 4, .sriov_total = 4 },
	.bars = { [1] = { 0x4000000000, 1ULL << 34, 0x14220c } },
};

START_TEST(test_config_64_bytes)
{
	char *root = new_root();
	struct function_spec spec = plain_gpu;
	const struct pci_function *f;
	struct mt_error err = {};
	struct host *h;

	add_platform(root, intel_cpuinfo, "6.12.1");
	spec.config_len = 64;
	add_function(root, &spec);
	spec.bdf = "0000:02:00.0";
	add_function(root, &spec);
	h = read_root(root);
	ck_assert(h->partial);
	ck_assert_uint_eq(h->n_functions, 2);
	f = find(h, "01:00.0");
	ck_assert(f->config_partial);
	ck_assert_int_eq(f->nosnoop_enabled, MT_UNKNOWN);
	ck_assert(!f->has_msix && !f->sriov_capable && !f->is_pcie);
	ck_assert_uint_eq(f->vendor_id, 0x10de);
	ck_assert(f->sizes_known && f->bars[1].present);
	ck_assert(has_note(h, "config space of 0000:01:00.0 and 1 other functions is 64 bytes: read without CAP_SYS_ADMIN, no PCIe/MSI-X/SR-IOV data"));
	/* a partial inventory is never written as a capture */
	ck_assert_int_eq(capture_check_host(h, &err), -EPERM);
	ck_assert_ptr_nonnull(strstr(err.message, "64 bytes"));
	ck_assert_ptr_nonnull(strstr(err.message, "CAP_SYS_ADMIN"));
	host_free(h);
	free_root(root);
}
END_TEST

/* Each case breaks one thing of a good tree; the read must give an error or
 * a partial host with a note, never a crash. */
struct malformed_case {
	const char *name;
	void (*breaker)(const char *root);
	int ret;                       /* expected inventory_read() result */
	const char *note;              /* note or error substring */
	bool partial;
	bool function_kept;
};

static void break_config_truncated(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/0000:01:00.0/config", root);
	ck_assert_int_eq(truncate(path, 30), 0);
}

static void break_resource(const char *root)
{
	put(root, "sys/devices/pci0000:00/0000:01:00.0/resource",
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\nthis is not a resource line\n");
}

static void break_resource_reversed(const char *root)
{
	put(root, "sys/devices/pci0000:00/0000:01:00.0/resource",
	    "0x0000000000002000 0x0000000000001000 0x0000000000040200\n");
}

static void break_ecap(const char *root)
{
	put_link(root, "sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/cap", "d2008c40660462\n");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/ecap", "zz-not-hex\n");
}

static void break_device_link(const char *root)
{
	put_link(root, "sys/bus/pci/devices/0000:05:00.0", "../../../devices/pci0000:00/0000:05:00.0");
}

static void break_driver_link(const char *root)
{
	put_link(root, "sys/devices/pci0000:00/0000:01:00.0/driver", "../../../bus/pci/drivers/gone");
	put_link(root, "sys/devices/pci0000:00/0000:01:00.0/iommu_group", "../../../kernel/iommu_groups/42");
}

static void break_osrelease(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
	unlink(path);
}

static void break_vendor(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/devices/pci0000:00/0000:01:00.0/vendor", root);
	unlink(path);
}

static void break_entry_name(const char *root)
{
	put_dir(root, "sys/bus/pci/devices/not-a-device");
}

static void break_root(const char *root)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root);
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void break_cpuinfo(const char *root)
{
	put(root, "proc/cpuinfo", "%s", "\n\n");
}

static void break_virtfn(const char *root)
{
	struct config_spec cfg = plain_gpu.cfg;
	uint8_t config[4096];

	/* NumVFs says 2 and there are no virtfn links */
	cfg.sriov_num = 2;
	config_build(&cfg, config);
	put_bytes(root, "sys/devices/pci0000:00/0000:01:00.0/config", config, sizeof(config));
}

static const struct malformed_case malformed_cases[] = {
	{ "truncated config", break_config_truncated, 0, "is shorter than 64 bytes (truncated)", true, true },
	{ "garbage resource", break_resource, 0, "resource line 2 is not", true, true },
	{ "reversed resource", break_resource_reversed, 0, "resource line 1 is not", true, true },
	{ "garbage ecap", break_ecap, 0, "IOMMU unit dmar0: intel-iommu/ecap: not a hex register value", true, true },
	{ "broken device link", break_device_link, 0, "0000:05:00.0: broken link", true, true },
	{ "broken driver/group links", break_driver_link, 0, "0000:01:00.0: its iommu_group link is broken", true, true },
	{ "missing osrelease", break_osrelease, 0, "osrelease", true, true },
	{ "missing vendor", break_vendor, 0, "0000:01:00.0: cannot read its vendor file: No such file", true, false },
	{ "bad entry name", break_entry_name, 0, "not-a-device is not a PCI address", true, true },
	{ "no cpuinfo entries", break_cpuinfo, 0, "has no processor entries", true, true },
	{ "missing virtfn links", break_virtfn, 0, "NumVFs is 2 but virtfn0 is missing", false, true },
	{ "not a host root", break_root, -ENOENT, "is not a host root: no sys/bus/pci/devices", false, false },
};

START_TEST(test_malformed)
{
	const struct malformed_case *c = &malformed_cases[_i];
	char *root = new_root();
	struct inventory_options o = { .root = root };
	struct function_spec spec = plain_gpu;
	struct mt_error err = {};
	struct host *h = NULL;
	int r;

	add_platform(root, intel_cpuinfo, "6.12.1");
	add_function(root, &spec);
	c->breaker(root);
	r = inventory_read(&o, &h, &err);
	ck_assert_msg(r == c->ret, "%s: %d (%s)", c->name, r, err.message);
	if (r < 0) {
		ck_assert_msg(strstr(err.message, c->note), "%s: %s", c->name, err.message);
		ck_assert_ptr_null(h);
		free_root(root);
		return;
	}
	if (c->note) {
		ck_assert_msg(has_note(h, c->note), "%s: no note \"%s\" (first: %s)", c->name, c->note,
			      h->n_notes ? h->notes[0] : "none");
	}
	ck_assert_msg(h->partial == c->partial, "%s: partial is %d", c->name, h->partial);
	ck_assert_int_eq(host_find_function(h, "0000:01:00.0") != NULL, c->function_kept);
	host_free(h);
	free_root(root);
}
END_TEST

START_TEST(test_malformed_details)
{
	char *root = new_root();
	struct function_spec spec = plain_gpu;
	const struct pci_function *f;
	struct host *h;

	add_platform(root, intel_cpuinfo, "6.12.1");
	add_function(root, &spec);
	break_resource(root);
	break_ecap(root);
	break_driver_link(root);
	h = read_root(root);
	f = find(h, "0000:01:00.0");
	ck_assert(!f->sizes_known);
	ck_assert(!f->bars[1].present);
	/* broken links: no driver, no group, not a crash, and said so */
	ck_assert_str_eq(f->driver, "");
	ck_assert_int_eq(f->iommu_group, -1);
	ck_assert(has_note(h, "0000:01:00.0: its driver link is broken: driver unknown"));
	ck_assert(has_note(h, "0000:01:00.0: its iommu_group link is broken: iommu_group unknown"));
	ck_assert(has_note(h, "IOMMU unit dmar0: intel-iommu/ecap: not a hex register value"));
	ck_assert_uint_eq(h->n_iommu_units, 1);
	ck_assert(!h->iommu_units[0].regs_valid);
	ck_assert(!h->iommu_units[0].snoop_control);
	host_free(h);
	free_root(root);
}
END_TEST

START_TEST(test_resource_line_parse)
{
	static const struct {
		const char *line;
		int ret;
		bool present, io, prefetch, is64;
		uint64_t size;
	} cases[] = {
		{ "0x0000006000000000 0x0000006000ffffff 0x0000000000140204", 0, true, false, false, true, 16 << 20 },
		{ "0x000000000000e000 0x000000000000e03f 0x0000000000040101", 0, true, true, false, false, 64 },
		{ "0x0000004000000000 0x00000043ffffffff 0x000000000014220c", 0, true, false, true, true, 1ULL << 34 },
		{ "0x0000000000000000 0x0000000000000000 0x0000000000000000", 0, false, false, false, false, 0 },
		{ "0x0000000000000000 0x0000000000000000", -EINVAL, false, false, false, false, 0 },
		{ "0x1000 0x1fff 0x200 trailing", -EINVAL, false, false, false, false, 0 },
		{ "0x2000 0x1000 0x200", -EINVAL, false, false, false, false, 0 },
		{ "", -EINVAL, false, false, false, false, 0 },
		/* found by fuzzing: a number beyond 64 bits (sscanf's undefined
		 * behaviour), and a range whose size wraps to 0 */
		{ "0x0 0x99999999999999999999 0x200", -EINVAL, false, false, false, false, 0 },
		{ "0x0000000000000000 0xffffffffffffffff 0x0000000000000200", -EINVAL, false, false, false, false, 0 },
		{ "0x1000 -0x1 0x200", -EINVAL, false, false, false, false, 0 },
		{ "1000 1fff 200", 0, true, false, false, false, 4096 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct pci_bar b;

		ck_assert_msg(resource_line_parse(cases[i].line, &b) == cases[i].ret, "case %zu", i);
		if (cases[i].ret < 0)
			continue;
		ck_assert_msg(b.present == cases[i].present && b.is_io == cases[i].io &&
				      b.prefetchable == cases[i].prefetch && b.is_64bit == cases[i].is64,
			      "case %zu", i);
		ck_assert_uint_eq(b.size, cases[i].size);
	}
}
END_TEST

START_TEST(test_boot_options)
{
	char *root = new_root();
	struct host *h;

	add_platform(root, intel_cpuinfo, "6.12.1");
	put(root, "proc/cmdline", "root=/dev/sda xamd_iommu=pgtbl_v2 amd_iommu=force_isolation,pgtbl_v2 quiet\n");
	put(root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	put(root, "sys/module/kvm_amd/parameters/npt", "0\n");
	h = read_root(root);
	ck_assert(h->amd_iommu_v2);
	ck_assert(h->vfio_noiommu);
	ck_assert_str_eq(h->kvm.module, "kvm_amd");
	ck_assert_int_eq(h->kvm.tdp, MT_NO);
	host_free(h);
	put(root, "proc/cmdline", "root=/dev/sda xamd_iommu=pgtbl_v2 amd_iommu=pgtbl_v2x\n");
	h = read_root(root);
	ck_assert(!h->amd_iommu_v2);
	host_free(h);
	free_root(root);
}
END_TEST

/* ----- lspci dumps ---------------------------------------------------------- */

static void write_dump(FILE *f, const char *header, const uint8_t *cfg, size_t len)
{
	fprintf(f, "%s\n", header);
	for (size_t row = 0; row < len; row += 16) {
		fprintf(f, "%02zx:", row);
		for (size_t i = 0; i < 16; i++)
			fprintf(f, " %02x", cfg[row + i]);
		fprintf(f, "\n");
	}
	fprintf(f, "\n");
}

START_TEST(test_lspci_dump)
{
	char *root = new_root();
	char dump[PATH_MAX];
	struct config_spec gpu = plain_gpu.cfg;
	struct config_spec nic = { .vendor = 0x8086, .device = 0x1572, .class_code = 0x020000, .pcie = true };
	struct inventory_options o = { .lspci_dump = dump };
	uint8_t cfg[4096];
	const struct pci_function *f;
	struct mt_error err = {};
	struct host *h = NULL;
	FILE *out;

	snprintf(dump, sizeof(dump), "%s/dump.txt", root);
	out = fopen(dump, "w");
	ck_assert_ptr_nonnull(out);
	config_build(&gpu, cfg);
	/* BAR1: 64-bit prefetchable memory at 0x4000000000 (BAR2 holds the high half) */
	cfg[0x14] = 0x0c, cfg[0x18] = 0x40;
	write_dump(out, "01:00.0 VGA compatible controller: NVIDIA Corporation Device 2204", cfg, 4096);
	config_build(&nic, cfg);
	cfg[0x10] = 0x01, cfg[0x11] = 0xe0;  /* I/O BAR at 0xe000 */
	write_dump(out, "0000:00:19.0 Ethernet controller: Intel Corporation Device 1572", cfg, 64);
	/* a function cut after 16 bytes: sorted first, skipped, reported */
	write_dump(out, "0000:00:01.0 Host bridge: Intel Corporation Device 0001", cfg, 16);
	fclose(out);

	ck_assert_int_eq(inventory_read(&o, &h, &err), 0);
	ck_assert_str_eq(h->source, "lspci-dump");
	ck_assert_uint_eq(h->n_functions, 2);
	ck_assert_str_eq(h->functions[0].bdf, "0000:00:19.0");
	f = find(h, "0000:01:00.0");
	ck_assert_uint_eq(f->vendor_id, 0x10de);
	ck_assert_uint_eq(f->class_code, 0x030000);
	ck_assert(!f->sizes_known && !f->config_partial);
	ck_assert_int_eq(f->nosnoop_enabled, MT_YES);
	ck_assert(f->has_msix && f->msix_table_size == 4);
	ck_assert(f->sriov_capable && f->sriov_total_vfs == 4);
	ck_assert(f->bars[1].present && f->bars[1].prefetchable && f->bars[1].is_64bit);
	ck_assert_uint_eq(f->bars[1].start, 0x4000000000ULL);
	ck_assert(!f->bars[2].present);
	ck_assert_str_eq(f->driver, "");
	ck_assert_int_eq(f->iommu_group, -1);
	f = find(h, "0000:00:19.0");
	ck_assert(f->config_partial);
	ck_assert(f->bars[0].present && f->bars[0].is_io && f->bars[0].start == 0xe000);
	ck_assert(has_note(h, "lspci dump"));
	ck_assert(has_note(h, "no BAR sizes, kernel driver, IOMMU group"));
	ck_assert(has_note(h, "config space of 0000:00:19.0 is 64 bytes: the dump holds only the header"));
	ck_assert(has_note(h, "without a host root"));
	ck_assert(has_note(h, "config space of 0000:00:01.0 is shorter than 64 bytes (truncated)"));
	ck_assert(h->partial);
	host_free(h);

	/* malformed and missing dumps: libpci's errors come back as ours */
	out = fopen(dump, "w");
	fprintf(out, "00:02.0 VGA\n00: 86 80 zz\n");
	fclose(out);
	h = NULL;
	err = (struct mt_error){};
	ck_assert_int_eq(inventory_read(&o, &h, &err), -EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "Malformed line"));
	ck_assert_ptr_null(h);
	out = fopen(dump, "w");
	fclose(out);
	err = (struct mt_error){};
	ck_assert_int_eq(inventory_read(&o, &h, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.message, "no PCI functions"));
	snprintf(dump, sizeof(dump), "%s/missing.txt", root);
	err = (struct mt_error){};
	ck_assert_int_eq(inventory_read(&o, &h, &err), -EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "missing.txt"));
	free_root(root);
}
END_TEST

/* Addresses an lspci dump may hold that are no PCI function: libpci takes
 * any two hex digits for the device and any digit for the function. Found
 * by fuzzing: a dump whose only function has no config data read as a host
 * without functions. */
START_TEST(test_lspci_dump_addresses)
{
	char *root = new_root();
	char dump[PATH_MAX];
	struct config_spec nvme = { .vendor = 0x144d, .device = 0xa80a, .class_code = 0x010802, .pcie = true };
	struct inventory_options o = { .lspci_dump = dump };
	uint8_t cfg[4096];
	struct mt_error err = {};
	struct host *h = NULL;
	FILE *out;

	snprintf(dump, sizeof(dump), "%s/dump.txt", root);
	out = fopen(dump, "w");
	ck_assert_ptr_nonnull(out);
	config_build(&nvme, cfg);
	write_dump(out, "10000:e1:00.0 Non-Volatile memory controller: Samsung", cfg, 256);
	write_dump(out, "1000:01:00.0 Non-Volatile memory controller: Samsung", cfg, 256);
	write_dump(out, "0000:00:20.0 Non-Volatile memory controller: Samsung", cfg, 256);
	write_dump(out, "0000:00:1f.9 Non-Volatile memory controller: Samsung", cfg, 256);
	write_dump(out, "10000:e1:00.0 Non-Volatile memory controller: Samsung", cfg, 256);
	fclose(out);
	ck_assert_int_eq(inventory_read(&o, &h, &err), 0);
	/* in the strcmp() order the policy engine bisects in */
	ck_assert_uint_eq(h->n_functions, 2);
	ck_assert_str_eq(h->functions[0].bdf, "10000:e1:00.0");
	ck_assert_str_eq(h->functions[1].bdf, "1000:01:00.0");
	ck_assert_uint_eq(find(h, "10000:e1:00.0")->class_code, 0x010802);
	ck_assert(has_note(h, "0000:00:20.0 is not a PCI address"));
	ck_assert(has_note(h, "0000:00:1f.9 is not a PCI address"));
	ck_assert(has_note(h, "10000:e1:00.0 is there twice"));
	ck_assert(h->partial);
	host_free(h);

	/* a header line, then lspci -vvv text instead of config bytes */
	out = fopen(dump, "w");
	ck_assert_ptr_nonnull(out);
	fprintf(out, "00:1c.3 PCI bridge: Intel Corporation 82801G\n\tControl: I/O+ Mem+\n\n");
	fclose(out);
	h = NULL;
	ck_assert_int_eq(inventory_read(&o, &h, &err), -EINVAL);
	ck_assert_ptr_null(h);
	ck_assert_ptr_nonnull(strstr(err.message, "no PCI functions with a config space header"));
	free_root(root);
}
END_TEST

/* Intel VMD puts the NVMe drives behind it in PCI domains from 0x10000. */
START_TEST(test_vmd_domain_root)
{
	static const char vmd_bus[] = "pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0";
	const struct function_spec vmd = {
		.bdf = "0000:00:0e.0", .driver = "vmd", .group = 3,
		.cfg = { .vendor = 0x8086, .device = 0x467f, .class_code = 0x010400, .pcie = true },
		.bars = { [0] = { 0x6000000000, 32 << 20, 0x14220c } },
	};
	/* add_function() links drivers and groups for devices right under
	 * pci0000:00: the ones deeper get theirs below */
	const struct function_spec port = {
		.bdf = "10000:e0:06.0", .parent = "pci0000:00/0000:00:0e.0/pci10000:e0", .group = -1,
		.cfg = { .vendor = 0x8086, .device = 0x464d, .class_code = 0x060400, .pcie = true },
	};
	const struct function_spec nvme = {
		.bdf = "10000:e1:00.0", .parent = vmd_bus, .group = -1,
		.cfg = { .vendor = 0x144d, .device = 0xa80a, .class_code = 0x010802, .pcie = true,
			 .msix_entries = 8, .msix_bir = 0, .msix_table = 0x3000, .msix_pba = 0x2000 },
		.bars = { [0] = { 0x6002000000, 16 << 10, 0x140204 } },
	};
	char *root = new_root();
	const struct pci_function *f;
	struct host *h;

	add_platform(root, intel_cpuinfo, "6.12.1");
	add_function(root, &vmd);
	add_function(root, &port);
	add_function(root, &nvme);
	put(root, "sys/kernel/iommu_groups/3/type", "DMA\n");
	put_dir(root, "sys/bus/pci/drivers/pcieport");
	put_dir(root, "sys/bus/pci/drivers/nvme");
	put_link(root, "sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/iommu_group",
		 "../../../../../kernel/iommu_groups/3");
	put_link(root, "sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/driver",
		 "../../../../../bus/pci/drivers/pcieport");
	put_link(root, "sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0/iommu_group",
		 "../../../../../../kernel/iommu_groups/3");
	put_link(root, "sys/devices/pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0/driver",
		 "../../../../../../bus/pci/drivers/nvme");
	put_link(root, "sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/cap", VTD_CAP "\n");
	put(root, "sys/devices/virtual/iommu/dmar0/intel-iommu/ecap", VTD_ECAP_SC "\n");
	put_link(root, "sys/devices/virtual/iommu/dmar0/devices/10000:e1:00.0",
		 "../../../../pci0000:00/0000:00:0e.0/pci10000:e0/10000:e0:06.0/10000:e1:00.0");
	h = read_root(root);
	ck_assert_msg(!h->partial, "partial: %s", h->n_notes ? h->notes[0] : "");
	ck_assert_uint_eq(h->n_functions, 3);
	/* sorted by BDF string */
	ck_assert_str_eq(h->functions[0].bdf, "0000:00:0e.0");
	ck_assert_str_eq(h->functions[1].bdf, "10000:e0:06.0");
	ck_assert_str_eq(h->functions[2].bdf, "10000:e1:00.0");
	f = find(h, "10000:e1:00.0");
	ck_assert_uint_eq(f->vendor_id, 0x144d);
	ck_assert_str_eq(f->driver, "nvme");
	ck_assert_int_eq(f->iommu_group, 3);
	ck_assert_str_eq(f->iommu_unit, "dmar0");
	ck_assert(f->has_msix && f->msix_table_size == 8);
	ck_assert(f->bars[0].present && f->bars[0].size == 16 << 10);
	ck_assert_ptr_eq(host_find_function(h, "10000:E1:00.0"), f);
	host_free(h);
	free_root(root);
}
END_TEST

/* ----- the live host and its captures -------------------------------------- */

/* The host's JSON without what legitimately differs between a live read
 * and a read of its capture. */
static char *comparable_json(const struct host *h)
{
	struct json_object *j;
	char *s;

	ck_assert_int_eq(host_to_json(h, &j), 0);
	json_object_object_del(j, "root");
	json_object_object_del(json_object_object_get(j, "kvm"), "quirks_source");
	s = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY));
	json_object_put(j);
	return s;
}

static char *run_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	ck_assert_ptr_nonnull(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, mem);
	pclose(p);
	fclose(mem);
	return buf;
}

START_TEST(test_capture_round_trip)
{
	struct inventory_options live = { .root = "/", .probe_kvm = true };
	char *root, *dir, *a, *b;
	struct host *h1, *h2;
	struct mt_error err = {};

	if (geteuid() != 0 || access("/sys/bus/pci/devices", F_OK) < 0) {
		fprintf(stderr, "test_capture_round_trip: skipped: needs root and a live sysfs\n");
		return;
	}
	root = new_root();
	ck_assert_int_gt(asprintf(&dir, "%s/capture", root), 0);
	ck_assert_msg(inventory_capture(dir, &err) == 0, "capture: %s", err.message);
	ck_assert_int_eq(inventory_read(&live, &h1, &err), 0);
	h2 = read_root(dir);
	ck_assert_str_eq(h2->kvm.quirks_source, h1->kvm.quirks_known ? "snapshot" : "");
	a = comparable_json(h1);
	b = comparable_json(h2);
	ck_assert_str_eq(a, b);
	ck_assert_uint_gt(h2->n_functions, 0);
	/* a second capture into the same, now non-empty, directory is refused */
	err = (struct mt_error){};
	ck_assert_int_eq(inventory_capture(dir, &err), -EEXIST);
	ck_assert_ptr_nonnull(strstr(err.message, "not empty"));
	/* lspci reads the capture as it reads the machine */
	if (system("lspci --version >/dev/null 2>&1") == 0) {
		char *cmd, *live_out, *cap_out;

		ck_assert_int_gt(asprintf(&cmd, "lspci -vvv -A linux-sysfs -O sysfs.path=%s/sys/bus/pci 2>/dev/null", dir), 0);
		live_out = run_output("lspci -vvv 2>/dev/null");
		cap_out = run_output(cmd);
		ck_assert_str_eq(live_out, cap_out);
		free(cmd);
		free(live_out);
		free(cap_out);
	}
	free(a);
	free(b);
	host_free(h1);
	host_free(h2);
	free(dir);
	free_root(root);
}
END_TEST

START_TEST(test_capture_refuses_bad_dirs)
{
	char *root = new_root();
	struct mt_error err = {};
	struct host h = { .partial = false };
	char path[PATH_MAX];

	/* a dump-made host is not a sysfs tree */
	snprintf(h.source, sizeof(h.source), "lspci-dump");
	ck_assert_int_eq(capture_check_host(&h, &err), -EPERM);
	snprintf(h.source, sizeof(h.source), "sysfs");
	ck_assert_int_eq(capture_check_host(&h, NULL), 0);
	snprintf(path, sizeof(path), "%s/x", root);
	put(root, "x", "a file");
	err = (struct mt_error){};
	ck_assert_int_lt(capture_write(&h, path, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.message, path));
	free_root(root);
}
END_TEST

/* tests/roots/this-machine: the development VM, captured with
 * inventory_capture() (FACTS §10). */
START_TEST(test_this_machine_root)
{
	char root[PATH_MAX];
	struct host *h;
	size_t virtio = 0;

	snprintf(root, sizeof(root), "%s/roots/this-machine", MT_TEST_DIR);
	h = read_root(root);
	ck_assert(!h->partial);
	ck_assert_int_eq(h->cpu.vendor, CPU_VENDOR_AMD);
	ck_assert_str_eq(h->cpu.model_name, "AMD EPYC");
	ck_assert(h->cpu.pat);
	ck_assert_str_eq(h->arch, "x86_64");
	ck_assert_uint_eq(h->kernel.major, 6);
	ck_assert_uint_eq(h->kernel.minor, 18);
	ck_assert_int_eq(h->kvm.present, MT_YES);
	ck_assert(h->kvm.quirks_known);
	ck_assert_uint_eq(h->kvm.supported_quirks, 0x5ff);
	ck_assert_str_eq(h->kvm.module, "kvm_pvm");
	ck_assert_int_eq(h->kvm.tdp, MT_NO);
	ck_assert_uint_eq(h->n_iommu_units, 0);
	ck_assert_uint_eq(h->n_functions, 6);
	for (size_t i = 0; i < h->n_functions; i++) {
		const struct pci_function *f = &h->functions[i];

		ck_assert(!f->config_partial && f->sizes_known);
		ck_assert_int_eq(f->iommu_group, -1);
		ck_assert_str_eq(f->iommu_unit, "");
		if (f->vendor_id != 0x1af4)
			continue;
		virtio++;
		ck_assert_msg((f->device_id & 0xff00) == 0x1000, "%s: %04x", f->bdf, f->device_id);
		ck_assert_str_eq(f->driver, "virtio-pci");
		ck_assert(f->has_msix && f->msix_table_bar == 0);
		ck_assert(f->bars[0].present && !f->bars[0].prefetchable && f->bars[0].size == 512 * 1024);
	}
	ck_assert_uint_eq(virtio, 5);
	ck_assert_uint_eq(find(h, "0000:00:00.0")->vendor_id, 0x8086);  /* host bridge */
	ck_assert_uint_eq(find(h, "0000:00:03.0")->class_code, 0x020000);
	host_free(h);
}
END_TEST

/* ----- the committed fixture roots (tests/roots/NAME.desc, tests/mkroot) -- */

static struct host *read_fixture(const char *name)
{
	char root[PATH_MAX];

	snprintf(root, sizeof(root), "%s/roots/%s", MT_TEST_DIR, name);
	return read_root(root);
}

START_TEST(test_fixture_intel_client)
{
	struct host *h = read_fixture("intel-client");
	const struct pci_function *f;

	ck_assert_msg(!h->partial, "%s", h->n_notes ? h->notes[0] : "");
	ck_assert_int_eq(h->cpu.vendor, CPU_VENDOR_INTEL);
	ck_assert(h->cpu.pat && h->cpu.self_snoop);
	ck_assert_uint_eq(h->cpu.model, 183);
	ck_assert_str_eq(h->kernel_release, "6.12.117+deb12-amd64");
	ck_assert_uint_eq(h->kvm.supported_quirks, 0x7ff);
	ck_assert_str_eq(h->kvm.module, "kvm_intel");
	ck_assert_int_eq(h->kvm.tdp, MT_YES);
	ck_assert_uint_eq(h->n_iommu_units, 2);
	/* the graphics unit lacks Snoop Control, the other has it */
	ck_assert(!host_find_iommu_unit(h, "dmar0")->snoop_control);
	ck_assert(host_find_iommu_unit(h, "dmar1")->snoop_control);
	ck_assert_uint_eq(host_find_iommu_unit(h, "dmar0")->n_devices, 1);
	ck_assert_uint_eq(h->n_functions, 11);

	f = find(h, "0000:00:02.0");
	ck_assert_str_eq(f->driver, "i915");
	ck_assert_str_eq(f->iommu_unit, "dmar0");
	ck_assert_int_eq(f->iommu_group, 0);
	ck_assert_str_eq(f->iommu_group_type, "DMA");
	ck_assert_int_eq(f->nosnoop_enabled, MT_YES);
	ck_assert(f->bars[2].present && f->bars[2].prefetchable && f->bars[2].has_wc_file);
	ck_assert_uint_eq(f->bars[2].size, 256 << 20);
	ck_assert(f->bars[4].is_io && f->bars[4].size == 64);

	f = find(h, "0000:01:00.0");
	ck_assert_uint_eq(f->vendor_id, 0x10de);
	ck_assert_str_eq(f->driver, "vfio-pci");
	ck_assert_str_eq(f->iommu_unit, "dmar1");
	ck_assert_str_eq(f->iommu_group_type, "DMA-FQ");
	ck_assert(f->bars[1].prefetchable && f->bars[1].is_64bit && f->bars[1].has_wc_file);
	ck_assert_uint_eq(f->bars[1].size, 16ULL << 30);
	ck_assert(!f->bars[0].prefetchable && !f->bars[0].has_wc_file);
	ck_assert(f->has_msix);
	ck_assert_uint_eq(f->msix_table_size, 9);
	ck_assert_uint_eq(f->msix_table_offset, 0xb90000);
	ck_assert_uint_eq(f->msix_pba_offset, 0xba0000);
	ck_assert_int_eq(f->nosnoop_enabled, MT_YES);
	/* its driver cleared No-Snoop */
	ck_assert_int_eq(find(h, "0000:02:00.0")->nosnoop_enabled, MT_NO);
	ck_assert_int_eq(find(h, "0000:02:00.0")->msix_table_size, 130);
	host_free(h);
}
END_TEST

START_TEST(test_fixture_intel_server_sriov)
{
	struct host *h = read_fixture("intel-server-sriov");
	const struct pci_function *pf, *vf;

	ck_assert(!h->partial);
	ck_assert_str_eq(h->kernel_release, "6.1.0-28-amd64");
	ck_assert_uint_eq(h->kvm.supported_quirks, 0x7f);
	ck_assert_uint_eq(h->n_iommu_units, 3);
	for (size_t i = 0; i < h->n_iommu_units; i++)
		ck_assert(h->iommu_units[i].kind == IOMMU_KIND_INTEL_VTD && h->iommu_units[i].snoop_control);
	ck_assert_uint_eq(h->n_functions, 10);
	pf = find(h, "0000:17:00.0");
	ck_assert(pf->sriov_capable && !pf->is_vf);
	ck_assert_uint_eq(pf->sriov_total_vfs, 64);
	ck_assert_uint_eq(pf->sriov_num_vfs, 4);
	ck_assert_uint_eq(pf->n_virtfns, 4);
	ck_assert_str_eq(pf->virtfns[0], "0000:17:02.0");
	ck_assert_str_eq(pf->virtfns[3], "0000:17:02.3");
	ck_assert_int_eq(pf->msix_table_bar, 3);
	ck_assert_uint_eq(find(h, "0000:17:00.1")->n_virtfns, 0);
	vf = find(h, "0000:17:02.0");
	ck_assert(vf->is_vf && !vf->sriov_capable);
	ck_assert_str_eq(vf->physfn, "0000:17:00.0");
	ck_assert_str_eq(vf->driver, "vfio-pci");
	ck_assert_str_eq(vf->iommu_unit, "dmar0");
	ck_assert_int_ne(vf->iommu_group, pf->iommu_group);
	ck_assert_str_eq(find(h, "0000:17:02.1")->driver, "iavf");
	ck_assert_uint_eq(vf->device_id, 0x154c);
	host_free(h);
}
END_TEST

START_TEST(test_fixture_amd_epyc_gpu)
{
	struct host *h = read_fixture("amd-epyc-gpu");
	const struct pci_function *gpu;

	ck_assert_msg(!h->partial, "%s", h->n_notes ? h->notes[0] : "");
	ck_assert_int_eq(h->cpu.vendor, CPU_VENDOR_AMD);
	ck_assert(h->cpu.pat);
	ck_assert_str_eq(h->kvm.module, "kvm_amd");
	ck_assert_int_eq(h->kvm.tdp, MT_YES);
	ck_assert_uint_eq(h->n_iommu_units, 2);
	for (size_t i = 0; i < h->n_iommu_units; i++) {
		ck_assert_int_eq(h->iommu_units[i].kind, IOMMU_KIND_AMD_VI);
		ck_assert(h->iommu_units[i].snoop_control && h->iommu_units[i].regs_valid);
	}
	ck_assert_uint_eq(host_find_iommu_unit(h, "ivhd0")->cap, 0x190b640f);
	ck_assert_uint_eq(h->n_functions, 13);
	gpu = find(h, "0000:03:00.0");
	ck_assert_str_eq(gpu->driver, "amdgpu");
	ck_assert_str_eq(gpu->iommu_unit, "ivhd0");
	ck_assert(gpu->bars[0].prefetchable && gpu->bars[0].size == 32ULL << 30);
	ck_assert(!gpu->bars[5].prefetchable && gpu->bars[5].size == 1 << 20);
	ck_assert_int_eq(gpu->msix_table_bar, 5);
	ck_assert_uint_eq(gpu->msix_table_offset, 0x42000);
	ck_assert_int_eq(gpu->nosnoop_enabled, MT_YES);
	ck_assert_str_eq(find(h, "0000:41:00.1")->iommu_unit, "ivhd1");
	/* the IOMMU's own function is in no group */
	ck_assert_int_eq(find(h, "0000:00:00.2")->iommu_group, -1);
	host_free(h);
}
END_TEST

START_TEST(test_fixture_no_iommu)
{
	struct host *h = read_fixture("no-iommu");
	size_t nosnoop = 0;

	ck_assert(!h->partial);
	ck_assert_uint_eq(h->n_iommu_units, 0);
	ck_assert(!h->vfio_noiommu);
	ck_assert_uint_eq(h->n_functions, 6);
	for (size_t i = 0; i < h->n_functions; i++) {
		ck_assert_int_eq(h->functions[i].iommu_group, -1);
		ck_assert_str_eq(h->functions[i].iommu_unit, "");
		nosnoop += h->functions[i].nosnoop_enabled == MT_YES;
	}
	ck_assert_uint_eq(nosnoop, 3);
	ck_assert_str_eq(find(h, "0000:01:00.0")->driver, "nouveau");
	host_free(h);
}
END_TEST

static const struct {
	const char *root;
	int ret;
	const char *message;           /* note, or error when ret < 0 */
} broken_fixtures[] = {
	{ "broken-config-64", 0, "config space of 0000:00:01.0 and 2 other functions is 64 bytes: read without CAP_SYS_ADMIN" },
	{ "broken-config-truncated", 0, "config space of 0000:01:00.0 is shorter than 64 bytes (truncated)" },
	{ "broken-iommu-regs", 0, "IOMMU unit dmar1: intel-iommu/ecap: not a hex register value" },
	{ "broken-no-osrelease", 0, "proc/sys/kernel/osrelease: No such file or directory: kernel version unknown" },
	{ "broken-resource", 0, "0000:01:00.0: resource line 1 is not \"start end flags\": BARs unknown" },
	{ "broken-snapshot", -EINVAL, "memtype-snapshot.json: not valid JSON" },
	{ "broken-symlinks", 0, "sys/bus/pci/devices/0000:05:00.0: broken link: function skipped" },
};

START_TEST(test_fixture_broken)
{
	char root[PATH_MAX];
	struct inventory_options o = { .root = root };
	struct mt_error err = {};
	struct host *h = NULL;
	int r;

	snprintf(root, sizeof(root), "%s/roots/%s", MT_TEST_DIR, broken_fixtures[_i].root);
	r = inventory_read(&o, &h, &err);
	ck_assert_msg(r == broken_fixtures[_i].ret, "%s: %d %s", root, r, err.message);
	if (r < 0) {
		ck_assert_msg(strstr(err.message, broken_fixtures[_i].message), "%s", err.message);
		return;
	}
	ck_assert(h->partial);
	ck_assert_msg(has_note(h, broken_fixtures[_i].message), "%s: first note: %s", root,
		      h->n_notes ? h->notes[0] : "none");
	/* the intact functions of the base are all there */
	ck_assert_ptr_nonnull(host_find_function(h, "0000:00:02.0"));
	ck_assert_uint_eq(h->n_functions, 3);
	host_free(h);
}
END_TEST

START_TEST(test_fixture_broken_details)
{
	struct host *h = read_fixture("broken-symlinks");
	const struct pci_function *f = find(h, "0000:01:00.0");

	ck_assert_str_eq(f->driver, "");
	ck_assert_int_eq(f->iommu_group, -1);
	/* its iommu link is broken but dmar1 lists it */
	ck_assert_str_eq(f->iommu_unit, "dmar1");
	host_free(h);
	h = read_fixture("broken-config-64");
	f = find(h, "0000:01:00.0");
	ck_assert(f->config_partial && !f->has_msix);
	ck_assert_int_eq(f->nosnoop_enabled, MT_UNKNOWN);
	ck_assert_int_eq(capture_check_host(h, NULL), -EPERM);
	host_free(h);
	h = read_fixture("broken-iommu-regs");
	ck_assert(!host_find_iommu_unit(h, "dmar0")->regs_valid);
	ck_assert(!host_find_iommu_unit(h, "dmar1")->regs_valid);
	host_free(h);
}
END_TEST

static Suite *inventory_suite(void)
{
	Suite *s = suite_create("inventory");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_cpuinfo_parse);
	tcase_add_test(tc, test_synthetic_intel_host);
	tcase_add_test(tc, test_host_json);
	tcase_add_test(tc, test_snapshot_parse);
	tcase_add_test(tc, test_snapshot_in_root);
	tcase_add_test(tc, test_config_64_bytes);
	tcase_add_loop_test(tc, test_malformed, 0, ELEMENTSOF(malformed_cases));
	tcase_add_test(tc, test_malformed_details);
	tcase_add_test(tc, test_resource_line_parse);
	tcase_add_test(tc, test_boot_options);
	tcase_add_test(tc, test_lspci_dump);
	tcase_add_test(tc, test_lspci_dump_addresses);
	tcase_add_test(tc, test_vmd_domain_root);
	tcase_add_test(tc, test_capture_round_trip);
	tcase_add_test(tc, test_capture_refuses_bad_dirs);
	tcase_add_test(tc, test_this_machine_root);
	tcase_add_test(tc, test_fixture_intel_client);
	tcase_add_test(tc, test_fixture_intel_server_sriov);
	tcase_add_test(tc, test_fixture_amd_epyc_gpu);
	tcase_add_test(tc, test_fixture_no_iommu);
	tcase_add_loop_test(tc, test_fixture_broken, 0, ELEMENTSOF(broken_fixtures));
	tcase_add_test(tc, test_fixture_broken_details);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(inventory_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
