/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Appending to a plan's fixed-capacity lists, and the BDF lookup the engine
 * uses on every decision. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan-internal.h"

void plan_trace(struct plan *p, const char *rule, const char *fact, const char *fmt, ...)
{
	struct plan_trace *t;
	va_list ap;

	if (p->n_trace >= PLAN_MAX_TRACE) {
		p->truncated = true;
		return;
	}
	t = &p->trace[p->n_trace++];
	t->rule = rule;
	t->fact = fact;
	va_start(ap, fmt);
	vsnprintf(t->outcome, sizeof(t->outcome), fmt, ap);
	va_end(ap);
}

static void diag_add(struct plan_diag *list, unsigned *n, struct plan *p,
		     const char *code, const char *fmt, va_list ap)
{
	if (*n >= PLAN_MAX_DIAGS) {
		p->truncated = true;
		return;
	}
	list[*n].code = code;
	vsnprintf(list[*n].message, sizeof(list[*n].message), fmt, ap);
	(*n)++;
}

void plan_warn(struct plan *p, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(p->warnings, &p->n_warnings, p, code, fmt, ap);
	va_end(ap);
}

void plan_error(struct plan *p, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(p->errors, &p->n_errors, p, code, fmt, ap);
	va_end(ap);
}

bool plan_has_warning(const struct plan *p, const char *code)
{
	for (unsigned i = 0; i < p->n_warnings; i++)
		if (streq(p->warnings[i].code, code))
			return true;
	return false;
}

struct plan_quirk *plan_quirk_add(struct plan *p, unsigned bit)
{
	struct plan_quirk *q;

	for (unsigned i = 0; i < p->n_quirks; i++)
		if (p->quirks[i].bit == bit)
			return NULL;
	if (p->n_quirks >= MT_QUIRK_BITS) {
		p->truncated = true;
		return NULL;
	}
	q = &p->quirks[p->n_quirks++];
	q->bit = bit;
	q->action = QUIRK_ACTION_NA;
	q->reason[0] = '\0';
	q->n_rules = 0;
	return q;
}

void plan_quirk_add_rule(struct plan_quirk *q, const char *rule)
{
	for (unsigned i = 0; i < q->n_rules; i++)
		if (streq(q->rules[i], rule))
			return;
	if (q->n_rules < PLAN_MAX_RULES)
		q->rules[q->n_rules++] = rule;
}

void plan_fail_safe(struct plan *p, const char *why)
{
	for (unsigned i = 0; i < p->n_quirks && i < MT_QUIRK_BITS; i++) {
		struct plan_quirk *q = &p->quirks[i];

		if (q->action != QUIRK_ACTION_DISABLE)
			continue;
		q->action = QUIRK_ACTION_KEEP;
		snprintf(q->reason, sizeof(q->reason),
			 "internal invariant violated: keeping KVM's default");
	}
	p->disable_quirks_mask = 0;
	/* A BAR claimed cacheable is a bug too: withdraw the claim. */
	for (unsigned d = 0; d < p->n_devices && d < PLAN_MAX_DEVICES; d++)
		for (unsigned b = 0; b < p->devices[d].n_bars && b < PCI_BAR_COUNT; b++) {
			struct plan_bar *bar = &p->devices[d].bars[b];

			if (bar_memtype_is_cacheable(bar->memtype)) {
				bar->memtype = BAR_MEMTYPE_UNKNOWN;
				bar->wc_possible = false;
				bar->reason = "internal invariant violated: no memory type planned";
			}
		}
	plan_error(p, "internal-invariant", "memtype bug, plan made safe: %s", why);
}

/* "dddd:bb:dd.f" in lower case, as bdf_normalize() writes it. Checking this
 * is much cheaper than normalising, and hostdevs are usually canonical. */
static bool bdf_is_canonical(const char *s)
{
	static const char shape[] = "xxxx:xx:xx.d";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		char ch = s[i];

		if (shape[i] == 'x' && !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
		if (shape[i] == 'd' && !(ch >= '0' && ch <= '7'))
			return false;
		if ((shape[i] == ':' || shape[i] == '.') && ch != shape[i])
			return false;
	}
	/* device number is at most 0x1f */
	return s[sizeof(shape) - 1] == '\0' && s[8] <= '1';
}

const struct pci_function *host_lookup_function(const struct host *h, const char *bdf)
{
	char norm[MT_BDF_MAX];
	size_t lo = 0, hi;

	if (!h || !bdf)
		return NULL;
	if (!bdf_is_canonical(bdf)) {
		if (bdf_normalize(bdf, norm) < 0)
			return NULL;
		bdf = norm;
	}
	hi = h->n_functions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(h->functions[mid].bdf, bdf);

		if (r == 0)
			return &h->functions[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Not found by bisection: either absent, or the array is not sorted.
	 * Misses are rare (a plan error), so a full scan costs nothing. */
	for (size_t i = 0; i < h->n_functions; i++)
		if (streq(h->functions[i].bdf, bdf))
			return &h->functions[i];
	return NULL;
}
