/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Benchmark driver for bench/scan: policy_decide() throughput for a VM with
 * 8 assigned devices (SR-IOV VFs when the host has them) and a virtio-gpu
 * with host memory, on a host read from a root. Prints decisions/second. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "policy/plan.h"

#define N_ASSIGNED 8
#define MIN_SECONDS 1.0

/* Pick N_ASSIGNED functions, VFs first (what hosts with thousands of
 * functions assign), then any endpoint. */
static size_t pick_devices(const struct host *h, struct vm_hostdev *out)
{
	size_t n = 0;

	for (int pass = 0; pass < 2 && n < N_ASSIGNED; pass++)
		for (size_t i = 0; i < h->n_functions && n < N_ASSIGNED; i++) {
			const struct pci_function *f = &h->functions[i];

			if (pass == 0 ? !f->is_vf : f->is_vf || (f->class_code >> 8) == 0x0604)
				continue;
			out[n].kind = VM_HOSTDEV_PCI;
			out[n].managed = true;
			strcpy(out[n].bdf, f->bdf);
			n++;
		}
	return n;
}

int main(int argc, char **argv)
{
	struct vm_hostdev hostdevs[N_ASSIGNED] = { 0 };
	struct vm_video video = { .model = VIDEO_MODEL_VIRTIO, .primary = true, .blob = true };
	struct vm vm = { .name = "bench", .uuid = "5f3c1a9e-2b7d-4c61-9e0a-7d2b8c4f6a13", .domain_type = "kvm",
			 .hostdevs = hostdevs, .videos = &video, .n_videos = 1, .virtio_gpu_hostmem = true,
			 .hostmem_bytes = 256ULL << 20, .firmware = VM_FIRMWARE_EFI, .cpu_mode = "host-passthrough" };
	struct host *h = NULL;
	struct plan *p;
	unsigned long count = 0;
	double start, elapsed;
	int r;

	r = bench_read_root(argc, argv, &h);
	if (r != 0)
		return r;
	vm.n_hostdevs = pick_devices(h, hostdevs);
	p = malloc(sizeof(*p));
	if (!p || vm.n_hostdevs < N_ASSIGNED) {
		fprintf(stderr, "%s\n", p ? "the host has fewer than 8 assignable functions" : "out of memory");
		return 1;
	}
	r = policy_decide(h, &vm, NULL, p);
	if (r < 0 || p->n_devices != N_ASSIGNED) {
		fprintf(stderr, "policy_decide failed (%d) or planned %u devices\n", r, p->n_devices);
		return 1;
	}
	start = bench_now_s();
	do {
		for (int i = 0; i < 1000; i++)
			r |= policy_decide(h, &vm, NULL, p);
		count += 1000;
		elapsed = bench_now_s() - start;
	} while (elapsed < MIN_SECONDS);
	if (r < 0) {
		fprintf(stderr, "policy_decide failed during the run\n");
		return 1;
	}
	printf("devices=%u host_functions=%zu decisions=%lu elapsed_s=%.3f per_second=%.0f\n", p->n_devices,
	       h->n_functions, count, elapsed, count / elapsed);
	free(p);
	host_free(h);
	return 0;
}
