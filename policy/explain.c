/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The human explanation of a plan (memtypectl explain), built only from the
 * plan and its trace, so that it never says anything the decision did not. */
#include <errno.h>
#include <stdio.h>

#include "plan-internal.h"

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

static void explain_headline(FILE *f, const struct plan *p)
{
	fprintf(f, "VM %s%s%s%s on host: %s CPU, kernel %s, self-snoop %s\n", p->vm_name,
		p->vm_uuid[0] ? " (" : "", p->vm_uuid, p->vm_uuid[0] ? ")" : "",
		cpu_vendor_to_string(p->cpu_vendor), p->kernel[0] ? p->kernel : "unknown",
		yes_no(p->self_snoop));
	fprintf(f, "KVM quirks supported: ");
	if (!p->kvm_quirks_known)
		fprintf(f, "unknown (no KVM state)");
	else if (!p->kvm_supported_quirks)
		fprintf(f, "none");
	for (unsigned bit = 0, n = 0; p->kvm_quirks_known && bit < 64; bit++)
		if (p->kvm_supported_quirks & (1ULL << bit)) {
			const char *name = kvm_quirk_name(bit);

			fprintf(f, "%s", n++ ? " " : "");
			if (name)
				fprintf(f, "%s", name);
			else
				fprintf(f, "BIT_%u", bit);
		}
	fprintf(f, "\nPolicy: %s mode%s; launch security %s\n", policy_mode_to_string(p->mode),
		p->strict ? ", strict (errors refuse the start)" : "",
		launch_security_to_string(p->launch_security));
	fprintf(f, "Non-coherent DMA predicted: %s\n", yes_no(p->noncoherent_dma));
}

static void explain_quirks(FILE *f, const struct plan *p)
{
	fprintf(f, "\nQuirks (disable mask 0x%llx):\n", (unsigned long long)p->disable_quirks_mask);
	for (unsigned i = 0; i < p->n_quirks; i++) {
		const struct plan_quirk *q = &p->quirks[i];
		const char *name = kvm_quirk_name(q->bit);

		fprintf(f, "  %s (bit %u): %s: %s [", name ? name : "?", q->bit,
			quirk_action_to_string(q->action), q->reason);
		for (unsigned r = 0; r < q->n_rules; r++)
			fprintf(f, "%s%s", r ? ", " : "", q->rules[r]);
		fprintf(f, "]\n");
	}
}

static void explain_bars(FILE *f, const struct plan_device *d)
{
	if (!d->n_bars)
		return;
	fprintf(f, "    BAR  %-14s %-8s %-10s %-3s  why\n", "size", "prefetch", "memtype", "WC");
	for (unsigned b = 0; b < d->n_bars; b++) {
		const struct plan_bar *bar = &d->bars[b];
		char size[24];

		if (bar->size)
			snprintf(size, sizeof(size), "%llu", (unsigned long long)bar->size);
		else
			snprintf(size, sizeof(size), "unknown");
		fprintf(f, "    %-4u %-14s %-8s %-10s %-3s  %s\n", bar->index, size,
			bar->is_io ? "-" : yes_no(bar->prefetchable), bar_memtype_to_string(bar->memtype),
			yes_no(bar->wc_possible), bar->reason ? bar->reason : "");
	}
}

static void explain_devices(FILE *f, const struct plan *p)
{
	if (!p->n_devices)
		return;
	fprintf(f, "\nAssigned devices:\n");
	for (unsigned i = 0; i < p->n_devices; i++) {
		const struct plan_device *d = &p->devices[i];

		if (d->kind == PLAN_DEVICE_MDEV)
			fprintf(f, "  mdev %s", d->mdev_uuid);
		else if (!d->bdf[0])
			fprintf(f, "  unresolved interface");
		else
			fprintf(f, "  %s", d->bdf);
		if (d->found)
			fprintf(f, " [%04x:%04x] class %04x", d->vendor_id, d->device_id,
				(d->class_code >> 8) & 0xffff);
		if (d->iommu_unit[0])
			fprintf(f, " behind %s (snoop control %s)", d->iommu_unit,
				tristate_to_string(d->snoop_control));
		fprintf(f, ": %s: %s\n", d->noncoherent ? "non-coherent" : "coherent", d->reason);
		explain_bars(f, d);
	}
}

static void explain_emulated(FILE *f, const struct plan *p)
{
	if (!p->n_emulated)
		return;
	fprintf(f, "\nEmulated RAM-backed regions:\n");
	for (unsigned i = 0; i < p->n_emulated; i++) {
		const struct plan_emulated *e = &p->emulated[i];

		fprintf(f, "  %s (%s %s): %s, WC %s: %s\n", e->device, e->model, e->region,
			bar_memtype_to_string(e->memtype), yes_no(e->wc_possible),
			e->reason ? e->reason : "");
	}
}

static void explain_diags(FILE *f, const char *title, const struct plan_diag *d, unsigned n)
{
	fprintf(f, "\n%s:%s\n", title, n ? "" : " none");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "  [%s] %s\n", d[i].code, d[i].message);
}

static void explain_trace(FILE *f, const struct plan *p)
{
	fprintf(f, "\nHow this was decided:\n");
	for (unsigned i = 0; i < p->n_trace; i++)
		fprintf(f, "  %s (%s): %s\n", p->trace[i].rule, p->trace[i].fact, p->trace[i].outcome);
	if (p->truncated)
		fprintf(f, "  (some lists were full: this plan is truncated)\n");
}

int plan_explain(const struct plan *p, char **ret_text)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (!p || !ret_text)
		return -EINVAL;
	if (!plan_counts_valid(p))
		return -EINVAL;
	f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	explain_headline(f, p);
	explain_quirks(f, p);
	explain_devices(f, p);
	explain_emulated(f, p);
	explain_diags(f, "Warnings", p->warnings, p->n_warnings);
	explain_diags(f, "Errors", p->errors, p->n_errors);
	explain_trace(f, p);
	if (ferror(f)) {
		fclose(f);
		return -ENOMEM;
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret_text = TAKE_PTR(text);
	return 0;
}
