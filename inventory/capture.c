/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* inventory_capture(): copy what the inventory (and lspci's sysfs back end)
 * reads from the live host into a directory laid out like it, with the
 * same relative symlinks, plus memtype-snapshot.json for what only an
 * ioctl can tell. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "inventory-internal.h"

#define CAPTURE_FILE_MAX (4 * 1024 * 1024)

/* Device attributes read by memtype or by lspci -vvv (libpci's sysfs back
 * end); the ones a device lacks are skipped. */
static const char *const device_files[] = {
	"config", "resource", "vendor", "device", "class", "revision",
	"subsystem_vendor", "subsystem_device", "irq", "modalias", "numa_node",
	"label", "vpd",
};

static const char *const iommu_register_files[] = {
	"intel-iommu/cap", "intel-iommu/ecap", "intel-iommu/address", "intel-iommu/version",
	"amd-iommu/cap", "amd-iommu/features",
};

struct capture {
	const char *dir;
	struct mt_error *err;
};

static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* dir + an absolute live path. */
static int capture_path(const struct capture *c, const char *live, char *buf, size_t size)
{
	if (snprintf(buf, size, "%s%s", c->dir, live) >= (int)size)
		return mt_error_set(c->err, -ENAMETOOLONG, "path too long: %s%s", c->dir, live);
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int capture_mkdir(const struct capture *c, const char *live)
{
	char path[PATH_MAX];
	int r;

	r = capture_path(c, live, path, sizeof(path));
	if (r < 0)
		return r;
	r = mkdir_p(path);
	if (r < 0)
		return mt_error_set(c->err, r, "cannot create %s: %s", path, strerror(-r));
	return 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	return write_all(fd, data, len);
}

/* Copy one live file into the capture; a file the live host lacks is not
 * an error (optional attributes), one that cannot be written is. */
static int capture_file(const struct capture *c, const char *live)
{
	_cleanup_free_ char *data = NULL;
	char path[PATH_MAX], parent[PATH_MAX];
	size_t len = 0;
	int r;

	if (read_file_bounded(live, CAPTURE_FILE_MAX, &data, &len) < 0)
		return 0;
	r = capture_path(c, live, path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	r = mkdir_p(parent);
	if (r >= 0)
		r = write_file(path, data, len);
	if (r < 0)
		return mt_error_set(c->err, r, "cannot write %s: %s", path, strerror(-r));
	return 0;
}

/* The relative path from directory from to to (both absolute, canonical). */
static int relative_path(const char *from, const char *to, char *buf, size_t size)
{
	size_t common = 0, len = 0;

	/* the longest common prefix that ends on a component boundary */
	for (size_t i = 0;; i++) {
		if ((from[i] == '\0' || from[i] == '/') && (to[i] == '\0' || to[i] == '/'))
			common = i;
		if (from[i] != to[i] || !from[i])
			break;
	}
	buf[0] = '\0';
	for (const char *p = from + common; *p; p++) {
		if (*p != '/')
			continue;
		if (len + 4 > size)
			return -ENAMETOOLONG;
		len += (size_t)snprintf(buf + len, size - len, "../");
	}
	if (snprintf(buf + len, size - len, "%s", to[common] ? to + common + 1 : ".") >= (int)(size - len))
		return -ENAMETOOLONG;
	return 0;
}

/* Recreate the live symlink link (absolute path) in the capture and create
 * the directory it points to. Sysfs links are relative already; an
 * absolute one is rewritten relative so that the capture stands alone.
 * ret_target gets the canonical live target. Missing link: 0, nothing. */
static int capture_link(const struct capture *c, const char *link, char ret_target[PATH_MAX])
{
	char target[PATH_MAX], path[PATH_MAX], dir[PATH_MAX];
	ssize_t n;
	int r;

	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	if (!realpath(link, ret_target))
		return 0;  /* broken on the live host: nothing to copy */
	snprintf(dir, sizeof(dir), "%s", link);
	*strrchr(dir, '/') = '\0';
	if (target[0] == '/') {
		char real_dir[PATH_MAX];

		if (!realpath(dir, real_dir) || relative_path(real_dir, ret_target, target, sizeof(target)) < 0)
			return mt_error_set(c->err, -EINVAL, "cannot make %s relative", link);
	}
	r = capture_mkdir(c, ret_target);
	if (r >= 0)
		r = capture_mkdir(c, dir);
	if (r < 0)
		return r;
	r = capture_path(c, link, path, sizeof(path));
	if (r < 0)
		return r;
	if (symlink(target, path) < 0 && errno != EEXIST)
		return mt_error_set(c->err, -errno, "cannot create link %s: %m", path);
	return 1;
}

static int capture_device_links(const struct capture *c, const char *dev, const struct pci_function *f)
{
	static const char *const links[] = { "driver", "iommu_group", "iommu", "physfn" };
	char link[PATH_MAX + 32], target[PATH_MAX], file[PATH_MAX + 32];
	int r;

	for (size_t i = 0; i < ELEMENTSOF(links); i++) {
		snprintf(link, sizeof(link), "%s/%s", dev, links[i]);
		r = capture_link(c, link, target);
		if (r < 0)
			return r;
		if (r > 0 && streq(links[i], "driver")) {
			/* the driver's link back to the device, as in sysfs */
			snprintf(file, sizeof(file), "%s/%s", target, f->bdf);
			r = capture_link(c, file, link);
		}
		if (r > 0 && streq(links[i], "iommu_group")) {
			snprintf(file, sizeof(file), "%s/type", target);
			r = capture_file(c, file);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < f->n_virtfns; i++) {
		snprintf(link, sizeof(link), "%s/virtfn%zu", dev, i);
		r = capture_link(c, link, target);
		if (r < 0)
			return r;
	}
	return 0;
}

static int capture_function(const struct capture *c, const struct pci_function *f)
{
	char link[PATH_MAX], dev[PATH_MAX], file[PATH_MAX + 32];
	int r;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", f->bdf);
	r = capture_link(c, link, dev);
	if (r <= 0)
		return r < 0 ? r : mt_error_set(c->err, -ENOENT, "%s vanished during the capture", link);
	for (size_t i = 0; i < ELEMENTSOF(device_files); i++) {
		snprintf(file, sizeof(file), "%s/%s", dev, device_files[i]);
		r = capture_file(c, file);
		if (r < 0)
			return r;
	}
	for (unsigned i = 0; i < PCI_BAR_COUNT; i++) {
		if (!f->bars[i].has_wc_file)
			continue;
		/* only its existence matters */
		snprintf(file, sizeof(file), "%s/resource%u_wc", dev, i);
		r = capture_path(c, file, link, sizeof(link));
		if (r >= 0 && (r = write_file(link, "", 0)) < 0)
			return mt_error_set(c->err, r, "cannot write %s: %s", link, strerror(-r));
	}
	return capture_device_links(c, dev, f);
}

static int capture_unit(const struct capture *c, const struct iommu_unit *u)
{
	char link[PATH_MAX + 64], unit[PATH_MAX], file[PATH_MAX + 64];
	int r;

	snprintf(link, sizeof(link), "/sys/class/iommu/%s", u->name);
	r = capture_link(c, link, unit);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(iommu_register_files); i++) {
		snprintf(file, sizeof(file), "%s/%s", unit, iommu_register_files[i]);
		r = capture_file(c, file);
		if (r < 0)
			return r;
	}
	snprintf(file, sizeof(file), "%s/devices", unit);
	r = capture_mkdir(c, file);
	for (size_t i = 0; r >= 0 && i < u->n_devices; i++) {
		char target[PATH_MAX];

		snprintf(link, sizeof(link), "%s/devices/%s", unit, u->devices[i]);
		r = capture_link(c, link, target);
	}
	return r < 0 ? r : 0;
}

/* Group types are read for every group, as the inventory does. */
static int capture_group_types(const struct capture *c)
{
	_cleanup_(closedirp) DIR *d = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char file[PATH_MAX];
		int r;

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/sys/kernel/iommu_groups/%s/type", e->d_name);
		r = capture_file(c, file);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Slots give lspci's "Physical Slot" line. */
static int capture_slots(const struct capture *c)
{
	_cleanup_(closedirp) DIR *d = opendir("/sys/bus/pci/slots");
	struct dirent *e;
	int r = capture_mkdir(c, "/sys/bus/pci/slots");

	while (r >= 0 && d && (e = readdir(d))) {
		char file[PATH_MAX];

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "/sys/bus/pci/slots/%s/address", e->d_name);
		r = capture_file(c, file);
	}
	return r < 0 ? r : 0;
}

/* All of a loaded module's parameters: the TDP one is read, the others
 * tell a reader of the capture how KVM was set up. */
static int capture_module_parameters(const struct capture *c, const char *module)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char dir[PATH_MAX], file[2 * PATH_MAX];
	struct dirent *e;
	int r;

	snprintf(dir, sizeof(dir), "/sys/module/%s", module);
	if (access(dir, F_OK) < 0)
		return 0;
	r = capture_mkdir(c, dir);
	snprintf(dir, sizeof(dir), "/sys/module/%s/parameters", module);
	d = opendir(dir);
	while (r >= 0 && d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
		r = capture_file(c, file);
	}
	return r < 0 ? r : 0;
}

static int capture_platform_files(const struct capture *c)
{
	static const char *const files[] = {
		"/proc/cpuinfo", "/proc/sys/kernel/osrelease", "/proc/cmdline",
		"/sys/module/vfio/parameters/enable_unsafe_noiommu_mode",
	};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		r = capture_file(c, files[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_kvm_modules; i++) {
		r = capture_module_parameters(c, kvm_modules[i].name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int capture_snapshot(const struct capture *c, const struct host *h)
{
	_cleanup_free_ char *text = NULL;
	char path[PATH_MAX];
	int r;

	r = snapshot_format(&h->kvm, &text);
	if (r < 0)
		return mt_error_set(c->err, r, "out of memory");
	r = capture_path(c, "/" SNAPSHOT_FILE, path, sizeof(path));
	if (r >= 0 && (r = write_file(path, text, strlen(text))) < 0)
		return mt_error_set(c->err, r, "cannot write %s: %s", path, strerror(-r));
	return r;
}

static int prepare_dir(const char *dir, struct mt_error *err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;
	int r;

	r = mkdir_p(dir);
	if (r < 0)
		return mt_error_set(err, r, "cannot create %s: %s", dir, strerror(-r));
	d = opendir(dir);
	if (!d)
		return mt_error_set(err, -errno, "cannot open %s: %m", dir);
	while ((e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, ".."))
			return mt_error_set(err, -EEXIST, "%s is not empty: a capture needs a new or empty directory", dir);
	return 0;
}

int capture_check_host(const struct host *h, struct mt_error *err)
{
	if (!h->partial && streq(h->source, "sysfs"))
		return 0;
	for (size_t i = 0; i < h->n_notes; i++)
		if (strstr(h->notes[i], "config space of"))
			return mt_error_set(err, -EPERM, "refusing to capture a partial inventory: %s (run as root, with CAP_SYS_ADMIN)",
					    h->notes[i]);
	return mt_error_set(err, -EPERM, "refusing to capture a partial inventory: %s",
			    h->n_notes > 0 ? h->notes[0] : "not read from sysfs");
}

int capture_write(const struct host *h, const char *dir, struct mt_error *err)
{
	struct capture c = { .dir = dir, .err = err };
	int r;

	r = prepare_dir(dir, err);
	for (size_t i = 0; r >= 0 && i < h->n_functions; i++)
		r = capture_function(&c, &h->functions[i]);
	for (size_t i = 0; r >= 0 && i < h->n_iommu_units; i++)
		r = capture_unit(&c, &h->iommu_units[i]);
	if (r >= 0)
		r = capture_group_types(&c);
	if (r >= 0)
		r = capture_slots(&c);
	if (r >= 0)
		r = capture_platform_files(&c);
	if (r >= 0)
		r = capture_snapshot(&c, h);
	return r < 0 ? r : 0;
}

int inventory_capture(const char *dir, struct mt_error *err)
{
	static const struct inventory_options live = { .root = "/", .probe_kvm = true };
	_cleanup_(host_freep) struct host *h = NULL;
	int r;

	if (!dir || !*dir)
		return mt_error_set(err, -EINVAL, "no capture directory given");
	r = inventory_read(&live, &h, err);
	if (r < 0)
		return r;
	r = capture_check_host(h, err);
	if (r < 0)
		return r;
	return capture_write(h, dir, err);
}
