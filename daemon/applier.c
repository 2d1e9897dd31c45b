/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "none" applier: used when memtype.ko cannot be used. It changes
 * nothing and says so in the record: "planned" when the plan asks for no
 * change, "module-unavailable" naming the quirks that stay enabled. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/applier.h"

#define MEMTYPE_DEVICE "/dev/memtype"

static bool module_loaded(void)
{
	return access(MEMTYPE_DEVICE, F_OK) == 0;
}

/* Why nothing can be applied here. A module that is loaded still cannot
 * be used until its applier is built in (issue 4). */
static const char *unavailable_reason(bool *ret_loaded)
{
	*ret_loaded = module_loaded();
	if (*ret_loaded)
		return "memtype.ko is loaded but this memtyped has no applier for it";
	return "memtype.ko is not loaded";
}

static bool none_available(void *ctx _unused_, char *reason, size_t reason_size)
{
	bool loaded;
	const char *why = unavailable_reason(&loaded);

	if (reason && reason_size > 0)
		snprintf(reason, reason_size, "%s (%s" MEMTYPE_DEVICE ")", why, loaded ? "" : "no ");
	return false;
}

/* "CD_NW_CLEARED, IGNORE_GUEST_PAT" into buf, in bit order. */
static void quirk_list(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned bit = 0; bit < 64 && len < size; bit++) {
		const char *name = kvm_quirk_name(bit);
		int n;

		if (!(mask & (UINT64_C(1) << bit)))
			continue;
		if (name)
			n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", name);
		else
			n = snprintf(buf + len, size - len, "%sBIT_%u", len ? ", " : "", bit);
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

static int none_result(const struct plan *p, struct apply_result *ret)
{
	struct apply_result res = { .status = APPLY_PLANNED };
	char quirks[160];
	bool loaded;

	if (!p || !ret)
		return -EINVAL;
	if (p->disable_quirks_mask != 0) {
		quirk_list(p->disable_quirks_mask, quirks, sizeof(quirks));
		res.status = APPLY_MODULE_UNAVAILABLE;
		snprintf(res.reason, sizeof(res.reason), "%s stay%s enabled: %s", quirks,
			 strchr(quirks, ',') ? "" : "s", unavailable_reason(&loaded));
	}
	*ret = res;
	return 0;
}

static int none_set_pending(void *ctx _unused_, const struct plan *p, uint64_t ttl_usec _unused_,
			    struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_read_back(void *ctx _unused_, const struct plan *p, pid_t pid _unused_,
			  struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_apply_late(void *ctx _unused_, const struct plan *p, pid_t pid _unused_,
			   struct apply_result *ret)
{
	return none_result(p, ret);
}

static int none_forget(void *ctx _unused_, const char *uuid _unused_)
{
	return 0;
}

static void none_free(void *ctx _unused_)
{
}

static const struct applier_ops applier_none_ops = {
	.name = "none",
	.available = none_available,
	.set_pending = none_set_pending,
	.read_back = none_read_back,
	.apply_late = none_apply_late,
	.forget = none_forget,
	.free = none_free,
};

int applier_none_new(struct applier *ret)
{
	if (!ret)
		return -EINVAL;
	*ret = (struct applier){ .ops = &applier_none_ops, .ctx = NULL };
	return 0;
}

void applier_done(struct applier *a)
{
	if (!a || !a->ops)
		return;
	if (a->ops->free)
		a->ops->free(a->ctx);
	*a = (struct applier){};
}
