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
 *   kretprobe        the peer: memtype.ko unloaded, a kernel kretprobe event
 *            on the same function (r:memtype_peer/init_vm kvm_arch_init_vm,
 *            plus p:memtype_peer/destroy_vm kvm_arch_destroy_vm as memtype
 *            has) defined and enabled through tracefs; it writes the ring
 *            buffer on every hit
 *   kretprobe-quiet  the same with tracing_on=0: the probes fire (counted in
 *            kprobe_profile) but record nothing -- the probe mechanism alone
 * The peers are defined, enabled, disabled and removed afresh around each of
 * their rounds; every other round runs with no peer event defined.
 * Each round times N creations (KVM_CREATE_VM only; the VM is then closed,
 * i.e. destroyed, and that is timed apart), and prints medians; the summary
 * gives the ratios against "without" and the µs added, and memtype's against
 * the peers (what memtype adds over the bare probe mechanism). Under TCG only
 * the ratios mean anything. Then the late-apply time (MEMTYPE_IOC_APPLY by pid
 * on an existing VM).
 *
 *   kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N] [-no-peer]   (20 x 30)
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
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kmod/uapi/memtype.h"
#include "tests/kmod/rig-module.h"

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

/* on a copy: the per-round arrays stay in round order for the paired ratios */
static double median(const double *v, int n)
{
	double *w = malloc(n * sizeof(*w)), r;

	if (!w)
		abort();
	memcpy(w, v, n * sizeof(*w));
	qsort(w, n, sizeof(*w), cmp);
	r = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
	free(w);
	return r;
}

/* the q-quantile (nearest rank) of v, on a copy */
static double quantile(const double *v, int n, double q)
{
	double *w = malloc(n * sizeof(*w)), r;

	if (!w)
		abort();
	memcpy(w, v, n * sizeof(*w));
	qsort(w, n, sizeof(*w), cmp);
	r = w[(int)(q * (n - 1) + 0.5)];
	free(w);
	return r;
}

/* No other vCPU runs while ftrace patches kvm.ko (tests/kmod/rig-module.h). */
static void cpus_online(int on)
{
	char path[64];

	(void)rig_cpus_online(on, path, sizeof(path));
}

/* --- the peer: a bare kretprobe event through tracefs ---------------------- */

static const char *tracefs;
static int peer_defined;

static int write_str(const char *file, const char *s, int append)
{
	char path[256];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC));
	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int read_str(const char *file, char *buf, size_t len)
{
	char path[256];
	ssize_t k, got = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got + 1 < (ssize_t)len && (k = read(fd, buf + got, len - 1 - got)) > 0)
		got += k;
	buf[got] = 0;
	close(fd);
	return 0;
}

static int tracefs_init(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/kprobe_events", &st)) {
		tracefs = "/sys/kernel/tracing";
		return 0;
	}
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) &&
	    !stat("/sys/kernel/tracing/kprobe_events", &st)) {
		tracefs = "/sys/kernel/tracing";
		return 0;
	}
	if (!stat("/sys/kernel/debug/tracing/kprobe_events", &st)) {
		tracefs = "/sys/kernel/debug/tracing";
		return 0;
	}
	return -ENOENT;
}

/* enabling/disabling patches kvm.ko's text (ftrace): no other vCPU meanwhile */
static int peer_enable(int on)
{
	int r;

	cpus_online(0);
	r = write_str("events/memtype_peer/enable", on ? "1" : "0", 0);
	cpus_online(1);
	return r;
}

static int peer_off(void)
{
	int r;

	if (!peer_defined)
		return 0;
	r = peer_enable(0);
	if (!r)
		r = write_str("kprobe_events", "-:memtype_peer/init_vm\n", 1);
	if (!r)
		r = write_str("kprobe_events", "-:memtype_peer/destroy_vm\n", 1);
	if (!r)
		r = write_str("tracing_on", "1", 0);
	peer_defined = r != 0;
	return r;
}

static int peer_on(int quiet)
{
	int r;

	r = write_str("kprobe_events", "r:memtype_peer/init_vm kvm_arch_init_vm\n", 1);
	if (!r)
		r = write_str("kprobe_events", "p:memtype_peer/destroy_vm kvm_arch_destroy_vm\n", 1);
	if (r)
		return r;
	peer_defined = 1;
	r = write_str("tracing_on", quiet ? "0" : "1", 0);
	if (!r)
		r = write_str("trace", "", 0); /* clear the ring buffer */
	return r ? r : peer_enable(1);
}

/* kprobe_profile: "  <event>  <nhit>  <nmissed>" */
static int peer_hits(const char *event, unsigned long *hit, unsigned long *missed)
{
	static char buf[16384];
	char name[128];
	const char *l;
	int n;

	if (read_str("kprobe_profile", buf, sizeof(buf)))
		return -1;
	for (l = buf; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
		const char *e;

		if (sscanf(l, "%127s %lu %lu%n", name, hit, missed, &n) < 3)
			continue;
		e = strrchr(name, '/');
		if (!strcmp(e ? e + 1 : name, event))
			return 0;
	}
	return -1;
}

/* entries recorded in the ring buffer of CPU 0 */
static long ring_entries(void)
{
	char buf[1024], *p;

	if (read_str("per_cpu/cpu0/stats", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "entries:");
	return p ? strtol(p + 8, NULL, 10) : -1;
}

static int load(void)
{
	int r = rig_load_module(ko);

	if (r == -EEXIST)
		r = 0;
	if (!r && mfd < 0)
		mfd = open("/dev/memtype", O_RDWR | O_CLOEXEC);
	return r ? r : mfd < 0 ? -errno : 0;
}

static int unload(void)
{
	int i, r = 0;

	if (mfd >= 0)
		close(mfd);
	mfd = -1;
	for (i = 0; i < 100; i++) {
		r = rig_unload_module();
		if (r == 0 || r == -ENOENT)
			return 0;
		usleep(10000);
	}
	return r;
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

enum { WITHOUT, LOADED, PENDING, KRP, KRPQ, NMODES };
static const char *const mode_name[NMODES] = {
	"without", "loaded", "pending", "kretprobe", "kretprobe-quiet"
};
static int peers = 1;
static int first_check[NMODES];

/* one round: n creations in mode m; medians of create and destroy in µs */
static int round_(int m, int n, double *create, double *destroy, double *create_p10)
{
	double *c = calloc(n, sizeof(*c)), *d = calloc(n, sizeof(*d));
	uint64_t a0;
	int i, r;

	r = peer_off();
	if (r) {
		fprintf(stderr, "kmod-create: remove the peer kprobe events: %s\n", strerror(-r));
		return -1;
	}
	r = m == LOADED || m == PENDING ? load() : unload();
	if (r) {
		fprintf(stderr, "kmod-create: %s: %s\n", m == LOADED || m == PENDING ? "insmod" : "rmmod",
			strerror(-r));
		return -1;
	}
	if (m == KRP || m == KRPQ) {
		r = peer_on(m == KRPQ);
		if (r) {
			fprintf(stderr, "kmod-create: %s peer via %s: %s\n", mode_name[m], tracefs,
				strerror(-r));
			return -1;
		}
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
	if (m == KRP || m == KRPQ) {
		/* the probes fired on every VM (10 untimed + n), none missed;
		 * only the loud peer recorded them */
		unsigned long hi = 0, mi = 0, hd = 0, md = 0;
		long ent = ring_entries();

		if (peer_hits("init_vm", &hi, &mi) || peer_hits("destroy_vm", &hd, &md) ||
		    hi != (unsigned long)n + 10 || hd != (unsigned long)n + 10 || mi || md ||
		    (m == KRP ? ent < 2L * (n + 10) : ent != 0)) {
			printf("bench: ERROR %s peer: init_vm hit %lu missed %lu, destroy_vm hit %lu "
			       "missed %lu, ring entries %ld, %d VMs\n", mode_name[m], hi, mi, hd, md,
			       ent, n + 10);
			return -1;
		}
		if (!first_check[m]++)
			printf("bench: peer %s: kprobe_profile init_vm hit %lu missed %lu, destroy_vm "
			       "hit %lu missed %lu; ring buffer entries %ld (%d VMs)\n", mode_name[m],
			       hi, mi, hd, md, ent, n + 10);
	}
	*create = median(c, n);
	*create_p10 = quantile(c, n, 0.1);
	*destroy = median(d, n);
	free(c);
	free(d);
	return 0;
}

/*
 * a against b: ratios paired within each round (drift between rounds
 * cancels), then their median and range
 */
static void ratio(double cr[][64], double de[][64], const double *med_c, int rounds, int a, int b)
{
	double rc[64], rd[64], lo = 1e9, hi = 0;
	int i;

	for (i = 0; i < rounds; i++) {
		rc[i] = cr[a][i] / cr[b][i];
		rd[i] = de[a][i] / de[b][i];
		lo = rc[i] < lo ? rc[i] : lo;
		hi = rc[i] > hi ? rc[i] : hi;
	}
	printf("bench: create %s/%s = %.3f (rounds %.3f..%.3f; medians %.1f vs %.1f us, "
	       "%+.1f us, TCG); destroy %s/%s = %.3f\n", mode_name[a], mode_name[b],
	       median(rc, rounds), lo, hi, med_c[a], med_c[b], med_c[a] - med_c[b],
	       mode_name[a], mode_name[b], median(rd, rounds));
}

int main(int argc, char **argv)
{
	int rounds = 20, n = 30, i, m, have_uuid = 0;
	double cr[NMODES][64], de[NMODES][64], p10[NMODES][64], med_c[NMODES];
	int nm;

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
		} else if (!strcmp(argv[i], "-no-peer")) {
			peers = 0;
		} else {
			fprintf(stderr, "usage: kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N] [-no-peer]\n");
			return 2;
		}
	}
	if (!have_uuid || !ko || rounds < 1 || rounds > 64 || n < 1) {
		fprintf(stderr, "usage: kmod-create -uuid UUID -ko memtype.ko [-rounds R] [-n N] [-no-peer]\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	supported = ioctl(kvm, KVM_CHECK_EXTENSION, 213 /* KVM_CAP_DISABLE_QUIRKS2 */);
	if (peers && tracefs_init()) {
		printf("bench: no tracefs with kprobe_events: the kretprobe peers are left out\n");
		peers = 0;
	}
	if (peers) {
		/* a leftover of an earlier run would make the peer rounds lie */
		write_str("kprobe_events", "-:memtype_peer/init_vm\n", 1);
		write_str("kprobe_events", "-:memtype_peer/destroy_vm\n", 1);
	}
	nm = peers ? NMODES : PENDING + 1;
	/* warm up */
	for (i = 0; i < 20; i++)
		close(ioctl(kvm, KVM_CREATE_VM, 0));
	printf("bench: KVM_CREATE_VM under TCG (nested SVM), %d rounds x %d VMs, medians in us\n",
	       rounds, n);
	for (i = 0; i < rounds; i++) {
		/* alternate the order: without/loaded/pending/peers, then the reverse */
		for (m = 0; m < nm; m++) {
			int mode = i % 2 ? nm - 1 - m : m;

			if (round_(mode, n, &cr[mode][i], &de[mode][i], &p10[mode][i]))
				return 1;
		}
		printf("bench: round %d: create without %.1f, loaded %.1f, pending %.1f; "
		       "destroy without %.1f, loaded %.1f, pending %.1f\n", i + 1,
		       cr[WITHOUT][i], cr[LOADED][i], cr[PENDING][i], de[WITHOUT][i], de[LOADED][i],
		       de[PENDING][i]);
		if (peers)
			printf("bench: round %d peers: create kretprobe %.1f, kretprobe-quiet %.1f; "
			       "destroy kretprobe %.1f, kretprobe-quiet %.1f\n", i + 1, cr[KRP][i],
			       cr[KRPQ][i], de[KRP][i], de[KRPQ][i]);
	}
	if (peer_off()) {
		fprintf(stderr, "kmod-create: remove the peer kprobe events failed\n");
		return 1;
	}
	for (m = 0; m < nm; m++)
		med_c[m] = median(cr[m], rounds);
	ratio(cr, de, med_c, rounds, LOADED, WITHOUT);
	ratio(cr, de, med_c, rounds, PENDING, WITHOUT);
	if (peers) {
		/* the probe mechanism alone, then memtype over it */
		ratio(cr, de, med_c, rounds, KRP, WITHOUT);
		ratio(cr, de, med_c, rounds, KRPQ, WITHOUT);
		ratio(cr, de, med_c, rounds, LOADED, KRPQ);
		ratio(cr, de, med_c, rounds, PENDING, KRPQ);
		ratio(cr, de, med_c, rounds, LOADED, KRP);
		ratio(cr, de, med_c, rounds, PENDING, KRP);
	}
	/* the same pairs on each round's 10th percentile: less of the host's noise */
	{
		static const int pairs[][2] = {
			{ LOADED, WITHOUT }, { PENDING, WITHOUT }, { KRP, WITHOUT }, { KRPQ, WITHOUT },
			{ LOADED, KRPQ }, { PENDING, KRPQ }, { LOADED, KRP }, { PENDING, KRP },
		};
		char line[1024];
		size_t k, len;

		len = snprintf(line, sizeof(line), "bench: create p10 ratios (TCG, paired medians):");
		for (k = 0; k < sizeof(pairs) / sizeof(pairs[0]); k++) {
			double rc[64];
			int a = pairs[k][0], b = pairs[k][1];

			if (!peers && (a > PENDING || b > PENDING))
				continue;
			for (i = 0; i < rounds; i++)
				rc[i] = p10[a][i] / p10[b][i];
			len += snprintf(line + len, sizeof(line) - len, "%s %s/%s %.3f (%+.1f us)",
					k ? "," : "", mode_name[a], mode_name[b], median(rc, rounds),
					median(p10[a], rounds) - median(p10[b], rounds));
		}
		printf("%s\n", line);
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
