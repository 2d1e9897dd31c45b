/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU option syntax (QemuOpts, qemu_strtosz, qapi_bool_parse), re-read
 * from QEMU's documented behaviour so that sizes and flags given through
 * <qemu:commandline> mean what QEMU will take them to mean. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "qemu-opts.h"

/* Read a value up to the next single ',' (",," is a literal comma) into a
 * new string; *end is left on the ',' or the NUL. */
static char *opt_value_dup(const char *p, const char **end)
{
	char *v = malloc(strlen(p) + 1), *q = v;

	if (!v)
		return NULL;
	while (*p) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		*q++ = *p++;
	}
	*q = '\0';
	*end = p;
	return v;
}

static int opts_add(struct qemu_opts *o, char *key, char *value)
{
	struct qemu_opt *n;

	if (!key || !value) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	n = realloc(o->opts, (o->n_opts + 1) * sizeof(*n));
	if (!n) {
		free(key);
		free(value);
		return -ENOMEM;
	}
	o->opts = n;
	o->opts[o->n_opts++] = (struct qemu_opt) { .key = key, .value = value };
	return 0;
}

/* One element at p: "key=value", an implied first value, or a flag. */
static int opts_parse_one(struct qemu_opts *o, const char **p, const char *implied_key)
{
	size_t len = strcspn(*p, "=,");
	const char *s = *p;

	if (s[len] == '=') {
		if (len == 0)
			return -EINVAL;
		*p = s + len + 1;
		return opts_add(o, strndup(s, len), opt_value_dup(*p, p));
	}
	if (implied_key)
		return opts_add(o, strdup(implied_key), opt_value_dup(s, p));
	*p = s + len;
	if (len == 0)
		return 0;       /* an empty element, as in "a=1,": nothing */
	if (len > 2 && strncmp(s, "no", 2) == 0)
		return opts_add(o, strndup(s + 2, len - 2), strdup("off"));
	return opts_add(o, strndup(s, len), strdup("on"));
}

int qemu_opts_parse(const char *s, const char *implied_key, struct qemu_opts *ret)
{
	struct qemu_opts o = {};
	const char *p = s;
	int r;

	if (!s)
		return -EINVAL;
	while (*p) {
		r = opts_parse_one(&o, &p, implied_key);
		if (r < 0) {
			qemu_opts_done(&o);
			return r;
		}
		implied_key = NULL;
		if (*p == ',')
			p++;
	}
	*ret = o;
	return 0;
}

void qemu_opts_done(struct qemu_opts *opts)
{
	if (!opts)
		return;
	for (size_t i = 0; i < opts->n_opts; i++) {
		free(opts->opts[i].key);
		free(opts->opts[i].value);
	}
	free(opts->opts);
	opts->opts = NULL;
	opts->n_opts = 0;
}

const char *qemu_opts_get(const struct qemu_opts *opts, const char *key)
{
	for (size_t i = opts->n_opts; i > 0; i--)
		if (streq(opts->opts[i - 1].key, key))
			return opts->opts[i - 1].value;
	return NULL;
}

static int size_suffix_shift(char c)
{
	static const char suffixes[] = "bkmgtpe";
	const char *p = c ? strchr(suffixes, tolower((unsigned char)c)) : NULL;

	return p ? (int)(p - suffixes) * 10 : -1;
}

/* value * 2^shift, plus the fraction "0.<frac>" of the unit (QEMU allows
 * "1.5G"), rounded to a byte. */
static int size_scale(uint64_t value, const char *frac, int shift, uint64_t *ret)
{
	uint64_t part = 0;

	if (value > (UINT64_MAX >> shift))
		return -ERANGE;
	value <<= shift;
	if (*frac) {
		char buf[40];
		long double f;

		snprintf(buf, sizeof(buf), "0.%s", frac);
		f = strtold(buf, NULL);
		part = (uint64_t)(f * (long double)(1ULL << shift) + 0.5L);
		if (part > UINT64_MAX - value)
			return -ERANGE;
	}
	*ret = value + part;
	return 0;
}

int qemu_parse_size(const char *s, uint64_t *ret)
{
	char digits[32], frac[32] = "";
	size_t n, nf = 0;
	uint64_t value;
	int shift = 0, r;

	if (!s)
		return -EINVAL;
	if (strncasecmp(s, "0x", 2) == 0)
		return parse_u64(s, 16, ret);   /* QEMU: no suffix with hex */
	n = strspn(s, "0123456789");
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(digits))
		return -ERANGE;
	memcpy(digits, s, n);
	digits[n] = '\0';
	s += n;
	if (*s == '.') {
		nf = strspn(s + 1, "0123456789");
		if (nf == 0 || nf >= sizeof(frac))
			return -EINVAL;
		memcpy(frac, s + 1, nf);
		frac[nf] = '\0';
		s += nf + 1;
	}
	if (*s) {
		shift = size_suffix_shift(*s);
		if (shift < 0 || s[1])
			return -EINVAL;
	}
	/* QEMU rejects a fraction of a byte. */
	if (nf > 0 && shift == 0)
		return -EINVAL;
	r = parse_u64(digits, 10, &value);
	if (r < 0)
		return r;
	return size_scale(value, frac, shift, ret);
}

int qemu_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "on", "yes", "true", "y" };
	static const char *const no[] = { "off", "no", "false", "n" };

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(yes); i++)
		if (streq(s, yes[i])) {
			*ret = true;
			return 0;
		}
	for (size_t i = 0; i < ELEMENTSOF(no); i++)
		if (streq(s, no[i])) {
			*ret = false;
			return 0;
		}
	return -EINVAL;
}

bool qemu_driver_is_virtio_gpu(const char *driver)
{
	return driver && (strncmp(driver, "virtio-gpu", 10) == 0 ||
			  strncmp(driver, "virtio-vga", 10) == 0);
}
