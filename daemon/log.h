/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped's logging: to the journal with structured fields when stderr is
 * connected to journald ($JOURNAL_STREAM), else one line per message on
 * stderr. Fields: MEMTYPE_VM=, MEMTYPE_ACTION=, MEMTYPE_QUIRKS= (hex). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "common/macro.h"

#define MT_LOG_NO_QUIRKS UINT64_MAX

void mt_log_open(void);
void mt_log_set_max_level(int prio);
int mt_log_parse_level(const char *s);   /* "debug".."err" -> LOG_*, -EINVAL */
bool mt_log_to_journal(void);

/* Logs and returns -abs(error) when error != 0, else 0 (so callers can
 * write "return mt_log_error(r, ...)" ). vm and action may be NULL; quirks
 * MT_LOG_NO_QUIRKS for none. */
int mt_log_full(int prio, int error, const char *vm, const char *action, uint64_t quirks,
		const char *fmt, ...) _printf_(6, 7);

#define log_debug(...) mt_log_full(LOG_DEBUG, 0, NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
#define log_info(...) mt_log_full(LOG_INFO, 0, NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
#define log_notice(...) mt_log_full(LOG_NOTICE, 0, NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
#define log_warning(...) mt_log_full(LOG_WARNING, 0, NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
#define log_error_errno(e, ...) mt_log_full(LOG_ERR, (e), NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
#define log_warning_errno(e, ...) mt_log_full(LOG_WARNING, (e), NULL, NULL, MT_LOG_NO_QUIRKS, __VA_ARGS__)
/* A message about one VM and what was done to it. */
#define log_vm(prio, vm, action, quirks, ...) \
	mt_log_full((prio), 0, (vm), (action), (quirks), __VA_ARGS__)
