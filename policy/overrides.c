/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Matching operator rules (vm_rules, device_rules) against a VM or a PCI
 * function. Pure: no I/O, no allocation. */
#include <fnmatch.h>
#include <stdio.h>
#include <strings.h>

#include "common/macro.h"
#include "overrides.h"

bool vm_rule_matches(const struct vm_rule *r, const char *name, const char *uuid)
{
	if (!r)
		return false;
	/* FNM_PERIOD etc. make no sense for domain names: plain shell globs. */
	if (r->name_glob[0] && (!name || fnmatch(r->name_glob, name, 0) != 0))
		return false;
	/* UUIDs compare case-insensitively: libvirt accepts either case. */
	if (r->uuid[0] && (!uuid || strcasecmp(r->uuid, uuid) != 0))
		return false;
	return true;
}

static bool bdf_equal(const char *rule_bdf, const char *bdf)
{
	char a[MT_BDF_MAX], b[MT_BDF_MAX];

	if (streq(rule_bdf, bdf))
		return true;
	/* Either side may be in short form ("01:00.0"). */
	if (bdf_normalize(rule_bdf, a) < 0 || bdf_normalize(bdf, b) < 0)
		return false;
	return streq(a, b);
}

bool device_rule_matches(const struct device_rule *r, const struct pci_function *f)
{
	if (!r || !f)
		return false;
	if (r->match_id) {
		if (r->vendor_id != f->vendor_id)
			return false;
		if (r->device_id != 0xffff && r->device_id != f->device_id)
			return false;
	}
	if (r->match_class &&
	    (f->class_code & r->class_mask) != (r->class_code & r->class_mask))
		return false;
	if (r->bdf[0] && !bdf_equal(r->bdf, f->bdf))
		return false;
	return true;
}

static void apply_vm_rule(const struct vm_rule *r, struct vm_settings *s)
{
	if (r->has_mode) {
		s->mode = r->mode;
		s->mode_origin = &r->origin;
	}
	for (unsigned bit = 0; bit < MT_QUIRK_BITS; bit++)
		if (r->quirks[bit] != QUIRK_SETTING_AUTO) {
			s->quirks[bit] = r->quirks[bit];
			s->quirk_origins[bit] = &r->origin;
		}
	if (r->honor_shared_memory != MT_UNKNOWN) {
		s->honor_shared_memory = r->honor_shared_memory == MT_YES;
		s->honor_shared_memory_origin = &r->origin;
	}
	if (r->strict != MT_UNKNOWN) {
		s->strict = r->strict == MT_YES;
		s->strict_origin = &r->origin;
	}
}

/* An origin with no file is the built-in default: report it as NULL. */
static const struct policy_origin *origin_or_null(const struct policy_origin *o)
{
	return o->file[0] && !streq(o->file, "built-in default") ? o : NULL;
}

void policy_vm_settings(const struct operator_policy *pol, const char *name,
			const char *uuid, struct vm_settings *ret)
{
	struct vm_settings s = {
		.mode = POLICY_MODE_BALANCED,
	};

	if (pol) {
		s.mode = pol->mode;
		s.mode_origin = origin_or_null(&pol->mode_origin);
		s.strict = pol->strict;
		s.strict_origin = origin_or_null(&pol->strict_origin);
		s.honor_shared_memory = pol->honor_shared_memory;
		s.honor_shared_memory_origin = origin_or_null(&pol->honor_shared_memory_origin);
		for (unsigned bit = 0; bit < MT_QUIRK_BITS; bit++) {
			s.quirks[bit] = pol->quirks[bit];
			if (pol->quirks[bit] != QUIRK_SETTING_AUTO)
				s.quirk_origins[bit] = &pol->quirk_origin[bit];
		}
		for (size_t i = 0; i < pol->n_vm_rules; i++)
			if (vm_rule_matches(&pol->vm_rules[i], name, uuid))
				apply_vm_rule(&pol->vm_rules[i], &s);
	}
	*ret = s;
}

void policy_device_settings(const struct operator_policy *pol,
			    const struct pci_function *f, struct device_settings *ret)
{
	struct device_settings s = {
		.noncoherent = MT_UNKNOWN,
		.allow_wc = MT_UNKNOWN,
	};

	for (size_t i = 0; pol && f && i < pol->n_device_rules; i++) {
		const struct device_rule *r = &pol->device_rules[i];

		if (!device_rule_matches(r, f))
			continue;
		if (r->noncoherent != MT_UNKNOWN) {
			s.noncoherent = r->noncoherent;
			s.noncoherent_origin = &r->origin;
		}
		if (r->allow_wc != MT_UNKNOWN) {
			s.allow_wc = r->allow_wc;
			s.allow_wc_origin = &r->origin;
		}
	}
	*ret = s;
}

const char *policy_origin_format(const struct policy_origin *o, char *buf, size_t size)
{
	if (!o || !o->file[0])
		snprintf(buf, size, "built-in default");
	else if (o->line > 0)
		snprintf(buf, size, "%s:%u", o->file, o->line);
	else
		snprintf(buf, size, "%s", o->file);
	return buf;
}
