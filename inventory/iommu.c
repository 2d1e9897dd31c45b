/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOMMU units (sys/class/iommu: kind, VT-d cap/ecap, covered functions),
 * IOMMU group types, and the boot options that change coherency
 * (amd_iommu=pgtbl_v2, vfio's unsafe no-IOMMU mode). FACTS §3. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "inventory-internal.h"

#define VTD_ECAP_C (1ULL << 0)     /* page-walk coherency */
#define VTD_ECAP_SC (1ULL << 7)    /* snoop control */

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

void iommu_state_done(struct iommu_state *s)
{
	free(s->groups);
	free(s->refs);
	*s = (struct iommu_state){};
}

int parse_hex_register(const char *text, uint64_t *ret)
{
	char buf[32];
	size_t n;

	if (!text)
		return -EINVAL;
	n = strcspn(text, "\n");
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
		return parse_u64(buf + 2, 16, ret);
	return parse_u64(buf, 16, ret);
}

int register_text_parse(const char *text, bool second_word, uint64_t *ret)
{
	const char *colon = second_word ? strchr(text, ':') : NULL;
	char first[32];
	uint64_t ignored;

	if (!colon)
		return parse_hex_register(text, ret);
	if ((size_t)(colon - text) >= sizeof(first) || parse_hex_register(colon + 1, &ignored) < 0)
		return -EINVAL;
	memcpy(first, text, (size_t)(colon - text));
	first[colon - text] = '\0';
	return parse_hex_register(first, ret);
}

static int read_register(int unit_fd, const char *file, bool second_word, uint64_t *ret)
{
	char buf[80];
	int r = read_small_at(unit_fd, file, buf, sizeof(buf));

	/* buf holds nothing when the read failed */
	return r < 0 ? r : register_text_parse(buf, second_word, ret);
}

static int read_unit_registers(int unit_fd, struct iommu_unit *u, const char *dir,
			       const char *cap_file, const char *ecap_file, struct host *h)
{
	char cap_path[128], ecap_path[128];
	int r;

	snprintf(cap_path, sizeof(cap_path), "%s/%s", dir, cap_file);
	snprintf(ecap_path, sizeof(ecap_path), "%s/%s", dir, ecap_file);
	const char *failed = cap_path;

	r = read_register(unit_fd, cap_path, false, &u->cap);
	if (r >= 0) {
		failed = ecap_path;
		r = read_register(unit_fd, ecap_path, u->kind == IOMMU_KIND_AMD_VI, &u->ecap);
	}
	if (r < 0) {
		u->cap = u->ecap = 0;
		return host_add_partial_note(h, "IOMMU unit %s: %s: %s: coherency of its devices unknown",
					     u->name, failed,
					     r == -EINVAL ? "not a hex register value" : strerror(-r));
	}
	u->regs_valid = true;
	return 0;
}

static int classify_unit(int unit_fd, struct iommu_unit *u, struct host *h)
{
	if (faccessat(unit_fd, "intel-iommu", F_OK, 0) == 0) {
		u->kind = IOMMU_KIND_INTEL_VTD;
		return read_unit_registers(unit_fd, u, "intel-iommu", "cap", "ecap", h);
	}
	if (faccessat(unit_fd, "amd-iommu", F_OK, 0) == 0) {
		int r;

		u->kind = IOMMU_KIND_AMD_VI;
		/* AMD-Vi always snoops (FACTS §9); the registers are informative. */
		u->snoop_control = true;
		r = read_unit_registers(unit_fd, u, "amd-iommu", "cap", "features", h);
		u->snoop_control = true;
		return r;
	}
	u->kind = strstr(u->name, "smmu") ? IOMMU_KIND_ARM_SMMU : IOMMU_KIND_OTHER;
	return 0;
}

static int compare_bdf(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The PCI functions listed in the unit's devices/ directory, sorted. */
static int read_unit_devices(int unit_fd, struct iommu_unit *u)
{
	_cleanup_closedir_ DIR *d = NULL;
	int fd = openat(unit_fd, "devices", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((e = readdir(d))) {
		char bdf[MT_BDF_MAX], (*devs)[MT_BDF_MAX];

		/* Units also list non-PCI devices (platform, ACPI): skip them. */
		if (e->d_name[0] == '.' || bdf_normalize(e->d_name, bdf) < 0)
			continue;
		devs = realloc(u->devices, (u->n_devices + 1) * sizeof(*devs));
		if (!devs)
			return -ENOMEM;
		u->devices = devs;
		memcpy(u->devices[u->n_devices++], bdf, MT_BDF_MAX);
	}
	qsort(u->devices, u->n_devices, sizeof(*u->devices), compare_bdf);
	return 0;
}

static int read_unit(int class_fd, const char *name, struct iommu_unit *u, struct host *h)
{
	_cleanup_close_ int fd = -1;
	int r;

	copy_truncated(u->name, sizeof(u->name), name);
	fd = openat(class_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return host_add_partial_note(h, "IOMMU unit %s: cannot open sys/class/iommu/%s: %s",
					     name, name, strerror(errno));
	r = classify_unit(fd, u, h);
	if (r < 0)
		return r;
	r = read_unit_devices(fd, u);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return host_add_partial_note(h, "IOMMU unit %s: cannot list its devices: %s",
					     name, strerror(-r));
	return 0;
}

static int compare_unit(const void *a, const void *b)
{
	return strverscmp(((const struct iommu_unit *)a)->name, ((const struct iommu_unit *)b)->name);
}

static int read_units(const char *root, struct host *h)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[4096];
	struct dirent *e;
	int r;

	r = root_path(root, "/sys/class/iommu", path, sizeof(path));
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : host_add_partial_note(h, "cannot open %s: %s", path, strerror(errno));
	while ((e = readdir(d))) {
		struct iommu_unit *units;

		if (e->d_name[0] == '.')
			continue;
		units = realloc(h->iommu_units, (h->n_iommu_units + 1) * sizeof(*units));
		if (!units)
			return -ENOMEM;
		h->iommu_units = units;
		units = &h->iommu_units[h->n_iommu_units++];
		*units = (struct iommu_unit){};
		r = read_unit(dirfd(d), e->d_name, units, h);
		if (r < 0)
			return r;
	}
	if (h->n_iommu_units > 0)
		qsort(h->iommu_units, h->n_iommu_units, sizeof(*h->iommu_units), compare_unit);
	return 0;
}

static void decode_vtd_bits(struct host *h)
{
	for (size_t i = 0; i < h->n_iommu_units; i++) {
		struct iommu_unit *u = &h->iommu_units[i];

		if (u->kind != IOMMU_KIND_INTEL_VTD || !u->regs_valid)
			continue;
		u->snoop_control = u->ecap & VTD_ECAP_SC;
		u->pagewalk_coherent = u->ecap & VTD_ECAP_C;
	}
}

static int compare_ref(const void *a, const void *b)
{
	return strcmp(((const struct iommu_device_ref *)a)->bdf, ((const struct iommu_device_ref *)b)->bdf);
}

/* Index every (function, unit) pair once so that each function finds its
 * unit by binary search: hosts have thousands of VFs. */
static int index_unit_devices(const struct host *h, struct iommu_state *s)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_iommu_units; i++)
		n += h->iommu_units[i].n_devices;
	if (n == 0)
		return 0;
	s->refs = calloc(n, sizeof(*s->refs));
	if (!s->refs)
		return -ENOMEM;
	for (size_t i = 0; i < h->n_iommu_units; i++)
		for (size_t j = 0; j < h->iommu_units[i].n_devices; j++)
			s->refs[s->n_refs++] = (struct iommu_device_ref){
				.bdf = h->iommu_units[i].devices[j],
				.unit = h->iommu_units[i].name,
			};
	qsort(s->refs, s->n_refs, sizeof(*s->refs), compare_ref);
	return 0;
}

const char *iommu_unit_lookup(const struct iommu_state *s, const char *bdf)
{
	struct iommu_device_ref key = { .bdf = bdf }, *found;

	if (!s || s->n_refs == 0)
		return NULL;
	found = bsearch(&key, s->refs, s->n_refs, sizeof(*s->refs), compare_ref);
	return found ? found->unit : NULL;
}

static int compare_group(const void *a, const void *b)
{
	int x = ((const struct iommu_group_type *)a)->group, y = ((const struct iommu_group_type *)b)->group;

	return (x > y) - (x < y);
}

const char *iommu_group_type_lookup(const struct iommu_state *s, int group)
{
	struct iommu_group_type key = { .group = group }, *found;

	if (!s || s->n_groups == 0)
		return NULL;
	found = bsearch(&key, s->groups, s->n_groups, sizeof(*s->groups), compare_group);
	return found && found->type[0] ? found->type : NULL;
}

static int read_group_type(int groups_fd, const char *name, struct iommu_group_type *g)
{
	char rel[300];
	int r;

	snprintf(rel, sizeof(rel), "%s/type", name);
	r = read_small_at(groups_fd, rel, g->type, sizeof(g->type));
	g->type[strcspn(g->type, "\n")] = '\0';
	return r;
}

static int read_group_types(const char *root, struct iommu_state *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	char path[4096];
	struct dirent *e;
	int r;

	r = root_path(root, "/sys/kernel/iommu_groups", path, sizeof(path));
	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct iommu_group_type *groups, g = {};
		uint64_t n;

		if (e->d_name[0] == '.' || parse_u64(e->d_name, 10, &n) < 0 || n > INT32_MAX)
			continue;
		g.group = (int)n;
		/* Kernels before 5.11 have no type file: the type stays unknown. */
		if (read_group_type(dirfd(d), e->d_name, &g) < 0)
			g.type[0] = '\0';
		groups = realloc(s->groups, (s->n_groups + 1) * sizeof(*groups));
		if (!groups)
			return -ENOMEM;
		s->groups = groups;
		s->groups[s->n_groups++] = g;
	}
	if (s->n_groups > 0)
		qsort(s->groups, s->n_groups, sizeof(*s->groups), compare_group);
	return 0;
}

bool cmdline_has_amd_v2(const char *cmdline)
{
	for (const char *p = cmdline; (p = strstr(p, "amd_iommu=")); p++) {
		const char *opts;
		size_t len;

		if (p != cmdline && p[-1] != ' ')
			continue;
		opts = p + strlen("amd_iommu=");
		len = strcspn(opts, " \n");
		for (const char *o = opts; o < opts + len; o += strcspn(o, ",") + 1)
			if (strncmp(o, "pgtbl_v2", 8) == 0 && (o[8] == ',' || o[8] == ' ' || o[8] == '\n' || !o[8]))
				return true;
	}
	return false;
}

static int read_boot_options(const char *root, struct host *h)
{
	_cleanup_free_ char *cmdline = NULL;
	char path[4096], value[16];
	int r;

	r = root_path(root, "/proc/cmdline", path, sizeof(path));
	if (r < 0)
		return r;
	r = read_file_bounded(path, SMALL_FILE_MAX, &cmdline, NULL);
	if (r == -ENOMEM)
		return r;
	if (r >= 0)
		h->amd_iommu_v2 = cmdline_has_amd_v2(cmdline);
	else if ((r = host_add_note(h, "cannot read %s: %s: amd_iommu=pgtbl_v2 assumed off", path, strerror(-r))) < 0)
		return r;
	r = root_path(root, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", path, sizeof(path));
	if (r < 0)
		return r;
	/* Without the vfio module there is no no-IOMMU mode either. */
	if (read_one_line(path, value, sizeof(value)) < 0)
		return 0;
	if (parse_kernel_bool(value, &h->vfio_noiommu) < 0)
		return host_add_note(h, "%s: \"%s\" is not Y/N: vfio no-IOMMU mode assumed off", path, value);
	return 0;
}

int inventory_read_iommu(const char *root, struct host *h, struct iommu_state *ret_state,
			 struct mt_error *err)
{
	struct iommu_state s = {};
	int r;

	r = read_units(root, h);
	if (r >= 0) {
		decode_vtd_bits(h);
		r = index_unit_devices(h, &s);
	}
	if (r >= 0)
		r = read_group_types(root, &s);
	if (r >= 0)
		r = read_boot_options(root, h);
	if (r < 0) {
		iommu_state_done(&s);
		return mt_error_set(err, r, "%s: cannot read the IOMMU state: %s", root, strerror(-r));
	}
	*ret_state = s;
	return 0;
}
