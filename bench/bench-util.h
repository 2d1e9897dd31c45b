/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the bench drivers share: a monotonic clock and the reading of the
 * host root named on their command line. */
#pragma once

#include <stdio.h>
#include <time.h>

#include "inventory/inventory.h"

static inline double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Read the root of "PROGRAM ROOT". Returns 0, or the exit status after
 * saying what went wrong: 2 for a bad command line, 1 when the read failed. */
static inline int bench_read_root(int argc, char **argv, struct host **ret)
{
	struct inventory_options opts = { 0 };
	struct mt_error err = { 0 };
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s ROOT\n", argv[0]);
		return 2;
	}
	opts.root = argv[1];
	r = inventory_read(&opts, ret, &err);
	if (r < 0) {
		fprintf(stderr, "inventory of %s failed: %s\n", argv[1], mt_error_message(&err, r));
		return 1;
	}
	return 0;
}
