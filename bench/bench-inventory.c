/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark driver for bench/scan: reads a host root with inventory_read()
 * and prints what it found and how long the read took. bench/scan times
 * this whole process against lspci on the same tree. */

#include <stdio.h>

#include "bench-util.h"

int main(int argc, char **argv)
{
	struct host *h = NULL;
	double start, elapsed;
	int r;

	start = bench_now_s();
	r = bench_read_root(argc, argv, &h);
	elapsed = (bench_now_s() - start) * 1e3;
	if (r != 0)
		return r;
	printf("functions=%zu iommu_units=%zu partial=%s elapsed_ms=%.3f\n", h->n_functions, h->n_iommu_units,
	       h->partial ? "yes" : "no", elapsed);
	host_free(h);
	return 0;
}
