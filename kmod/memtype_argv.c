// SPDX-License-Identifier: GPL-2.0
/*
 * Find the "-uuid UUID" token pair in a VMM's argv: libvirt passes the
 * domain UUID that way, and it is how a pending policy finds its VM.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "memtype_internal.h"

#define ARGV_CHUNK	256
#define ARGV_TOKEN_MAX	40	/* longer tokens can be neither "-uuid" nor a UUID */

struct argv_scan {
	char tok[ARGV_TOKEN_MAX + 1];
	size_t len;
	bool prev_is_uuid_opt;
	bool found;
	u8 uuid[MEMTYPE_UUID_LEN];
};

static void argv_scan_end_token(struct argv_scan *s)
{
	size_t len = s->len;
	uuid_t u;

	/* QEMU takes the last -uuid it is given; so do we. */
	if (s->prev_is_uuid_opt && len == UUID_STRING_LEN) {
		s->tok[len] = '\0';
		if (!uuid_parse(s->tok, &u)) {
			memcpy(s->uuid, u.b, MEMTYPE_UUID_LEN);
			s->found = true;
		}
	}
	s->prev_is_uuid_opt = (len == 5 && !memcmp(s->tok, "-uuid", 5)) ||
			      (len == 6 && !memcmp(s->tok, "--uuid", 6));
	s->len = 0;
}

static void argv_scan_feed(struct argv_scan *s, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!buf[i]) {
			argv_scan_end_token(s);
			continue;
		}
		if (s->len < ARGV_TOKEN_MAX)
			s->tok[s->len] = buf[i];
		if (s->len <= ARGV_TOKEN_MAX)
			s->len++;
	}
}

static int argv_scan_finish(struct argv_scan *s, u8 *ret_uuid)
{
	if (s->len)
		argv_scan_end_token(s);
	if (!s->found)
		return -ENOENT;
	memcpy(ret_uuid, s->uuid, MEMTYPE_UUID_LEN);
	return 0;
}

static bool argv_bounds(struct mm_struct *mm, unsigned long *start,
			unsigned long *end)
{
	spin_lock(&mm->arg_lock);
	*start = mm->arg_start;
	*end = mm->arg_end;
	spin_unlock(&mm->arg_lock);
	if (*end <= *start)
		return false;
	if (*end - *start > MEMTYPE_ARGV_MAX)
		*end = *start + MEMTYPE_ARGV_MAX;
	return true;
}

/*
 * Atomic context, current's own mm. -EFAULT when a page is not resident:
 * the caller then retries from process context.
 */
int memtype_argv_uuid_nofault(struct mm_struct *mm, u8 *ret_uuid)
{
	struct argv_scan s = {};
	unsigned long pos, end;
	char buf[ARGV_CHUNK];

	if (!mm || !argv_bounds(mm, &pos, &end))
		return -ENOENT;
	while (pos < end) {
		size_t n = min_t(unsigned long, sizeof(buf), end - pos);

		if (copy_from_user_nofault(buf, (const void __user *)pos, n))
			return -EFAULT;
		argv_scan_feed(&s, buf, n);
		pos += n;
	}
	return argv_scan_finish(&s, ret_uuid);
}

/* Process context; may sleep. mm is task's, held by the caller. */
int memtype_argv_uuid_task(struct task_struct *task, struct mm_struct *mm,
			   u8 *ret_uuid)
{
	struct argv_scan s = {};
	unsigned long pos, end;
	char *buf;
	int r = 0;

	if (!argv_bounds(mm, &pos, &end))
		return -ENOENT;
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (pos < end) {
		int n = min_t(unsigned long, PAGE_SIZE, end - pos);
		int got = access_process_vm(task, pos, buf, n, FOLL_FORCE);

		if (got <= 0) {
			r = -EFAULT;
			break;
		}
		argv_scan_feed(&s, buf, got);
		pos += got;
	}
	kfree(buf);
	if (r)
		return r;
	return argv_scan_finish(&s, ret_uuid);
}
