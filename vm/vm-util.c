/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Element, attribute and value helpers for reading libvirt domain XML, with
 * libvirt's own rules for numbers, units and UUIDs. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "vm-internal.h"

int vm_xml_error(struct mt_error *err, const xmlNode *n, int code, const char *fmt, ...)
{
	char what[MT_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mt_error_set(err, code, "domain XML line %ld: %s", xmlGetLineNo(n), what);
}

bool xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns &&
	       streq((const char *)n->name, name);
}

bool xml_is_ns(const xmlNode *n, const char *ns_uri, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       streq((const char *)n->ns->href, ns_uri) &&
	       streq((const char *)n->name, name);
}

xmlNode *xml_child(const xmlNode *parent, const char *name)
{
	for (xmlNode *c = xmlFirstElementChild((xmlNode *)parent); c; c = xmlNextElementSibling(c))
		if (xml_is(c, name))
			return c;
	return NULL;
}

char *xml_attr(const xmlNode *n, const char *name)
{
	return (char *)xmlGetNoNsProp(n, (const xmlChar *)name);
}

int xml_attr_copy(const xmlNode *n, const char *name, char *buf, size_t size,
		  struct mt_error *err)
{
	_cleanup_xml_free_ char *v = xml_attr(n, name);

	if (!v)
		return 0;
	if (strlen(v) >= size)
		return vm_xml_error(err, n, -ENAMETOOLONG,
				    "<%s %s='%.32s...'> is longer than %zu bytes",
				    (const char *)n->name, name, v, size - 1);
	memcpy(buf, v, strlen(v) + 1);
	return 1;
}

int xml_attr_bool(const xmlNode *n, const char *name, bool *ret, struct mt_error *err)
{
	_cleanup_xml_free_ char *v = xml_attr(n, name);

	if (!v)
		return 0;
	if (streq(v, "yes") || streq(v, "on"))
		*ret = true;
	else if (streq(v, "no") || streq(v, "off"))
		*ret = false;
	else
		return vm_xml_error(err, n, -EINVAL,
				    "<%s %s='%.64s'>: expected yes/no or on/off",
				    (const char *)n->name, name, v);
	return 1;
}

int xml_attr_u64(const xmlNode *n, const char *name, int base, uint64_t max,
		 uint64_t *ret, struct mt_error *err)
{
	_cleanup_xml_free_ char *v = xml_attr(n, name);
	uint64_t value;
	int r;

	if (!v)
		return 0;
	r = parse_u64(v, base, &value);
	if (r < 0)
		return vm_xml_error(err, n, -EINVAL, "<%s %s='%.64s'> is not a number",
				    (const char *)n->name, name, v);
	if (value > max)
		return vm_xml_error(err, n, -ERANGE,
				    "<%s %s='%.64s'> is out of range (at most %#llx)",
				    (const char *)n->name, name, v, (unsigned long long)max);
	*ret = value;
	return 1;
}

char *xml_text(const xmlNode *n)
{
	_cleanup_xml_free_ char *content = (char *)xmlNodeGetContent(n);
	const char *s = content ? content : "";
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

int uuid_normalize(const char *in, char out[MT_UUID_MAX])
{
	static const size_t dashes[] = { 8, 13, 18, 23 };
	char hex[33];
	size_t len, n = 0;

	if (!in)
		return -EINVAL;
	len = strlen(in);
	if (len != 32 && len != 36)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		bool dash_here = false;

		for (size_t d = 0; len == 36 && d < ELEMENTSOF(dashes); d++)
			dash_here |= i == dashes[d];
		if (dash_here) {
			if (in[i] != '-')
				return -EINVAL;
			continue;
		}
		if (!isxdigit((unsigned char)in[i]))
			return -EINVAL;
		hex[n++] = (char)tolower((unsigned char)in[i]);
	}
	hex[n] = '\0';
	snprintf(out, MT_UUID_MAX, "%.8s-%.4s-%.4s-%.4s-%.12s",
		 hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

/* The multiplier of a libvirt unit other than bytes: a prefix letter alone
 * or with "iB" is 1024-based, with "B" alone 1000-based. 0 when unknown. */
static uint64_t libvirt_unit_scale(const char *unit)
{
	static const char prefixes[] = "kmgtpe";
	const char *p = strchr(prefixes, tolower((unsigned char)unit[0]));
	uint64_t base, scale = 1;

	if (!p || !unit[0])
		return 0;
	if (!unit[1] || strcasecmp(unit + 1, "iB") == 0)
		base = 1024;
	else if (tolower((unsigned char)unit[1]) == 'b' && !unit[2])
		base = 1000;
	else
		return 0;
	for (const char *q = prefixes; q <= p; q++)
		scale *= base;
	return scale;
}

int libvirt_scale(uint64_t value, const char *unit, uint64_t *ret)
{
	uint64_t scale = 1;

	if (unit && *unit && strcasecmp(unit, "b") != 0 && strcasecmp(unit, "byte") != 0 &&
	    strcasecmp(unit, "bytes") != 0) {
		scale = libvirt_unit_scale(unit);
		if (scale == 0)
			return -EINVAL;
	}
	if (value > UINT64_MAX / scale)
		return -ERANGE;
	*ret = value * scale;
	return 0;
}

void *array_append(void *array, size_t *n, size_t size)
{
	void **p = array;
	char *grown = realloc(*p, (*n + 1) * size);

	if (!grown)
		return NULL;
	*p = grown;
	memset(grown + *n * size, 0, size);
	return grown + (*n)++ * size;
}
