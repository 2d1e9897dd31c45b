/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inventory_read(): reads a host root (or an lspci dump) part by part into
 * struct host; the host object, its notes and small shared readers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "inventory-internal.h"

struct host *host_new(void)
{
	return calloc(1, sizeof(struct host));
}

void host_free(struct host *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n_iommu_units; i++)
		free(h->iommu_units[i].devices);
	free(h->iommu_units);
	for (size_t i = 0; i < h->n_functions; i++)
		free(h->functions[i].virtfns);
	free(h->functions);
	for (size_t i = 0; i < h->n_notes; i++)
		free(h->notes[i]);
	free(h->notes);
	free(h);
}

static int host_add_note_va(struct host *h, const char *fmt, va_list ap)
{
	char **notes;
	char *note;

	if (vasprintf(&note, fmt, ap) < 0)
		return -ENOMEM;
	notes = realloc(h->notes, (h->n_notes + 1) * sizeof(*notes));
	if (!notes) {
		free(note);
		return -ENOMEM;
	}
	notes[h->n_notes++] = note;
	h->notes = notes;
	return 0;
}

int host_add_note(struct host *h, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = host_add_note_va(h, fmt, ap);
	va_end(ap);
	return r;
}

int host_add_partial_note(struct host *h, const char *fmt, ...)
{
	va_list ap;
	int r;

	h->partial = true;
	va_start(ap, fmt);
	r = host_add_note_va(h, fmt, ap);
	va_end(ap);
	return r;
}

bool root_is_live(const char *root)
{
	return !root || !*root || streq(root, "/");
}

int read_small_at(int dir_fd, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		len += (size_t)n;
		/* sysfs attributes come whole in one read */
		if (n == 0 || len < size - 1)
			break;
	}
	buf[len] = '\0';
	return 0;
}

int parse_kernel_bool(const char *s, bool *ret)
{
	if (!s)
		return -EINVAL;
	if (streq(s, "Y") || streq(s, "y") || streq(s, "1")) {
		*ret = true;
		return 0;
	}
	if (streq(s, "N") || streq(s, "n") || streq(s, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

static int check_host_root(const char *root, struct mt_error *err)
{
	char path[4096];
	struct stat st;
	int r;

	r = root_path(root, "/sys/bus/pci/devices", path, sizeof(path));
	if (r < 0)
		return mt_error_set(err, r, "%s: root path too long", root);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return mt_error_set(err, -ENOENT, "%s is not a host root: no sys/bus/pci/devices", root);
	return 0;
}

/* CPU, kernel, KVM and IOMMU: everything but the PCI functions. */
static int read_platform(const char *root, bool probe_kvm, struct host *h,
			 struct iommu_state *iommu, struct mt_error *err)
{
	int r;

	r = inventory_read_cpu(root, h);
	if (r < 0)
		return mt_error_set(err, r, "%s: cannot read the CPU: %s", root, strerror(-r));
	r = inventory_read_kernel(root, h);
	if (r < 0)
		return mt_error_set(err, r, "%s: cannot read the kernel release: %s", root, strerror(-r));
	r = inventory_read_kvm(root, probe_kvm, h, err);
	if (r < 0)
		return r;
	return inventory_read_iommu(root, h, iommu, err);
}

static int read_from_dump(const struct inventory_options *opts, struct host *h,
			  struct mt_error *err)
{
	_cleanup_(iommu_state_done) struct iommu_state iommu = {};
	int r;

	snprintf(h->source, sizeof(h->source), "lspci-dump");
	if (opts->root) {
		snprintf(h->root, sizeof(h->root), "%s", opts->root);
		r = read_platform(opts->root, opts->probe_kvm && root_is_live(opts->root), h, &iommu, err);
		if (r < 0)
			return r;
	} else {
		h->kvm.present = MT_UNKNOWN;
		h->kvm.tdp = MT_UNKNOWN;
		r = host_add_note(h, "read from an lspci dump without a host root: CPU, kernel, KVM and IOMMU unknown");
		if (r < 0)
			return r;
	}
	return inventory_read_pci_dump(opts->lspci_dump, h, &iommu, err);
}

static int read_from_root(const struct inventory_options *opts, struct host *h,
			  struct mt_error *err)
{
	_cleanup_(iommu_state_done) struct iommu_state iommu = {};
	const char *root = root_is_live(opts->root) ? "/" : opts->root;
	int r;

	snprintf(h->source, sizeof(h->source), "sysfs");
	if (snprintf(h->root, sizeof(h->root), "%s", root) >= (int)sizeof(h->root))
		return mt_error_set(err, -ENAMETOOLONG, "root path too long: %s", root);
	r = check_host_root(root, err);
	if (r < 0)
		return r;
	r = read_platform(root, opts->probe_kvm, h, &iommu, err);
	if (r < 0)
		return r;
	return inventory_read_pci_sysfs(root, h, &iommu, err);
}

int inventory_read(const struct inventory_options *opts, struct host **ret, struct mt_error *err)
{
	static const struct inventory_options live = { .root = "/", .probe_kvm = true };
	_cleanup_(host_freep) struct host *h = NULL;
	int r;

	if (!ret)
		return mt_error_set(err, -EINVAL, "inventory_read: no place for the result");
	if (!opts)
		opts = &live;
	h = host_new();
	if (!h)
		return mt_error_set(err, -ENOMEM, "out of memory");
	if (opts->lspci_dump)
		r = read_from_dump(opts, h, err);
	else
		r = read_from_root(opts, h, err);
	if (r == -ENOMEM)
		return mt_error_set(err, r, "out of memory while reading the host");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(h);
	return 0;
}
