/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which operator rules apply to a VM or to a PCI function: a pure matcher
 * over struct operator_policy (filled by config/). Later rules win, field by
 * field, and every effective setting remembers the rule that decided it so
 * that the plan's trace can name the file and line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* The settings in force for one VM. An origin is NULL when the setting is
 * the built-in default. */
struct vm_settings {
	enum policy_mode mode;
	const struct policy_origin *mode_origin;
	enum quirk_setting quirks[MT_QUIRK_BITS];
	const struct policy_origin *quirk_origins[MT_QUIRK_BITS];
	bool honor_shared_memory;
	const struct policy_origin *honor_shared_memory_origin;
	bool strict;
	const struct policy_origin *strict_origin;
};

/* Device rule settings for one PCI function; MT_UNKNOWN when no rule says. */
struct device_settings {
	enum mt_tristate noncoherent;
	const struct policy_origin *noncoherent_origin;
	enum mt_tristate allow_wc;
	const struct policy_origin *allow_wc_origin;
};

/* True when rule r selects the VM called name with uuid (either may be ""
 * or NULL when unknown; a rule that names a uuid then does not match). */
bool vm_rule_matches(const struct vm_rule *r, const char *name, const char *uuid);

/* True when rule r selects PCI function f. */
bool device_rule_matches(const struct device_rule *r, const struct pci_function *f);

/* Settings of pol for the VM name/uuid: global values, then every matching
 * vm_rule in order. pol may be NULL (built-in defaults). */
void policy_vm_settings(const struct operator_policy *pol, const char *name,
			const char *uuid, struct vm_settings *ret);

/* Settings of pol's device rules for f (later rules win). pol may be NULL. */
void policy_device_settings(const struct operator_policy *pol,
			    const struct pci_function *f, struct device_settings *ret);

/* "file:line" of an origin, "built-in default" for NULL or an empty file.
 * Returns buf. */
const char *policy_origin_format(const struct policy_origin *o, char *buf, size_t size);
