/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark driver for bench/scan: reads a host root with inventory_read()
 * and prints what it found and how long the read took. bench/scan times
 * this whole process against lspci on the same tree. */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "inventory/inventory.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct inventory_options opts = { 0 };
	struct mt_error err = { 0 };
	struct host *h = NULL;
	double start, elapsed;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: %s ROOT\n", argv[0]);
		return 2;
	}
	opts.root = argv[1];
	start = now_ms();
	r = inventory_read(&opts, &h, &err);
	elapsed = now_ms() - start;
	if (r < 0) {
		fprintf(stderr, "inventory of %s failed: %s\n", argv[1], mt_error_message(&err, r));
		return 1;
	}
	printf("functions=%zu iommu_units=%zu partial=%s elapsed_ms=%.3f\n", h->n_functions, h->n_iommu_units,
	       h->partial ? "yes" : "no", elapsed);
	host_free(h);
	return 0;
}
