/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's log: structured journal entries when stderr is journald's
 * stream, plain "program: vm: message" lines on stderr otherwise. Called
 * from the event loop thread only (the libvirt thread queues, never logs). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "common/fileio.h"
#include "daemon/log.h"

#define LOG_LINE_MAX 2048

static int log_max_level = LOG_INFO;
static bool log_journal;

static const char *const level_names[] = {
	[LOG_EMERG] = "emerg",
	[LOG_ALERT] = "alert",
	[LOG_CRIT] = "crit",
	[LOG_ERR] = "err",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it connects
 * to stderr; a stderr redirected since then no longer matches. */
static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	char dev_text[32];
	const char *colon;
	uint64_t dev, ino;
	struct stat st;

	if (!e || !(colon = strchr(e, ':')) || (size_t)(colon - e) >= sizeof(dev_text))
		return false;
	memcpy(dev_text, e, (size_t)(colon - e));
	dev_text[colon - e] = '\0';
	if (parse_u64(dev_text, 10, &dev) < 0 || parse_u64(colon + 1, 10, &ino) < 0)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}

void mt_log_open(void)
{
	log_journal = stderr_is_journal();
}

bool mt_log_to_journal(void)
{
	return log_journal;
}

void mt_log_set_max_level(int prio)
{
	log_max_level = LOG_PRI(prio);
}

int mt_log_parse_level(const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
		if (streq(level_names[i], s))
			return (int)i;
	return -EINVAL;
}

static int log_to_journal(int prio, int error, const char *vm, const char *action,
			  uint64_t quirks, const char *text)
{
	char f_msg[LOG_LINE_MAX + 16], f_prio[16], f_ident[64], f_vm[300], f_action[80];
	char f_quirks[48], f_errno[24];
	struct iovec iov[7];
	unsigned n = 0;

#define FIELD(buf, ...)                                                         \
	do {                                                                    \
		snprintf(buf, sizeof(buf), __VA_ARGS__);                        \
		iov[n++] = (struct iovec){ .iov_base = buf, .iov_len = strlen(buf) }; \
	} while (0)

	FIELD(f_msg, "MESSAGE=%s", text);
	FIELD(f_prio, "PRIORITY=%d", prio);
	FIELD(f_ident, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
	if (vm)
		FIELD(f_vm, "MEMTYPE_VM=%s", vm);
	if (action)
		FIELD(f_action, "MEMTYPE_ACTION=%s", action);
	if (quirks != MT_LOG_NO_QUIRKS)
		FIELD(f_quirks, "MEMTYPE_QUIRKS=0x%" PRIx64, quirks);
	if (error)
		FIELD(f_errno, "ERRNO=%d", error);
#undef FIELD
	return sd_journal_sendv(iov, (int)n);
}

static void log_to_stderr(const char *text)
{
	char line[LOG_LINE_MAX + 128];
	int n;

	/* One write per line, so lines of concurrent writers do not mix. */
	n = snprintf(line, sizeof(line), "%s: %s\n", program_invocation_short_name, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

int mt_log_full(int prio, int error, const char *vm, const char *action, uint64_t quirks,
		const char *fmt, ...)
{
	int saved_errno = errno;
	char text[LOG_LINE_MAX];
	size_t len = 0;
	va_list ap;

	error = error == 0 ? 0 : -negative_errno(error);
	if (LOG_PRI(prio) > log_max_level)
		return -error;
	if (vm)
		len = (size_t)snprintf(text, sizeof(text), "%s: ", vm);
	if (len < sizeof(text)) {
		/* "%m" in fmt means error, as in systemd's log_*_errno(). */
		errno = error;
		va_start(ap, fmt);
		vsnprintf(text + len, sizeof(text) - len, fmt, ap);
		va_end(ap);
	}
	if (error && !strstr(fmt, "%m")) {
		len = strlen(text);
		snprintf(text + len, sizeof(text) - len, ": %s", strerror(error));
	}
	if (!log_journal || log_to_journal(LOG_PRI(prio), error, vm, action, quirks, text) < 0)
		log_to_stderr(text);
	errno = saved_errno;
	return -error;
}
