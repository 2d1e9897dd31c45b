/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI functions: capabilities decoded by libpci from config space, read
 * either from the device directories of a host root or from an lspci dump
 * (libpci's dump method); from sysfs also the ids, BARs and their _wc
 * files, driver, IOMMU group and unit, SR-IOV links. FACTS §3, §4.
 * In a host root the files are opened relative to the device directory:
 * libpci's sysfs back end opens each by its absolute path and resolves
 * links with realpath(), and those path walks were most of the time of a
 * scan of thousands of functions. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "inventory-internal.h"

#define CONFIG_HEADER_SIZE 64
#define CONFIG_LEGACY_SIZE 256
#define CONFIG_EXTENDED_SIZE 4096

#define PCI_FILL_DUMP (PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_CLASS_EXT | PCI_FILL_SUBSYS | PCI_FILL_BASES)

/* libpci reports fatal errors through a callback that must not return and
 * exits by default. Ours jumps back to the pci_guarded() call that is in
 * progress on this thread; libpci's callbacks carry no context pointer,
 * hence the thread-local. */
struct pci_session {
	struct pci_access *access;
	sigjmp_buf jump;
	bool armed;
	char error[256];
	char warning[256];
	unsigned n_warnings;
};

static _Thread_local struct pci_session *active_session;

static void pci_error_jump(char *msg, ...) _printf_(1, 2) __attribute__((noreturn));
static void pci_error_jump(char *msg, ...)
{
	struct pci_session *s = active_session;
	va_list ap;

	/* Every libpci call runs under pci_guarded(); anything else is a bug
	 * here, and libpci cannot continue after an error. */
	if (!s || !s->armed)
		abort();
	va_start(ap, msg);
	vsnprintf(s->error, sizeof(s->error), msg, ap);
	va_end(ap);
	s->armed = false;
	siglongjmp(s->jump, 1);
}

static void pci_warning_record(char *msg, ...) _printf_(1, 2);
static void pci_warning_record(char *msg, ...)
{
	struct pci_session *s = active_session;
	va_list ap;

	if (!s)
		return;
	va_start(ap, msg);
	vsnprintf(s->warning, sizeof(s->warning), msg, ap);
	va_end(ap);
	s->n_warnings++;
}

static void pci_debug_ignore(char *msg, ...) _printf_(1, 2);
static void pci_debug_ignore(char *msg _unused_, ...)
{
}

/* Run fn with libpci errors turned into -EIO and s->error. Kept apart from
 * the work itself so that no local of the caller lives across the jump. */
static int pci_guarded(struct pci_session *s, int (*fn)(struct pci_session *s, void *data), void *data)
{
	int r;

	active_session = s;
	s->error[0] = '\0';
	if (sigsetjmp(s->jump, 0)) {
		active_session = NULL;
		return -EIO;
	}
	s->armed = true;
	r = fn(s, data);
	s->armed = false;
	active_session = NULL;
	return r;
}

static int session_init_fn(struct pci_session *s, void *data _unused_)
{
	pci_init(s->access);
	return 0;
}

static int session_cleanup_fn(struct pci_session *s, void *data _unused_)
{
	pci_cleanup(s->access);
	return 0;
}

static void session_close(struct pci_session *s)
{
	if (s->access)
		(void)pci_guarded(s, session_cleanup_fn, NULL);
	s->access = NULL;
}

static int session_open(struct pci_session *s, unsigned method, const char *param, const char *value,
			struct mt_error *err)
{
	char name[32], val[4096];

	s->access = pci_alloc();
	if (!s->access)
		return mt_error_set(err, -ENOMEM, "out of memory");
	s->access->error = pci_error_jump;
	s->access->warning = pci_warning_record;
	s->access->debug = pci_debug_ignore;
	s->access->method = method;
	/* pci_set_param() takes non-const strings (and copies them). */
	snprintf(name, sizeof(name), "%s", param);
	if (snprintf(val, sizeof(val), "%s", value) >= (int)sizeof(val))
		return mt_error_set(err, -ENAMETOOLONG, "path too long: %s", value);
	if (pci_set_param(s->access, name, val) < 0)
		return mt_error_set(err, -EINVAL, "libpci has no parameter %s", param);
	if (pci_guarded(s, session_init_fn, NULL) < 0)
		return mt_error_set(err, -EIO, "libpci cannot read %s: %s", value, s->error);
	return 0;
}

/* ----- one function ------------------------------------------------------ */

struct function_job {
	struct pci_dev *dev;
	struct pci_function *f;
	uint8_t config[CONFIG_EXTENDED_SIZE];
	int config_len;
};

/* Read a dump's config space the way lspci does: header, legacy,
 * extended; how much reads tells what the dump holds. */
static int read_config(struct pci_dev *d, uint8_t *buf)
{
	if (!pci_read_block(d, 0, buf, CONFIG_HEADER_SIZE))
		return 0;
	if (!pci_read_block(d, CONFIG_HEADER_SIZE, buf + CONFIG_HEADER_SIZE,
			    CONFIG_LEGACY_SIZE - CONFIG_HEADER_SIZE))
		return CONFIG_HEADER_SIZE;
	if (!pci_read_block(d, CONFIG_LEGACY_SIZE, buf + CONFIG_LEGACY_SIZE,
			    CONFIG_EXTENDED_SIZE - CONFIG_LEGACY_SIZE))
		return CONFIG_LEGACY_SIZE;
	return CONFIG_EXTENDED_SIZE;
}

static void decode_pcie(struct pci_dev *d, struct pci_function *f)
{
	struct pci_cap *cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);

	f->is_pcie = cap;
	if (cap)
		f->nosnoop_enabled = pci_read_word(d, cap->addr + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_NOSNOOP
					     ? MT_YES
					     : MT_NO;
	else
		f->nosnoop_enabled = MT_NO;  /* conventional PCI has no No-Snoop */
}

static void decode_msix(struct pci_dev *d, struct pci_function *f)
{
	struct pci_cap *cap = pci_find_cap(d, PCI_CAP_ID_MSIX, PCI_CAP_NORMAL);
	uint32_t table, pba;

	if (!cap)
		return;
	table = pci_read_long(d, cap->addr + PCI_MSIX_TABLE);
	pba = pci_read_long(d, cap->addr + PCI_MSIX_PBA);
	f->has_msix = true;
	f->msix_table_size = (pci_read_word(d, cap->addr + PCI_CAP_FLAGS) & PCI_MSIX_TABSIZE) + 1;
	f->msix_table_bar = table & PCI_MSIX_BIR;
	f->msix_table_offset = table & ~(uint32_t)PCI_MSIX_BIR;
	f->msix_pba_bar = pba & PCI_MSIX_BIR;
	f->msix_pba_offset = pba & ~(uint32_t)PCI_MSIX_BIR;
}

static void decode_sriov(struct pci_dev *d, struct pci_function *f)
{
	struct pci_cap *cap = pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);

	if (!cap)
		return;
	f->sriov_capable = true;
	f->sriov_total_vfs = pci_read_word(d, cap->addr + PCI_IOV_TOTALVF);
	f->sriov_num_vfs = pci_read_word(d, cap->addr + PCI_IOV_NUMVF);
}

/* The capabilities, from the config space in the job's buffer, which
 * libpci takes as its cache: it opens no file for them. */
static int decode_caps_fn(struct pci_session *s _unused_, void *data)
{
	struct function_job *j = data;

	if (j->config_len > 0)
		pci_setup_cache(j->dev, j->config, j->config_len);
	j->f->config_partial = j->config_len < CONFIG_LEGACY_SIZE;
	if (j->f->config_partial)
		return 0;
	decode_pcie(j->dev, j->f);
	decode_msix(j->dev, j->f);
	/* extended capabilities live beyond the first 256 bytes */
	if (j->config_len == CONFIG_EXTENDED_SIZE)
		decode_sriov(j->dev, j->f);
	return 0;
}

/* The job's buffer is reused for the next function. */
static void function_job_done(struct function_job *j)
{
	if (j->dev)
		pci_setup_cache(j->dev, NULL, 0);
}

static void function_init(struct pci_function *f, const char *bdf)
{
	*f = (struct pci_function){
		.iommu_group = -1,
		.msix_table_bar = -1,
		.msix_pba_bar = -1,
		.nosnoop_enabled = MT_UNKNOWN,
	};
	snprintf(f->bdf, sizeof(f->bdf), "%s", bdf);
}

/* Notes that would repeat for every function are counted and given once. */
struct function_tally {
	char first_short[MT_BDF_MAX];  /* config space under 64 bytes */
	size_t n_short;
	char first_partial[MT_BDF_MAX];  /* 64-byte config space */
	size_t n_partial;
};

static void tally_add(char first[MT_BDF_MAX], size_t *n, const char *bdf)
{
	if ((*n)++ == 0)
		memcpy(first, bdf, MT_BDF_MAX);
}

static void tally_config(struct function_tally *t, const struct function_job *j)
{
	if (j->config_len < CONFIG_HEADER_SIZE)
		tally_add(t->first_short, &t->n_short, j->f->bdf);
	else if (j->config_len < CONFIG_LEGACY_SIZE)
		tally_add(t->first_partial, &t->n_partial, j->f->bdf);
}

/* 1: decoded, 0: skipped (with a note), <0: failure. */
static int decode_function_caps(struct pci_session *s, struct function_job *j, struct host *h)
{
	unsigned dom, bus, dev, fn;
	int r;

	if (sscanf(j->f->bdf, "%x:%x:%x.%u", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	j->dev = pci_get_dev(s->access, (int)dom, (int)bus, (int)dev, (int)fn);
	r = pci_guarded(s, decode_caps_fn, j);
	function_job_done(j);
	/* The device is ours (never linked into libpci's list), and libpci
	 * raises its errors before it allocates anything for it. */
	pci_free_dev(j->dev);
	j->dev = NULL;
	if (r < 0) {
		r = host_add_partial_note(h, "%s: libpci: %s: function skipped", j->f->bdf, s->error);
		return r < 0 ? r : 0;
	}
	return 1;
}

/* "0000:00:02.0" or "0000:00:02.0 and 5 other functions" */
static void tally_subject(char *buf, size_t size, const char *first, size_t n)
{
	if (n > 1)
		snprintf(buf, size, "%s and %zu other functions", first, n - 1);
	else
		snprintf(buf, size, "%s", first);
}

static int add_tally_notes(struct host *h, const struct function_tally *t, const char *how)
{
	char subject[64];
	int r = 0;

	if (t->n_short > 0) {
		tally_subject(subject, sizeof(subject), t->first_short, t->n_short);
		r = host_add_partial_note(h, "config space of %s is shorter than %d bytes (truncated): no header, PCIe, MSI-X or SR-IOV data",
					  subject, CONFIG_HEADER_SIZE);
	}
	if (r >= 0 && t->n_partial > 0) {
		tally_subject(subject, sizeof(subject), t->first_partial, t->n_partial);
		r = host_add_partial_note(h, "config space of %s is %d bytes: %s, no PCIe/MSI-X/SR-IOV data",
					  subject, CONFIG_HEADER_SIZE, how);
	}
	return r;
}

/* ----- sysfs: what libpci does not read ---------------------------------- */

/* One hex field of a resource line; *p moves past it. Not sscanf("%llx"):
 * a number too big for its type is undefined behaviour there. */
static int take_resource_field(const char **p, unsigned long long *ret)
{
	const char *s = *p + strspn(*p, " \t");
	char *end;

	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 16);
	if (errno != 0)
		return -EINVAL;
	*p = end;
	return 0;
}

int resource_line_parse(const char *line, struct pci_bar *bar)
{
	unsigned long long start, end, flags;
	const char *p = line;

	if (take_resource_field(&p, &start) < 0 || take_resource_field(&p, &end) < 0 ||
	    take_resource_field(&p, &flags) < 0 || p[strspn(p, " \t")] != '\0')
		return -EINVAL;
	/* The whole 64-bit space is no BAR either: its size would wrap to 0. */
	if (end < start || end - start == ULLONG_MAX)
		return -EINVAL;
	*bar = (struct pci_bar){ .flags = flags };
	if (!(flags & (MT_IORESOURCE_IO | MT_IORESOURCE_MEM)) || end == start)
		return 0;
	bar->present = true;
	bar->start = start;
	bar->size = end - start + 1;
	bar->is_io = flags & MT_IORESOURCE_IO;
	bar->prefetchable = flags & MT_IORESOURCE_PREFETCH;
	bar->is_64bit = flags & MT_IORESOURCE_MEM_64;
	return 0;
}

static int read_bars(int dir_fd, struct pci_function *f, struct host *h)
{
	char buf[SMALL_FILE_MAX], *line = buf;
	int r;

	r = read_small_at(dir_fd, "resource", buf, sizeof(buf));
	if (r < 0)
		return host_add_partial_note(h, "%s: cannot read its resource file: %s: BARs unknown",
					     f->bdf, strerror(-r));
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		char *next = strchr(line, '\n');

		if (next)
			*next = '\0';
		if (resource_line_parse(line, &f->bars[i]) < 0) {
			memset(f->bars, 0, sizeof(f->bars));
			return host_add_partial_note(h, "%s: resource line %u is not \"start end flags\": BARs unknown",
						     f->bdf, i + 1);
		}
		if (!next)
			break;
		line = next + 1;
	}
	f->sizes_known = true;
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		char wc[16];

		if (!f->bars[i].present || f->bars[i].is_io)
			continue;
		snprintf(wc, sizeof(wc), "resource%u_wc", i);
		f->bars[i].has_wc_file = faccessat(dir_fd, wc, F_OK, 0) == 0;
	}
	return 0;
}

/* The last component of the target of a link in the device directory
 * ("../../../bus/pci/drivers/i915" -> "i915"): -ENOENT when there is no
 * link, -ENOLINK when it points nowhere. */
static int link_name_at(int dir_fd, const char *link, char *buf, size_t size)
{
	char target[4096], *base;
	ssize_t n = readlinkat(dir_fd, link, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	if (faccessat(dir_fd, link, F_OK, 0) < 0)
		return -ENOLINK;
	target[n] = '\0';
	base = strrchr(target, '/');
	copy_truncated(buf, size, base ? base + 1 : target);
	return 0;
}

/* The BDF a sysfs link ("../0000:3b:02.0", ".../0000:3b:00.0") points to. */
static int link_bdf_at(int dir_fd, const char *link, char bdf[MT_BDF_MAX])
{
	char name[64];
	int r = link_name_at(dir_fd, link, name, sizeof(name));

	return r < 0 ? r : bdf_normalize(name, bdf);
}

/* A link of the device directory that is there but broken makes what it
 * tells unknown: say so rather than report "none". */
static int note_broken_link(struct host *h, const struct pci_function *f, const char *link, int r)
{
	if (r != -ENOLINK)
		return 0;
	return host_add_partial_note(h, "%s: its %s link is broken: %s unknown", f->bdf, link, link);
}

static int read_driver_and_group(int dir_fd, struct pci_function *f, struct host *h)
{
	char group[32];
	uint64_t g;
	int r;

	r = link_name_at(dir_fd, "driver", f->driver, sizeof(f->driver));
	if (r < 0) {
		f->driver[0] = '\0';
		if ((r = note_broken_link(h, f, "driver", r)) < 0)
			return r;
	}
	r = link_name_at(dir_fd, "iommu_group", group, sizeof(group));
	if (r == 0 && parse_u64(group, 10, &g) == 0 && g <= INT32_MAX)
		f->iommu_group = (int)g;
	return note_broken_link(h, f, "iommu_group", r);
}

static int read_virtfns(int dir_fd, struct pci_function *f, struct host *h)
{
	if (f->sriov_num_vfs == 0)
		return 0;
	f->virtfns = calloc(f->sriov_num_vfs, sizeof(*f->virtfns));
	if (!f->virtfns)
		return -ENOMEM;
	for (unsigned i = 0; i < f->sriov_num_vfs; i++) {
		char link[32];

		snprintf(link, sizeof(link), "virtfn%u", i);
		if (link_bdf_at(dir_fd, link, f->virtfns[f->n_virtfns]) < 0)
			return host_add_note(h, "%s: NumVFs is %u but %s is missing or not a PCI address",
					     f->bdf, f->sriov_num_vfs, link);
		f->n_virtfns++;
	}
	return 0;
}

static int read_iommu_unit(int dir_fd, struct pci_function *f, struct host *h,
			   const struct iommu_state *iommu)
{
	const char *unit;
	int r;

	/* No unit on the host: no link can name one. */
	if (h->n_iommu_units == 0)
		return 0;
	r = link_name_at(dir_fd, "iommu", f->iommu_unit, sizeof(f->iommu_unit));
	if (r == 0)
		return 0;
	f->iommu_unit[0] = '\0';
	unit = iommu_unit_lookup(iommu, f->bdf);
	if (unit)
		copy_truncated(f->iommu_unit, sizeof(f->iommu_unit), unit);
	/* the units' lists still tell */
	return unit ? 0 : note_broken_link(h, f, "iommu", r);
}

static int read_function_files(int dir_fd, struct pci_function *f, struct host *h,
			       const struct iommu_state *iommu)
{
	const char *type;
	int r;

	r = read_bars(dir_fd, f, h);
	if (r < 0)
		return r;
	r = read_driver_and_group(dir_fd, f, h);
	if (r < 0)
		return r;
	f->is_vf = link_bdf_at(dir_fd, "physfn", f->physfn) == 0;
	if (!f->is_vf)
		f->physfn[0] = '\0';
	r = read_virtfns(dir_fd, f, h);
	if (r < 0)
		return r;
	r = read_iommu_unit(dir_fd, f, h, iommu);
	if (r < 0)
		return r;
	type = f->iommu_group >= 0 ? iommu_group_type_lookup(iommu, f->iommu_group) : NULL;
	if (type)
		snprintf(f->iommu_group_type, sizeof(f->iommu_group_type), "%s", type);
	return 0;
}

/* ----- sysfs: the scan ------------------------------------------------- */

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static int compare_bdf(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* List sys/bus/pci/devices ourselves rather than with pci_scan_bus(): an
 * entry that is not a PCI address then costs a note instead of the scan,
 * and the functions come out sorted. */
static int list_functions(DIR *d, struct host *h, char (**ret)[MT_BDF_MAX], size_t *ret_n)
{
	char (*bdfs)[MT_BDF_MAX] = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	while ((e = readdir(d))) {
		char bdf[MT_BDF_MAX];

		if (e->d_name[0] == '.')
			continue;
		if (bdf_normalize(e->d_name, bdf) < 0 || !streq(bdf, e->d_name)) {
			int r = host_add_partial_note(h, "sys/bus/pci/devices/%s is not a PCI address: ignored",
						      e->d_name);
			if (r < 0) {
				free(bdfs);
				return r;
			}
			continue;
		}
		if (n == cap) {
			char (*more)[MT_BDF_MAX];

			cap = cap ? cap * 2 : 64;
			more = realloc(bdfs, cap * sizeof(*bdfs));
			if (!more) {
				free(bdfs);
				return -ENOMEM;
			}
			bdfs = more;
		}
		memcpy(bdfs[n++], bdf, MT_BDF_MAX);
	}
	if (n > 0)
		qsort(bdfs, n, sizeof(*bdfs), compare_bdf);
	*ret = bdfs;
	*ret_n = n;
	return 0;
}

/* The kernel's view of the ids (quirks may fix a class; a VF's config
 * space reads vendor ffff): the sysfs attributes, as libpci reads them. */
static int read_id_attr(int dir_fd, const char *name, uint64_t *ret)
{
	char buf[32];
	int r = read_small_at(dir_fd, name, buf, sizeof(buf));

	if (r < 0)
		return r;
	buf[strcspn(buf, "\n")] = '\0';
	return parse_u64(buf, 16, ret);
}

/* 1: read, 0: skipped with a note (no vendor, device or class). */
static int read_ids(int dir_fd, struct pci_function *f, const struct function_job *j, struct host *h)
{
	static const char *const required[] = { "vendor", "device", "class" };
	uint64_t v[3], rev, sv = 0, sd = 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(required); i++) {
		r = read_id_attr(dir_fd, required[i], &v[i]);
		if (r < 0) {
			r = host_add_partial_note(h, "%s: cannot read its %s file: %s: function skipped", f->bdf,
						  required[i], r == -EINVAL ? "not a hex number" : strerror(-r));
			return r < 0 ? r : 0;
		}
	}
	f->vendor_id = (uint16_t)v[0];
	f->device_id = (uint16_t)v[1];
	f->class_code = (uint32_t)v[2] & 0xffffff;
	/* The kernel takes revision and (for type 0 headers) subsystem ids
	 * straight from config space: where we have it, that spares three
	 * files per function; older kernels lack the revision file anyway. */
	if (j->config_len >= CONFIG_HEADER_SIZE)
		f->revision = j->config[PCI_REVISION_ID];
	else if (read_id_attr(dir_fd, "revision", &rev) == 0)
		f->revision = (uint8_t)rev;
	if (j->config_len >= CONFIG_HEADER_SIZE &&
	    (j->config[PCI_HEADER_TYPE] & 0x7f) == PCI_HEADER_TYPE_NORMAL) {
		f->subsys_vendor_id = (uint16_t)(j->config[PCI_SUBSYSTEM_VENDOR_ID] |
						 j->config[PCI_SUBSYSTEM_VENDOR_ID + 1] << 8);
		f->subsys_device_id = (uint16_t)(j->config[PCI_SUBSYSTEM_ID] | j->config[PCI_SUBSYSTEM_ID + 1] << 8);
	} else if (read_id_attr(dir_fd, "subsystem_vendor", &sv) == 0 &&
		   read_id_attr(dir_fd, "subsystem_device", &sd) == 0) {
		f->subsys_vendor_id = (uint16_t)sv;
		f->subsys_device_id = (uint16_t)sd;
	}
	return 1;
}

/* The config file read whole: how much reads says whether we had
 * CAP_SYS_ADMIN (64 bytes without it) and how much the device has. */
static int read_config_at(int dir_fd, struct function_job *j, struct host *h)
{
	_cleanup_close_ int fd = openat(dir_fd, "config", O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	j->config_len = 0;
	if (fd < 0)
		return host_add_partial_note(h, "%s: cannot open its config file: %s: capabilities unknown",
					     j->f->bdf, strerror(errno));
	while (len < sizeof(j->config)) {
		ssize_t n = pread(fd, j->config + len, sizeof(j->config) - len, (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return host_add_partial_note(h, "%s: cannot read its config file: %s: capabilities unknown",
						     j->f->bdf, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* Only whole blocks count: a cut extended space has no usable chain. */
	j->config_len = len >= CONFIG_EXTENDED_SIZE ? CONFIG_EXTENDED_SIZE
			: len >= CONFIG_LEGACY_SIZE  ? CONFIG_LEGACY_SIZE
			: len >= CONFIG_HEADER_SIZE  ? CONFIG_HEADER_SIZE
						     : (int)len;
	return 0;
}

static int read_sysfs_function(struct pci_session *s, int devices_fd, const char *bdf,
			       struct host *h, const struct iommu_state *iommu,
			       struct function_job *j, struct function_tally *t)
{
	struct pci_function *f = &h->functions[h->n_functions];
	_cleanup_close_ int dir_fd = -1;
	int r;

	function_init(f, bdf);
	dir_fd = openat(devices_fd, bdf, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return host_add_partial_note(h, "sys/bus/pci/devices/%s: %s: function skipped", bdf,
					     errno == ENOENT ? "broken link" : strerror(errno));
	j->f = f;
	r = read_config_at(dir_fd, j, h);
	if (r >= 0)
		r = read_ids(dir_fd, f, j, h);
	if (r > 0)
		r = decode_function_caps(s, j, h);
	if (r <= 0)
		return r;
	tally_config(t, j);
	r = read_function_files(dir_fd, f, h, iommu);
	if (r < 0) {
		free(f->virtfns);
		return r;
	}
	h->n_functions++;
	return 0;
}

int inventory_read_pci_sysfs(const char *root, struct host *h, const struct iommu_state *iommu,
			     struct mt_error *err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_free_ char (*bdfs)[MT_BDF_MAX] = NULL;
	_cleanup_free_ struct function_job *job = NULL;
	struct pci_session s = {};
	struct function_tally tally = {};
	char bus_path[4096], devices_path[4096];
	size_t n = 0;
	int r;

	if (root_path(root, "/sys/bus/pci", bus_path, sizeof(bus_path)) < 0 ||
	    root_path(root, "/sys/bus/pci/devices", devices_path, sizeof(devices_path)) < 0)
		return mt_error_set(err, -ENAMETOOLONG, "%s: root path too long", root);
	d = opendir(devices_path);
	if (!d)
		return mt_error_set(err, -ENOENT, "%s is not a host root: no sys/bus/pci/devices", root);
	r = list_functions(d, h, &bdfs, &n);
	if (r < 0)
		return mt_error_set(err, r, "out of memory");
	h->functions = calloc(n ? n : 1, sizeof(*h->functions));
	job = malloc(sizeof(*job));
	if (!h->functions || !job)
		return mt_error_set(err, -ENOMEM, "out of memory");
	r = session_open(&s, PCI_ACCESS_SYS_BUS_PCI, "sysfs.path", bus_path, err);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		*job = (struct function_job){};
		r = read_sysfs_function(&s, dirfd(d), bdfs[i], h, iommu, job, &tally);
	}
	session_close(&s);
	if (r >= 0)
		r = add_tally_notes(h, &tally, "read without CAP_SYS_ADMIN");
	if (r < 0)
		return mt_error_set(err, r, "%s: cannot read the PCI functions: %s", root, strerror(-r));
	return 0;
}

/* ----- lspci dump --------------------------------------------------------- */

static void decode_dump_bars(const struct pci_dev *d, struct pci_function *f)
{
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		pciaddr_t base = d->base_addr[i];
		struct pci_bar *b = &f->bars[i];

		if (!base)
			continue;
		b->present = true;
		b->is_io = (base & PCI_BASE_ADDRESS_SPACE) == PCI_BASE_ADDRESS_SPACE_IO;
		if (b->is_io) {
			b->start = base & PCI_ADDR_IO_MASK;
			continue;
		}
		b->start = base & PCI_ADDR_MEM_MASK;
		b->prefetchable = base & PCI_BASE_ADDRESS_MEM_PREFETCH;
		b->is_64bit = (base & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
	}
}

/* In the strcmp() order of the BDF strings, like the functions read from
 * sysfs: "10000:00:00.0" (Intel VMD) sorts before "1000:00:00.0". */
static int compare_dev(const void *a, const void *b)
{
	const struct pci_dev *x = *(struct pci_dev *const *)a, *y = *(struct pci_dev *const *)b;

	if (x->domain != y->domain) {
		char dx[16], dy[16];

		snprintf(dx, sizeof(dx), "%04x:", (unsigned)x->domain);
		snprintf(dy, sizeof(dy), "%04x:", (unsigned)y->domain);
		return strcmp(dx, dy);
	}
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return (x->func > y->func) - (x->func < y->func);
}

/* libpci's dump back end parses the whole file in pci_init() and keeps the
 * devices on its own list, which pci_cleanup() frees. */
static int sorted_dump_devices(struct pci_access *a, struct pci_dev ***ret, size_t *ret_n)
{
	struct pci_dev **devs;
	size_t n = 0, i = 0;

	for (struct pci_dev *d = a->devices; d; d = d->next)
		n++;
	devs = calloc(n ? n : 1, sizeof(*devs));
	if (!devs)
		return -ENOMEM;
	for (struct pci_dev *d = a->devices; d; d = d->next)
		devs[i++] = d;
	qsort(devs, n, sizeof(*devs), compare_dev);
	*ret = devs;
	*ret_n = n;
	return 0;
}

static int dump_job_fn(struct pci_session *s, void *data)
{
	struct function_job *j = data;
	struct pci_dev *d = j->dev;
	struct pci_function *f = j->f;

	j->config_len = read_config(d, j->config);
	pci_fill_info(d, PCI_FILL_DUMP);
	f->vendor_id = d->vendor_id;
	f->device_id = d->device_id;
	f->subsys_vendor_id = d->subsys_vendor_id;
	f->subsys_device_id = d->subsys_id;
	f->class_code = (uint32_t)d->device_class << 8 | d->prog_if;
	f->revision = d->rev_id;
	decode_dump_bars(d, f);
	return decode_caps_fn(s, j);
}

/* 1: bdf is the canonical address of d, 0: skipped with a note. libpci
 * takes whatever hex digits the dump has there: device numbers up to ff,
 * functions up to 9, and the same address twice. */
static int dump_function_bdf(const struct pci_dev *d, struct host *h, char bdf[MT_BDF_MAX])
{
	char given[32];
	int r;

	snprintf(given, sizeof(given), "%04x:%02x:%02x.%u", (unsigned)d->domain, d->bus, d->dev, d->func);
	if (bdf_normalize(given, bdf) < 0)
		r = host_add_partial_note(h, "lspci dump: %s is not a PCI address: function skipped", given);
	else if (h->n_functions > 0 && streq(h->functions[h->n_functions - 1].bdf, bdf))
		r = host_add_partial_note(h, "lspci dump: %s is there twice: second one skipped", bdf);
	else
		return 1;
	return r < 0 ? r : 0;
}

static int read_dump_function(struct pci_session *s, struct pci_dev *d, struct host *h,
			      const struct iommu_state *iommu, struct function_job *j,
			      struct function_tally *t)
{
	struct pci_function *f = &h->functions[h->n_functions];
	const char *unit;
	char bdf[MT_BDF_MAX];
	int r;

	r = dump_function_bdf(d, h, bdf);
	if (r <= 0)
		return r;
	function_init(f, bdf);
	*j = (struct function_job){ .dev = d, .f = f };
	s->n_warnings = 0;
	r = pci_guarded(s, dump_job_fn, j);
	function_job_done(j);
	if (r < 0)
		return host_add_partial_note(h, "%s: libpci: %s: function skipped", bdf, s->error);
	tally_config(t, j);
	/* Without the header there are no ids: nothing to report. */
	if (j->config_len < CONFIG_HEADER_SIZE)
		return 0;
	if (s->n_warnings > 0 && (r = host_add_note(h, "%s: libpci: %s", bdf, s->warning)) < 0)
		return r;
	unit = iommu_unit_lookup(iommu, f->bdf);
	if (unit)
		copy_truncated(f->iommu_unit, sizeof(f->iommu_unit), unit);
	h->n_functions++;
	return 0;
}

int inventory_read_pci_dump(const char *dump, struct host *h, const struct iommu_state *iommu,
			    struct mt_error *err)
{
	_cleanup_free_ struct pci_dev **devs = NULL;
	_cleanup_free_ struct function_job *job = NULL;
	struct pci_session s = {};
	struct function_tally tally = {};
	size_t n = 0;
	int r;

	r = session_open(&s, PCI_ACCESS_DUMP, "dump.name", dump, err);
	if (r >= 0) {
		r = sorted_dump_devices(s.access, &devs, &n);
		job = malloc(sizeof(*job));
		h->functions = calloc(n ? n : 1, sizeof(*h->functions));
		if (r >= 0 && (!job || !h->functions))
			r = -ENOMEM;
	}
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = read_dump_function(&s, devs[i], h, iommu, job, &tally);
	session_close(&s);
	if (r >= 0)
		r = add_tally_notes(h, &tally, "the dump holds only the header (lspci -x)");
	if (r >= 0)
		r = host_add_note(h, "read from an lspci dump (%s): no BAR sizes, kernel driver, IOMMU group or SR-IOV links",
				  dump);
	if (r < 0)
		return err && err->code ? err->code
					: mt_error_set(err, r, "%s: cannot read the lspci dump: %s", dump, strerror(-r));
	/* functions without a config header were skipped */
	if (h->n_functions == 0)
		return mt_error_set(err, -EINVAL, "%s: no PCI functions with a config space header in this lspci dump",
				    dump);
	return 0;
}
