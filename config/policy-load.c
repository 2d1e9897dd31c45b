/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the operator policy from disk: the main file, then the drop-ins
 * of several directories in lexical order, with same-name masking as in
 * systemd's drop-in directories. All or nothing: a bad file fails the load. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "config.h"

struct dropin {
	char *name;                    /* "50-gpu.json" */
	char *path;                    /* of the directory that wins for name */
};

struct dropin_list {
	struct dropin *items;
	size_t n;
};

DEFINE_TRIVIAL_CLEANUP_FUNC(struct operator_policy *, operator_policy_free)

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static void dropin_list_clear(struct dropin_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].name);
		free(l->items[i].path);
	}
	free(l->items);
	*l = (struct dropin_list){ NULL, 0 };
}

int policy_parse_file(const char *path, struct operator_policy *pol, struct mt_error *err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	if (!path || !pol)
		return -EINVAL;
	r = read_file_bounded(path, POLICY_FILE_MAX_BYTES, &text, &len);
	if (r == -EFBIG)
		return mt_error_set(err, r, "%s: file is larger than %u bytes", path,
				    POLICY_FILE_MAX_BYTES);
	if (r < 0)
		return mt_error_set(err, r, "%s: cannot read: %s", path, strerror(-r));
	return policy_parse_text(text, len, path, pol, err);
}

/* A symlink to /dev/null (any device node) or an empty file masks. */
static bool is_mask(const struct stat *st)
{
	return S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ||
	       (S_ISREG(st->st_mode) && st->st_size == 0);
}

/* *.json, not hidden (".#x.json" is an editor lock file). */
static bool is_dropin_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' && len > 5 && streq(name + len - 5, ".json");
}

static int dropin_list_put(struct dropin_list *l, const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL;
	struct dropin *items;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	/* A later directory's file of the same name masks the earlier one. */
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->items[i].name, name)) {
			free(l->items[i].path);
			l->items[i].path = TAKE_PTR(path);
			return 0;
		}
	items = reallocarray(l->items, l->n + 1, sizeof(*items));
	if (!items)
		return -ENOMEM;
	l->items = items;
	items[l->n].name = strdup(name);
	if (!items[l->n].name)
		return -ENOMEM;
	items[l->n++].path = TAKE_PTR(path);
	return 0;
}

static int collect_dropins(const char *dir, struct dropin_list *l, struct mt_error *err)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		if (errno == ENOENT)
			return 0;
		return mt_error_set(err, -errno, "%s: cannot open directory: %s", dir,
				    strerror(errno));
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		int r;

		if (!is_dropin_name(de->d_name))
			continue;
		r = dropin_list_put(l, dir, de->d_name);
		if (r < 0)
			return mt_error_set(err, r, "%s: out of memory", dir);
	}
	if (errno != 0)
		return mt_error_set(err, -errno, "%s: cannot read directory: %s", dir,
				    strerror(errno));
	return 0;
}

static int compare_dropins(const void *a, const void *b)
{
	return strcmp(((const struct dropin *)a)->name, ((const struct dropin *)b)->name);
}

/* Parse path into pol unless it is missing or a mask. explicit_file: the
 * main file, which must be a regular file when it exists; drop-in
 * directories may hold other things, which are skipped. */
static int load_file(const char *path, bool explicit_file, struct operator_policy *pol,
		     struct mt_error *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return mt_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (is_mask(&st))
		return 0;
	if (!S_ISREG(st.st_mode))
		return explicit_file ? mt_error_set(err, -EISDIR, "%s: not a regular file", path) : 0;
	return policy_parse_file(path, pol, err);
}

static int load_dropins(const char *const *dirs, struct operator_policy *pol, struct mt_error *err)
{
	_cleanup_(dropin_list_clear) struct dropin_list l = { NULL, 0 };
	int r;

	for (size_t i = 0; dirs && dirs[i]; i++) {
		r = collect_dropins(dirs[i], &l, err);
		if (r < 0)
			return r;
	}
	if (l.n > 0)
		qsort(l.items, l.n, sizeof(*l.items), compare_dropins);
	for (size_t i = 0; i < l.n; i++) {
		r = load_file(l.items[i].path, false, pol, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int policy_load(const char *main_file, const char *const *dropin_dirs,
		struct operator_policy **ret, struct mt_error *err)
{
	_cleanup_(operator_policy_freep) struct operator_policy *p = NULL;
	int r;

	if (!ret)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return mt_error_set(err, -ENOMEM, "out of memory");
	operator_policy_init(p);
	if (main_file) {
		r = load_file(main_file, true, p, err);
		if (r < 0)
			return r;
	}
	r = load_dropins(dropin_dirs, p, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

void operator_policy_free(struct operator_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_sources; i++)
		free(p->sources[i]);
	free(p->sources);
	free(p->vm_rules);
	free(p->device_rules);
	free(p);
}
