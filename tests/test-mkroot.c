/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of the fixture generator tests/mkroot: it runs the real program on
 * small descriptions and reads the result back with libpci (the library the
 * inventory uses), so a root is checked by the same oracle as a machine;
 * bad descriptions must fail with a message naming the line. */

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macro.h"

#define HOST_HEADER                                                            \
	"kernel 6.12.117+deb12-amd64\n"                                        \
	"cpu vendor=intel family=6 model=183 cpus=2 name=\"Test CPU\" flags=\"fpu pat ss\"\n"

static char workdir[PATH_MAX];
static unsigned run_counter;

/* snprintf that fails the test instead of truncating a path or command */
static void format(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	ck_assert_msg(n >= 0 && (size_t) n < size, "path too long: %s", buf);
}

static void make_workdir(void)
{
	const char *tmp = getenv("TMPDIR");

	format(workdir, sizeof(workdir), "%s/test-mkroot.XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(workdir));
}

static void remove_workdir(void)
{
	char cmd[PATH_MAX + 16];

	format(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *mkroot_path(void)
{
	static char path[PATH_MAX];
	const char *build = getenv("MT_BUILD_DIR");

	format(path, sizeof(path), "%s/tests/mkroot", build ? build : ".");
	return path;
}

/* Write desc to a file, run mkroot on it into a fresh root; return the
 * exit status and the root (and stderr text) through the out buffers. */
static int run_mkroot(const char *desc, char *root, size_t root_size, char *err, size_t err_size)
{
	char desc_path[PATH_MAX], err_path[PATH_MAX], cmd[3 * PATH_MAX];
	FILE *f;
	int status;
	size_t n;

	run_counter++;
	format(desc_path, sizeof(desc_path), "%s/d%u.desc", workdir, run_counter);
	format(err_path, sizeof(err_path), "%s/d%u.err", workdir, run_counter);
	format(root, root_size, "%s/root%u", workdir, run_counter);
	f = fopen(desc_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(desc, f);
	fclose(f);
	format(cmd, sizeof(cmd), "'%s' '%s' '%s' 2>'%s'", mkroot_path(), desc_path, root, err_path);
	status = system(cmd);
	ck_assert(WIFEXITED(status));
	f = fopen(err_path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(err, 1, err_size - 1, f);
	err[n] = '\0';
	fclose(f);
	return WEXITSTATUS(status);
}

static void build_root(const char *desc, char *root, size_t size)
{
	char err[4096];

	ck_assert_msg(run_mkroot(desc, root, size, err, sizeof(err)) == 0, "mkroot failed: %s", err);
}

/* libpci's error callback must not return; a failed assertion does not. */
static void pci_error_fail(char *msg, ...) PCI_PRINTF(1, 2) PCI_NONRET;
static void pci_error_fail(char *msg, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	ck_abort_msg("libpci error: %s", buf);
}

static void pci_warning_fail(char *msg, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	ck_abort_msg("libpci warning: %s", buf);
}

static void pci_quiet(char *msg, ...)
{
}

static struct pci_access *open_root(const char *root)
{
	struct pci_access *a = pci_alloc();
	char path[PATH_MAX];

	a->method = PCI_ACCESS_SYS_BUS_PCI;
	a->error = pci_error_fail;
	a->warning = pci_warning_fail;
	a->debug = pci_quiet;
	format(path, sizeof(path), "%s/sys/bus/pci", root);
	pci_set_param(a, "sysfs.path", path);
	pci_init(a);
	pci_scan_bus(a);
	return a;
}

static struct pci_dev *find(struct pci_access *a, int bus, int dev, int fn)
{
	for (struct pci_dev *d = a->devices; d; d = d->next)
		if (d->bus == bus && d->dev == dev && d->func == fn) {
			pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_BASES | PCI_FILL_SIZES |
					 PCI_FILL_IO_FLAGS | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS |
					 PCI_FILL_IOMMU_GROUP | PCI_FILL_DRIVER);
			return d;
		}
	ck_abort_msg("no function %02x:%02x.%d", bus, dev, fn);
	return NULL;
}

static unsigned count_devices(struct pci_access *a)
{
	unsigned n = 0;

	for (struct pci_dev *d = a->devices; d; d = d->next)
		n++;
	return n;
}

/* ----- a GPU with every capability the inventory reads ------------------- */

static const char gpu_desc[] = HOST_HEADER
	"iommu dmar1 intel cap=0xd2008c40660462 ecap=0xf050da address=0xfed91000\n"
	"group 7 DMA-FQ\n"
	"dev 0000:00:01.0 id=8086:a70d class=0x060400 bridge=1 driver=pcieport iommu=dmar1 group=7 pcie=rootport\n"
	"dev 0000:01:00.0 id=10de:2684 subsys=1043:889c class=0x030000 rev=0xa1 driver=vfio-pci iommu=dmar1 "
	"group=7 pcie=legacy link=4x16 msix=9,0:0xb90000,0:0xba0000 msi pm nosnoop\n"
	"bar 0000:01:00.0 0 mem32 16M\n"
	"bar 0000:01:00.0 1 mem64 pref 16G\n"
	"bar 0000:01:00.0 3 mem64 pref 32M\n"
	"bar 0000:01:00.0 5 io 128\n"
	"dev 0000:01:00.1 id=10de:22ba class=0x040300 iommu=dmar1 group=7 pcie=endpoint\n"
	"bar 0000:01:00.1 0 mem32 16K\n";

START_TEST(test_gpu_ids_and_bars)
{
	struct {
		int bar;
		pciaddr_t size;
		unsigned long flags;   /* IORESOURCE_* libpci keeps in d->flags */
	} expect[] = {
		{ 0, 16 << 20, 0x40200 },
		{ 1, 16ULL << 30, 0x14220c },
		{ 2, 0, 0 },
		{ 3, 32 << 20, 0x14220c },
		{ 4, 0, 0 },
		{ 5, 128, 0x40101 },
	};
	char root[PATH_MAX];
	struct pci_access *a;
	struct pci_dev *d;

	build_root(gpu_desc, root, sizeof(root));
	a = open_root(root);
	ck_assert_uint_eq(count_devices(a), 3);
	d = find(a, 1, 0, 0);
	ck_assert_uint_eq(d->vendor_id, 0x10de);
	ck_assert_uint_eq(d->device_id, 0x2684);
	ck_assert_uint_eq(d->device_class, 0x0300);
	ck_assert_uint_eq(pci_read_byte(d, PCI_HEADER_TYPE), 0x80);     /* multi-function */
	for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
		int b = expect[i].bar;

		ck_assert_msg(d->size[b] == expect[i].size, "BAR %d size %llx", b, (unsigned long long) d->size[b]);
		ck_assert_msg(d->flags[b] == expect[i].flags, "BAR %d flags %llx", b,
			      (unsigned long long) d->flags[b]);
		if (expect[i].size)     /* BAR aligned to its size, register agrees */
			ck_assert_uint_eq(d->base_addr[b] & (expect[i].size - 1) & ~0xfULL,
					  0);
	}
	ck_assert_str_eq(pci_get_string_property(d, PCI_FILL_IOMMU_GROUP), "7");
	ck_assert_str_eq(pci_get_string_property(d, PCI_FILL_DRIVER), "vfio-pci");
	pci_cleanup(a);
}
END_TEST

START_TEST(test_gpu_capabilities)
{
	char root[PATH_MAX];
	struct pci_access *a;
	struct pci_dev *d;
	struct pci_cap *exp, *msix;
	uint32_t table;

	build_root(gpu_desc, root, sizeof(root));
	a = open_root(root);
	d = find(a, 1, 0, 0);
	exp = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	ck_assert_ptr_nonnull(exp);
	ck_assert_uint_eq((pci_read_word(d, exp->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4,
			  PCI_EXP_TYPE_LEG_END);
	ck_assert(pci_read_word(d, exp->addr + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_NOSNOOP);
	msix = pci_find_cap(d, PCI_CAP_ID_MSIX, PCI_CAP_NORMAL);
	ck_assert_ptr_nonnull(msix);
	ck_assert_uint_eq((pci_read_word(d, msix->addr + PCI_MSI_FLAGS) & PCI_MSIX_TABSIZE) + 1, 9);
	table = pci_read_long(d, msix->addr + PCI_MSIX_TABLE);
	ck_assert_uint_eq(table & PCI_MSIX_BIR, 0);
	ck_assert_uint_eq(table & ~PCI_MSIX_BIR, 0xb90000);
	ck_assert_ptr_nonnull(pci_find_cap(d, PCI_CAP_ID_MSI, PCI_CAP_NORMAL));
	ck_assert_ptr_nonnull(pci_find_cap(d, PCI_CAP_ID_PM, PCI_CAP_NORMAL));
	/* the audio function has no No-Snoop flag in the description */
	d = find(a, 1, 0, 1);
	exp = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	ck_assert_ptr_nonnull(exp);
	ck_assert(!(pci_read_word(d, exp->addr + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_NOSNOOP));
	ck_assert_ptr_null(pci_get_string_property(d, PCI_FILL_DRIVER));
	pci_cleanup(a);
}
END_TEST

START_TEST(test_bridge_window_covers_children)
{
	char root[PATH_MAX];
	struct pci_access *a;
	struct pci_dev *br, *gpu;
	uint64_t pref_lo, pref_hi;

	build_root(gpu_desc, root, sizeof(root));
	a = open_root(root);
	br = find(a, 0, 1, 0);
	gpu = find(a, 1, 0, 0);
	ck_assert_uint_eq(pci_read_byte(br, PCI_SECONDARY_BUS), 1);
	ck_assert_uint_eq(pci_read_byte(br, PCI_SUBORDINATE_BUS), 1);
	pref_lo = (uint64_t) (pci_read_word(br, PCI_PREF_MEMORY_BASE) & PCI_PREF_RANGE_MASK) << 16 |
		  (uint64_t) pci_read_long(br, PCI_PREF_BASE_UPPER32) << 32;
	pref_hi = ((uint64_t) (pci_read_word(br, PCI_PREF_MEMORY_LIMIT) & PCI_PREF_RANGE_MASK) << 16 |
		   (uint64_t) pci_read_long(br, PCI_PREF_LIMIT_UPPER32) << 32) | 0xfffff;
	for (int b = 1; b <= 3; b += 2) {
		uint64_t start = gpu->base_addr[b] & PCI_ADDR_MEM_MASK;

		ck_assert(start >= pref_lo && start + gpu->size[b] - 1 <= pref_hi);
	}
	pci_cleanup(a);
}
END_TEST

/* ----- SR-IOV: PF capability, VFs, links ---------------------------------- */

static const char sriov_desc[] = HOST_HEADER
	"group 1 DMA\n"
	"group 2 DMA\n"
	"group 3 DMA\n"
	"dev 0000:17:00.0 id=8086:1572 class=0x020000 driver=i40e group=1 pcie=endpoint msix=129,3:0x0,3:0x1000\n"
	"bar 0000:17:00.0 0 mem64 pref 8M\n"
	"bar 0000:17:00.0 3 mem64 pref 32K\n"
	"sriov 0000:17:00.0 total=64 num=2 offset=16 stride=1 vfid=0x154c\n"
	"vfbar 0000:17:00.0 0 mem64 pref 64K\n"
	"vfbar 0000:17:00.0 3 mem64 pref 16K\n"
	"dev 0000:17:02.0 id=8086:154c class=0x020000 physfn=0000:17:00.0 driver=vfio-pci group=2 pcie=endpoint "
	"msix=5,3:0x0,3:0x2000\n"
	"dev 0000:17:02.1 id=8086:154c class=0x020000 physfn=0000:17:00.0 driver=iavf group=3 pcie=endpoint "
	"msix=5,3:0x0,3:0x2000\n";

START_TEST(test_sriov_capability)
{
	char root[PATH_MAX];
	struct pci_access *a;
	struct pci_dev *pf;
	struct pci_cap *cap;
	uint64_t vfbar0;

	build_root(sriov_desc, root, sizeof(root));
	a = open_root(root);
	pf = find(a, 0x17, 0, 0);
	cap = pci_find_cap(pf, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
	ck_assert_ptr_nonnull(cap);
	ck_assert_uint_eq(pci_read_word(pf, cap->addr + PCI_IOV_TOTALVF), 64);
	ck_assert_uint_eq(pci_read_word(pf, cap->addr + PCI_IOV_NUMVF), 2);
	ck_assert_uint_eq(pci_read_word(pf, cap->addr + PCI_IOV_OFFSET), 16);
	ck_assert_uint_eq(pci_read_word(pf, cap->addr + PCI_IOV_DID), 0x154c);
	vfbar0 = (pci_read_long(pf, cap->addr + PCI_IOV_BAR_BASE) & PCI_ADDR_MEM_MASK) |
		 (uint64_t) pci_read_long(pf, cap->addr + PCI_IOV_BAR_BASE + 4) << 32;
	ck_assert_uint_ne(vfbar0, 0);
	/* VF i's BAR 0 is the PF's VF BAR 0 plus i times the VF BAR size */
	for (int i = 0; i < 2; i++) {
		struct pci_dev *vf = find(a, 0x17, 2, i);

		ck_assert_uint_eq(vf->vendor_id, 0x8086);       /* from sysfs... */
		ck_assert_uint_eq(pci_read_word(vf, PCI_VENDOR_ID), 0xffff);   /* ...not config */
		ck_assert_uint_eq(pci_read_long(vf, PCI_BASE_ADDRESS_0), 0);
		ck_assert_uint_eq(vf->base_addr[0] & PCI_ADDR_MEM_MASK, vfbar0 + (uint64_t) i * 0x10000);
		ck_assert_uint_eq(vf->size[3], 0x4000);
	}
	ck_assert_str_eq(pci_get_string_property(find(a, 0x17, 2, 0), PCI_FILL_DRIVER), "vfio-pci");
	ck_assert_str_eq(pci_get_string_property(find(a, 0x17, 2, 1), PCI_FILL_IOMMU_GROUP), "3");
	pci_cleanup(a);
}
END_TEST

static void assert_link(const char *root, const char *link, const char *expected_target)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	format(path, sizeof(path), "%s/%s", root, link);
	n = readlink(path, target, sizeof(target) - 1);
	ck_assert_msg(n > 0, "%s is not a symlink", link);
	target[n] = '\0';
	ck_assert_str_eq(target, expected_target);
}

START_TEST(test_sriov_links)
{
	char root[PATH_MAX];

	build_root(sriov_desc, root, sizeof(root));
	assert_link(root, "sys/bus/pci/devices/0000:17:00.0/virtfn1", "../0000:17:02.1");
	assert_link(root, "sys/bus/pci/devices/0000:17:02.0/physfn", "../0000:17:00.0");
	assert_link(root, "sys/bus/pci/devices/0000:17:02.0", "../../../devices/pci0000:17/0000:17:02.0");
	assert_link(root, "sys/kernel/iommu_groups/2/devices/0000:17:02.0",
		    "../../../../devices/pci0000:17/0000:17:02.0");
}
END_TEST

/* ----- host files --------------------------------------------------------- */

static void assert_file(const char *root, const char *rel, const char *expected)
{
	char path[PATH_MAX], buf[4096];
	FILE *f;
	size_t n;

	format(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s missing", rel);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_str_eq(buf, expected);
}

START_TEST(test_host_files)
{
	char root[PATH_MAX];

	build_root(HOST_HEADER
		   "param kvm_intel ept Y\n"
		   "snapshot quirks=0x7ff\n"
		   "iommu dmar0 intel cap=0x1c0000c40660462 ecap=0x29a00f0505e address=0xfed90000 version=4:0\n"
		   "dev 0000:00:02.0 id=8086:a780 class=0x030000 iommu=dmar0 pcie=rciep\n"
		   "bar 0000:00:02.0 2 mem64 pref 256M\n", root, sizeof(root));
	assert_file(root, "proc/sys/kernel/osrelease", "6.12.117+deb12-amd64\n");
	assert_file(root, "sys/module/kvm_intel/parameters/ept", "Y\n");
	assert_file(root, "sys/class/iommu/dmar0/intel-iommu/ecap", "29a00f0505e\n");
	assert_file(root, "sys/class/iommu/dmar0/intel-iommu/version", "4:0\n");
	assert_file(root, "memtype-snapshot.json",
		    "{\"schema\": \"memtype.snapshot/1\", \"kvm\": {\"present\": true, \"supported_quirks\": 2047}}\n");
	assert_file(root, "sys/bus/pci/devices/0000:00:02.0/resource2_wc", "");
	assert_link(root, "sys/class/iommu/dmar0/devices/0000:00:02.0", "../../../../pci0000:00/0000:00:02.0");
	assert_link(root, "sys/bus/pci/devices/0000:00:02.0/iommu", "../../virtual/iommu/dmar0");
}
END_TEST

START_TEST(test_edits)
{
	char root[PATH_MAX], path[PATH_MAX];
	struct stat st;

	build_root(HOST_HEADER
		   "dev 0000:00:02.0 id=8086:a780 class=0x030000 pcie=rciep\n"
		   "truncate sys/bus/pci/devices/0000:00:02.0/config 20\n"
		   "remove proc/sys/kernel/osrelease\n"
		   "write proc/cmdline \"intel_iommu=off\\n\"\n", root, sizeof(root));
	format(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:02.0/config", root);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 20);
	format(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
	ck_assert_int_ne(access(path, F_OK), 0);
	assert_file(root, "proc/cmdline", "intel_iommu=off\n");
}
END_TEST

/* ----- bad descriptions ---------------------------------------------------- */

static const struct {
	const char *desc;
	const char *message;       /* must appear in mkroot's stderr */
} bad_descs[] = {
	{ HOST_HEADER "frobnicate\n", ":3: unknown record \"frobnicate\"" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086 class=0x030000\n", ":3: id: \"8086\" is not VVVV:DDDD" },
	{ HOST_HEADER "dev 00:02.0 id=8086:a780 class=0x030000\n", "is not a PCI address" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000\nbar 0000:00:02.0 0 mem64 pref 3M\n",
	  ":4: size \"3M\" is not a power of two" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000\nbar 0000:00:02.0 5 mem64 16M\n",
	  "a 64-bit BAR cannot start at index 5" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000\nbar 0000:00:02.0 0 mem64 16M\n"
	  "bar 0000:00:02.0 1 mem32 16M\n", "BAR 1 overlaps another BAR" },
	{ HOST_HEADER "bar 0000:00:02.0 0 mem32 16M\n", "no device 0000:00:02.0 declared" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000 iommu=dmar7\n", "iommu dmar7 is not declared" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000 group=3\n", "group 3 is not declared" },
	{ HOST_HEADER "dev 0000:00:02.0 id=8086:a780 class=0x030000 msix=4,0:0x1000,0:0x2000\n"
	  "bar 0000:00:02.0 0 mem32 4K\n", "MSI-X table or PBA does not fit" },
	{ HOST_HEADER "dev 0000:17:00.0 id=8086:1572 class=0x020000 pcie=endpoint\n"
	  "sriov 0000:17:00.0 total=8 num=1 offset=16 stride=1 vfid=0x154c\n"
	  "dev 0000:17:02.1 id=8086:154c class=0x020000 physfn=0000:17:00.0\n", "is not one of the 1 enabled VFs" },
	{ HOST_HEADER "dev 0000:01:00.0 id=10de:2684 class=0x030000\n"
	  "dev 0000:00:01.0 id=8086:a70d class=0x060400 bridge=1\n", "declare bridge 0000:00:01.0 before" },
	{ HOST_HEADER "cmdline \"unterminated\n", "unterminated quote" },
	{ "dev 0000:00:02.0 id=8086:a780 class=0x030000\n", "needs kernel and cpu records" },
	{ HOST_HEADER "include /nonexistent/x.desc\n", "cannot open /nonexistent/x.desc" },
	{ HOST_HEADER "remove ../etc/passwd\n", "stay inside it" },
};

START_TEST(test_bad_description)
{
	char root[PATH_MAX], err[4096];

	ck_assert_int_eq(run_mkroot(bad_descs[_i].desc, root, sizeof(root), err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, bad_descs[_i].message), "expected \"%s\" in: %s", bad_descs[_i].message, err);
	ck_assert_int_ne(access(root, F_OK), 0);        /* nothing written */
}
END_TEST

START_TEST(test_refuses_nonempty_outdir)
{
	char root[PATH_MAX], err[4096], desc_path[PATH_MAX], cmd[3 * PATH_MAX];
	FILE *f;

	build_root(HOST_HEADER, root, sizeof(root));
	format(desc_path, sizeof(desc_path), "%s/again.desc", workdir);
	f = fopen(desc_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(HOST_HEADER, f);
	fclose(f);
	format(cmd, sizeof(cmd), "'%s' '%s' '%s' 2>'%s/again.err'", mkroot_path(), desc_path, root, workdir);
	ck_assert_int_ne(system(cmd), 0);
	format(cmd, sizeof(cmd), "%s/again.err", workdir);
	f = fopen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(err, sizeof(err), f));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(err, "not empty"));
}
END_TEST

static Suite *mkroot_suite(void)
{
	Suite *s = suite_create("mkroot");
	TCase *tc = tcase_create("roots");

	tcase_add_checked_fixture(tc, make_workdir, remove_workdir);
	tcase_add_test(tc, test_gpu_ids_and_bars);
	tcase_add_test(tc, test_gpu_capabilities);
	tcase_add_test(tc, test_bridge_window_covers_children);
	tcase_add_test(tc, test_sriov_capability);
	tcase_add_test(tc, test_sriov_links);
	tcase_add_test(tc, test_host_files);
	tcase_add_test(tc, test_edits);
	tcase_add_loop_test(tc, test_bad_description, 0, (int) ELEMENTSOF(bad_descs));
	tcase_add_test(tc, test_refuses_nonempty_outdir);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mkroot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
