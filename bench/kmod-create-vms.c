/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kmod-create: what memtype.ko adds to KVM_CREATE_VM, measured inside the
 * kernel rig (bench/kmod-create runs "tests/kmod/rig --bench", whose /init
 * starts this program with -uuid in its argv, as QEMU has it).
 *
 * Alternating rounds, in one process:
 *   without  memtype.ko unloaded (delete_module)
 *   loaded   memtype.ko loaded, no pending policy for this VMM's uuid
 *   pending  memtype.ko loaded, a pending policy for the uuid before every
 *            creation (the module reads argv, matches, applies)
 * Each round times N creations (KVM_CREATE_VM only; the VM is then closed,
 * i.e. destroyed, and that is timed apart), and prints medians; the summary
 * gives the ratios against "without" and the µs added. Under TCG only the
 * ratios mean anything. Then the late-apply time (MEMTYPE_IOC_APPLY by pid
 * on an existing VM).
 *
 *   kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N]     (10 x 60)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kmod/uapi/memtype.h"

#define POLICY 0x22ULL /* CD_NW_CLEARED | FIX_HYPERCALL_INSN */

static int kvm = -1, mfd = -1;
static const char *ko;
static uint8_t uuid[16];
static uint64_t supported;

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* see tests/kmod/mt-test.c: no other vCPU runs while ftrace patches kvm.ko */
static void cpus_online(int on)
{
	long n = sysconf(_SC_NPROCESSORS_CONF), c;
	char path[64];

	for (c = 1; c < n; c++) {
		int fd;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/online", c);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, on ? "1" : "0", 1) < 0)
			(void)0;
		close(fd);
	}
}

static int load(void)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	cpus_online(0);
	r = syscall(SYS_finit_module, fd, "", 0) < 0 ? -errno : 0;
	cpus_online(1);
	close(fd);
	if (r == -EEXIST)
		r = 0;
	if (!r && mfd < 0)
		mfd = open("/dev/memtype", O_RDWR | O_CLOEXEC);
	return r ? r : mfd < 0 ? -errno : 0;
}

static int unload(void)
{
	int i;

	if (mfd >= 0)
		close(mfd);
	mfd = -1;
	for (i = 0; i < 100; i++) {
		int r;

		cpus_online(0);
		r = syscall(SYS_delete_module, "memtype", O_NONBLOCK) == 0 || errno == ENOENT;
		cpus_online(1);
		if (r)
			return 0;
		usleep(10000);
	}
	return -errno;
}

static int pending(void)
{
	struct memtype_pending p = { .argsz = sizeof(p), .flags = MEMTYPE_PENDING_REPLACE };

	memcpy(p.uuid, uuid, 16);
	p.disable_quirks = POLICY;
	p.supported_quirks = supported;
	p.ttl_ms = 60000;
	return ioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p) < 0 ? -errno : 0;
}

static uint64_t applied(void)
{
	struct memtype_info i = { .argsz = sizeof(i) };

	if (mfd < 0 || ioctl(mfd, MEMTYPE_IOC_GET_INFO, &i) < 0)
		return 0;
	return i.vms_applied;
}

enum { WITHOUT, LOADED, PENDING, NMODES };
static const char *const mode_name[NMODES] = { "without", "loaded", "pending" };

/* one round: n creations in mode m; medians of create and destroy in µs */
static int round_(int m, int n, double *create, double *destroy)
{
	double *c = calloc(n, sizeof(*c)), *d = calloc(n, sizeof(*d));
	uint64_t a0;
	int i, r;

	r = m == WITHOUT ? unload() : load();
	if (r) {
		fprintf(stderr, "kmod-create: %s: %s\n", m == WITHOUT ? "rmmod" : "insmod", strerror(-r));
		return -1;
	}
	/* untimed: after insmod/rmmod, QEMU retranslates the patched code */
	for (i = 0; i < 10; i++)
		close(ioctl(kvm, KVM_CREATE_VM, 0));
	a0 = applied();
	for (i = 0; i < n; i++) {
		double t0, t1, t2;
		int fd;

		if (m == PENDING && pending()) {
			fprintf(stderr, "kmod-create: ADD_PENDING: %s\n", strerror(errno));
			return -1;
		}
		/* the same kind of syscall just before, in every mode */
		if (m != PENDING)
			(void)ioctl(kvm, KVM_CHECK_EXTENSION, 213);
		t0 = now_us();
		fd = ioctl(kvm, KVM_CREATE_VM, 0);
		t1 = now_us();
		if (fd < 0) {
			fprintf(stderr, "kmod-create: KVM_CREATE_VM: %s\n", strerror(errno));
			return -1;
		}
		close(fd);
		t2 = now_us();
		c[i] = t1 - t0;
		d[i] = t2 - t1;
	}
	if (m == PENDING && applied() - a0 != (uint64_t)n) {
		printf("bench: ERROR pending round applied %" PRIu64 " of %d VMs\n", applied() - a0, n);
		return -1;
	}
	if (m == LOADED && applied() != a0) {
		printf("bench: ERROR loaded round applied a policy\n");
		return -1;
	}
	*create = median(c, n);
	*destroy = median(d, n);
	free(c);
	free(d);
	return 0;
}

int main(int argc, char **argv)
{
	int rounds = 10, n = 60, i, m, have_uuid = 0;
	double cr[NMODES][64], de[NMODES][64], med_c[NMODES];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-uuid") && i + 1 < argc) {
			const char *s = argv[++i];
			int k;

			for (k = 0; k < 16 && *s; k++) {
				if (*s == '-')
					s++;
				sscanf(s, "%2hhx", &uuid[k]);
				s += 2;
			}
			have_uuid = k == 16;
		} else if (!strcmp(argv[i], "-ko") && i + 1 < argc) {
			ko = argv[++i];
		} else if (!strcmp(argv[i], "-rounds") && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			n = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N]\n");
			return 2;
		}
	}
	if (!have_uuid || !ko || rounds < 1 || rounds > 64 || n < 1) {
		fprintf(stderr, "usage: kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N]\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	supported = ioctl(kvm, KVM_CHECK_EXTENSION, 213 /* KVM_CAP_DISABLE_QUIRKS2 */);
	/* warm up */
	for (i = 0; i < 20; i++)
		close(ioctl(kvm, KVM_CREATE_VM, 0));
	printf("bench: KVM_CREATE_VM under TCG (nested SVM), %d rounds x %d VMs, medians in us\n",
	       rounds, n);
	for (i = 0; i < rounds; i++) {
		/* alternate the order: without/loaded/pending, then pending/loaded/without */
		for (m = 0; m < NMODES; m++) {
			int mode = i % 2 ? NMODES - 1 - m : m;

			if (round_(mode, n, &cr[mode][i], &de[mode][i]))
				return 1;
		}
		printf("bench: round %d: create without %.1f, loaded %.1f, pending %.1f; "
		       "destroy without %.1f, loaded %.1f, pending %.1f\n", i + 1,
		       cr[WITHOUT][i], cr[LOADED][i], cr[PENDING][i], de[WITHOUT][i], de[LOADED][i],
		       de[PENDING][i]);
	}
	for (m = 0; m < NMODES; m++) {
		med_c[m] = median(cr[m], rounds);
	}
	/* ratios paired within each round (drift between rounds cancels), then
	 * their median and range */
	for (m = LOADED; m < NMODES; m++) {
		double rc[64], rd[64], lo = 1e9, hi = 0;

		for (i = 0; i < rounds; i++) {
			rc[i] = cr[m][i] / cr[WITHOUT][i];
			rd[i] = de[m][i] / de[WITHOUT][i];
			lo = rc[i] < lo ? rc[i] : lo;
			hi = rc[i] > hi ? rc[i] : hi;
		}
		printf("bench: create %s/without = %.3f (rounds %.3f..%.3f; medians %.1f vs %.1f us, "
		       "%+.1f us, TCG); destroy %s/without = %.3f\n", mode_name[m],
		       median(rc, rounds), lo, hi, med_c[m], med_c[WITHOUT], med_c[m] - med_c[WITHOUT],
		       mode_name[m], median(rd, rounds));
	}

	/* late apply: one VM, APPLY by pid, n times */
	if (load()) {
		fprintf(stderr, "kmod-create: insmod failed\n");
		return 1;
	}
	{
		int fd = ioctl(kvm, KVM_CREATE_VM, 0);
		double *t = calloc(n, sizeof(*t));
		struct memtype_apply a;

		for (i = 0; i < n; i++) {
			double t0;

			memset(&a, 0, sizeof(a));
			a.argsz = sizeof(a);
			a.pid = getpid();
			memcpy(a.uuid, uuid, 16);
			a.disable_quirks = POLICY;
			a.supported_quirks = supported;
			t0 = now_us();
			if (ioctl(mfd, MEMTYPE_IOC_APPLY, &a) < 0) {
				printf("bench: ERROR APPLY: %s\n", strerror(errno));
				return 1;
			}
			t[i] = now_us() - t0;
		}
		printf("bench: late apply (MEMTYPE_IOC_APPLY by pid): median %.1f us = %.3f x a creation "
		       "without the module (TCG)\n", median(t, n), median(t, n) / med_c[WITHOUT]);
		close(fd);
	}
	printf("bench: target: pending/without create < 1.05 or < +20 us: %s\n",
	       med_c[PENDING] / med_c[WITHOUT] < 1.05 || med_c[PENDING] - med_c[WITHOUT] < 20 ?
	       "met" : "NOT met");
	return 0;
}
