/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mt-test: the kernel rig's test driver. Runs inside a Debian kernel booted
 * under QEMU (tests/kmod/rig) with kvm, kvm-amd and memtype.ko loaded, talks
 * to /dev/memtype through kmod/uapi/memtype.h and to KVM through mt-vmm
 * processes (and a real QEMU), and prints TAP-like lines:
 *
 *   ok N - description
 *   not ok N - description
 *   #   why (for a failure) / # diagnostics
 *   mt-test: N passed, N failed
 *
 * Options (the rig passes what it knows about the boot):
 *   -vmm PATH            mt-vmm
 *   -ko PATH             memtype.ko, for the unload/reload cases
 *   -qemu PATH           run the real-QEMU case with this binary
 *   -expect-supported M  KVM_CHECK_EXTENSION(DISABLE_QUIRKS2) this boot must report
 *   -kvm-default M       disabled_quirks KVM sets by itself on a new VM here
 *   -cycles N            create/destroy cycles (default 1000)
 *
 * The machine.slice case mounts cgroup2 on /sys/fs/cgroup if it is not
 * mounted there (init.sh does it) and makes cgroups under it.
 *
 * What is "in force" is checked two ways: the module's read-back
 * (GET_VMS) and KVM's behaviour. FIX_HYPERCALL_INSN (0x20) is observable:
 * with the quirk on, KVM rewrites a guest VMCALL into VMMCALL; with it
 * disabled, the guest gets #UD (mt-vmm "run SLOT hc").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kmod/uapi/memtype.h"
#include "tests/kmod/rig-module.h"

#ifndef KVM_CAP_DISABLE_QUIRKS2
#define KVM_CAP_DISABLE_QUIRKS2 213
#endif

#define Q_CD_NW		0x002ULL	/* CD_NW_CLEARED: KVM never sets it itself on SVM */
#define Q_OUT7E		0x008ULL	/* OUT_7E_INC_RIP */
#define Q_HYPERCALL	0x020ULL	/* FIX_HYPERCALL_INSN: observable (hc probe) */
#define Q_IGNORE_PAT	0x200ULL	/* IGNORE_GUEST_PAT: KVM sets it on SVM with NPT */
#define POLICY		(Q_CD_NW | Q_HYPERCALL)

static const char *vmm_path = "/bin/mt-vmm";
static const char *ko_path;
static const char *qemu_path;
static long cycles = 1000;
static uint64_t expect_supported = ~0ULL;
static uint64_t kvm_default = ~0ULL;
static uint64_t supported;	/* from /dev/kvm */
static int semantics = -1;	/* 1: DISABLE_QUIRKS2 assigns, 0: ORs */
static int mfd = -1;		/* /dev/memtype */

/* ---------------------------------------------------------------- output */

static int ntest, npass, nfail;
static int bad;
static char why[4096];

static void begin(void)
{
	bad = 0;
	why[0] = 0;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	size_t len = strlen(why);
	va_list ap;

	if (len + 8 >= sizeof(why))
		return;
	strcat(why, "#   ");
	len += 4;
	va_start(ap, fmt);
	vsnprintf(why + len, sizeof(why) - len - 2, fmt, ap);
	va_end(ap);
	strcat(why, "\n");
}

#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		if (!(cond)) {                                                  \
			bad++;                                                  \
			note("line %d: %s", __LINE__, #cond);                   \
			note(__VA_ARGS__);                                      \
		}                                                               \
	} while (0)

static void end(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void end(const char *fmt, ...)
{
	va_list ap;

	ntest++;
	printf("%sok %d - ", bad ? "not " : "", ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (bad)
		fputs(why, stdout);
	fflush(stdout);
	if (bad)
		nfail++;
	else
		npass++;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ uuids */

static unsigned uuid_seq;

static void uuid_new(uint8_t u[16])
{
	static const uint8_t base[16] = { 0x6d, 0x65, 0x6d, 0x74, 0x79, 0x70, 0x45, 0x00,
					  0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };

	memcpy(u, base, 16);
	uuid_seq++;
	u[12] = getpid() & 0xff;
	u[13] = (uuid_seq >> 16) & 0xff;
	u[14] = (uuid_seq >> 8) & 0xff;
	u[15] = uuid_seq & 0xff;
}

static const char *uuid_str(const uint8_t u[16], char s[37])
{
	snprintf(s, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	return s;
}

/* -------------------------------------------------------------- /dev/memtype */

static int mt_open(void)
{
	if (mfd < 0)
		mfd = open("/dev/memtype", O_RDWR | O_CLOEXEC);
	return mfd;
}

static void mt_close(void)
{
	if (mfd >= 0)
		close(mfd);
	mfd = -1;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int get_info(struct memtype_info *i)
{
	memset(i, 0, sizeof(*i));
	i->argsz = sizeof(*i);
	return xioctl(mfd, MEMTYPE_IOC_GET_INFO, i);
}

static int add_pending(const uint8_t u[16], uint64_t disable, uint64_t supp, uint32_t flags,
		       uint32_t uid)
{
	struct memtype_pending p = { .argsz = sizeof(p), .flags = flags };

	memcpy(p.uuid, u, 16);
	p.disable_quirks = disable;
	p.supported_quirks = supp;
	p.ttl_ms = 600000;
	p.trusted_uid = uid;
	return xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p);
}

static int del_pending(const uint8_t u[16])
{
	struct memtype_pending p = { .argsz = sizeof(p) };

	memcpy(p.uuid, u, 16);
	return xioctl(mfd, MEMTYPE_IOC_DEL_PENDING, &p);
}

/* VMs created by pid (or with uuid); returns the number written, or -errno. */
static int get_vms(uint32_t flags, pid_t pid, const uint8_t *u, struct memtype_vm *v, uint32_t cap,
		   uint32_t *total)
{
	struct memtype_get_vms g = { .argsz = sizeof(g), .flags = flags };
	int r;

	g.pid = pid;
	if (u)
		memcpy(g.uuid, u, 16);
	g.capacity = cap;
	g.vms_ptr = (uintptr_t)v;
	g.vm_size = sizeof(*v);
	r = xioctl(mfd, MEMTYPE_IOC_GET_VMS, &g);
	if (r)
		return r;
	if (total)
		*total = g.total;
	return g.count;
}

static int vm_of(pid_t pid, struct memtype_vm *v)
{
	memset(v, 0, sizeof(*v));
	return get_vms(MEMTYPE_GET_BY_PID, pid, NULL, v, 1, NULL);
}

static int apply(uint32_t flags, pid_t pid, const uint8_t u[16], uint64_t disable, uint64_t supp,
		 struct memtype_apply *a)
{
	memset(a, 0, sizeof(*a));
	a->argsz = sizeof(*a);
	a->flags = flags;
	a->pid = pid;
	if (u)
		memcpy(a->uuid, u, 16);
	a->disable_quirks = disable;
	a->supported_quirks = supp;
	return xioctl(mfd, MEMTYPE_IOC_APPLY, a);
}

static void vm_note(const char *what, const struct memtype_vm *v)
{
	char s[37];

	note("%s: id=%" PRIu64 " pid=%d state=0x%x uuid=%s kvm=0x%" PRIx64 " memtype=0x%" PRIx64
	     " disabled=0x%" PRIx64 " vcpus=%u first_entry_cpu=%d type=%u",
	     what, (uint64_t)v->id, v->pid, v->state, uuid_str(v->uuid, s),
	     (uint64_t)v->kvm_quirks, (uint64_t)v->memtype_quirks, (uint64_t)v->disabled_quirks,
	     v->online_vcpus, v->first_entry_cpu, v->vm_type);
}

/* ---------------------------------------------------------- kernel modules */

static int load_memtype(void)
{
	return ko_path ? rig_load_module(ko_path) : -ENOENT;
}

static int unload_memtype(void)
{
	int i;

	mt_close();
	for (i = 0; i < 50; i++) {
		int r = rig_unload_module();

		if (r != -EAGAIN && r != -EBUSY)
			return r;
		usleep(100000);
	}
	return -EBUSY;
}

/* ------------------------------------------------------------------ mt-vmm */

struct vmm {
	pid_t pid;
	FILE *in;	/* commands */
	FILE *out;	/* replies */
	char reply[512];
};

static int vmm_spawn(struct vmm *v, const char *uuid, long euid, const char *name)
{
	int cin[2], cout[2];
	const char *argv[12];
	char euid_s[24];
	int n = 0;

	memset(v, 0, sizeof(*v));
	argv[n++] = vmm_path;
	if (name) {
		argv[n++] = "-name";
		argv[n++] = name;
	}
	if (uuid) {
		argv[n++] = "-uuid";
		argv[n++] = uuid;
	}
	if (euid >= 0) {
		snprintf(euid_s, sizeof(euid_s), "%ld", euid);
		argv[n++] = "-euid";
		argv[n++] = euid_s;
	}
	argv[n] = NULL;
	if (pipe2(cin, O_CLOEXEC) < 0 || pipe2(cout, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	v->pid = fork();
	if (v->pid < 0)
		return -errno;
	if (v->pid == 0) {
		dup2(cin[0], 0);
		dup2(cout[1], 1);
		execv(vmm_path, (char **)argv);
		_exit(127);
	}
	close(cin[0]);
	close(cout[1]);
	v->in = fdopen(cin[1], "w");
	v->out = fdopen(cout[0], "r");
	return 0;
}

/* Send a command; 0 if the reply is "ok ...", else the reply's errno (or EPIPE). */
static int vmm_cmd(struct vmm *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vmm_cmd(struct vmm *v, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vfprintf(v->in, fmt, ap);
	va_end(ap);
	fputc('\n', v->in);
	fflush(v->in);
	if (!fgets(v->reply, sizeof(v->reply), v->out)) {
		strcpy(v->reply, "(no reply)");
		return EPIPE;
	}
	len = strlen(v->reply);
	if (len && v->reply[len - 1] == '\n')
		v->reply[len - 1] = 0;
	if (!strncmp(v->reply, "ok", 2))
		return 0;
	if (!strncmp(v->reply, "err ", 4))
		return atoi(v->reply + 4) ?: EIO;
	return EIO;
}

static int vmm_stop(struct vmm *v)
{
	int st = 0;

	if (!v->pid)
		return 0;
	if (v->in) {
		fputs("quit\n", v->in);
		fclose(v->in);
	}
	if (v->out)
		fclose(v->out);
	waitpid(v->pid, &st, 0);
	v->pid = 0;
	return st;
}

/* New VMM, one VM in slot 0. */
static int vmm_with_vm(struct vmm *v, const char *uuid, long euid)
{
	int r = vmm_spawn(v, uuid, euid, "guest=rig");

	if (r)
		return r;
	return vmm_cmd(v, "vm");
}

/*
 * What the hypercall probe says about FIX_HYPERCALL_INSN on VM slot:
 * 1 = quirk disabled (#UD reached the guest), 0 = quirk on (VMCALL patched),
 * -1 = neither (reply in v->reply).
 */
static int hc_disabled(struct vmm *v, int slot)
{
	if (vmm_cmd(v, "run %d hc", slot))
		return -1;
	if (strstr(v->reply, "OUT=0x11:0x55") && strstr(v->reply, "MEM=0f01c1"))
		return 1;
	if (strstr(v->reply, "OUT=0x10:0x18") && strstr(v->reply, "MEM=0f01d9"))
		return 0;
	return -1;
}

/* Run a cycles-mode mt-vmm to the end; returns VMs created, or -1. */
static long vmm_cycles(const char *uuid, long n, long threads, pid_t *pidp)
{
	char ns[24], ts[24], line[256] = "";
	const char *argv[10];
	int p[2], st, k = 0;
	long created = -1;
	pid_t pid;
	FILE *f;

	snprintf(ns, sizeof(ns), "%ld", n);
	snprintf(ts, sizeof(ts), "%ld", threads);
	argv[k++] = vmm_path;
	if (uuid) {
		argv[k++] = "-uuid";
		argv[k++] = uuid;
	}
	argv[k++] = "-cycles";
	argv[k++] = ns;
	argv[k++] = "-threads";
	argv[k++] = ts;
	argv[k] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execv(vmm_path, (char **)argv);
		_exit(127);
	}
	close(p[1]);
	if (pidp)
		*pidp = pid;
	f = fdopen(p[0], "r");
	if (f && fgets(line, sizeof(line), f))
		sscanf(line, "ok created=%ld", &created);
	if (f)
		fclose(f);
	waitpid(pid, &st, 0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		note("mt-vmm -cycles: status 0x%x, %s", st, line);
	return created;
}

/* ------------------------------------------------------------ kernel log */

static const char *const bad_words[] = { "WARNING:", "BUG:", "Oops", "general protection",
					 "Call Trace", "kernel BUG", "RCU stall", "soft lockup",
					 "hung_task", "refcount_t", NULL };

/* The first kernel log line with a bad word, or NULL. */
static char *klog_bad(void)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	char *line, *save = NULL;

	if (n < 0)
		return "klogctl failed";
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int i;

		for (i = 0; bad_words[i]; i++)
			if (strstr(line, bad_words[i]))
				return line;
	}
	return NULL;
}

/* ------------------------------------------------------------------ cases */

static struct memtype_info info0;

static void t_info(void)
{
	struct memtype_info i;
	struct utsname u;
	int r;

	begin();
	r = get_info(&i);
	CHECK(r == 0, "GET_INFO: %s", strerror(-r));
	uname(&u);
	if (!r) {
		CHECK(i.abi_version == MEMTYPE_ABI_VERSION, "abi_version %u", i.abi_version);
		CHECK((i.caps & (MEMTYPE_CAP_CREATE_PROBE | MEMTYPE_CAP_DESTROY_PROBE |
				 MEMTYPE_CAP_ARGV_UUID | MEMTYPE_CAP_LATE_APPLY)) ==
		      (MEMTYPE_CAP_CREATE_PROBE | MEMTYPE_CAP_DESTROY_PROBE | MEMTYPE_CAP_ARGV_UUID |
		       MEMTYPE_CAP_LATE_APPLY), "caps 0x%x", i.caps);
		CHECK(!(i.state & (MEMTYPE_STATE_KVM_ABSENT | MEMTYPE_STATE_LAYOUT_MISMATCH |
				   MEMTYPE_STATE_MISSED_EVENTS | MEMTYPE_STATE_TABLE_FULL)),
		      "state 0x%x", i.state);
		CHECK(!strcmp(i.kernel_release, u.release), "kernel_release '%s', running '%s'",
		      i.kernel_release, u.release);
		CHECK(i.max_vms > 0 && i.max_pending > 0, "max_vms %u max_pending %u", i.max_vms,
		      i.max_pending);
		info0 = i;
		diag("GET_INFO: abi %u caps 0x%x state 0x%x vms %u/%u pending %u/%u release %s",
		     i.abi_version, i.caps, i.state, i.nr_vms, i.max_vms, i.nr_pending,
		     i.max_pending, i.kernel_release);
	}
	end("GET_INFO: ABI %d, probes armed, built for the running kernel", MEMTYPE_ABI_VERSION);
}

static void t_supported(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int r;

	begin();
	CHECK(kvm >= 0, "/dev/kvm: %s", strerror(errno));
	r = kvm >= 0 ? ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2) : -1;
	CHECK(r > 0, "KVM_CHECK_EXTENSION(DISABLE_QUIRKS2) = %d", r);
	supported = r > 0 ? (uint64_t)r : 0;
	if (expect_supported != ~0ULL)
		CHECK(supported == expect_supported, "supported 0x%" PRIx64 ", expected 0x%" PRIx64,
		      supported, expect_supported);
	if (kvm >= 0)
		close(kvm);
	diag("KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2) on /dev/kvm = 0x%" PRIx64, supported);
	end("/dev/kvm reports supported quirks 0x%" PRIx64, supported);
}

/* The probe itself: a VM with no policy has FIX_HYPERCALL_INSN on; one whose
 * VMM disabled it gets #UD. Without this the behavioural checks prove nothing. */
static void t_probe(void)
{
	struct vmm v;
	int on, off;

	begin();
	CHECK(vmm_with_vm(&v, NULL, -1) == 0, "vm: %s", v.reply);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	on = hc_disabled(&v, 0);
	CHECK(on == 0, "no policy: hc probe %d (%s)", on, v.reply);
	CHECK(vmm_cmd(&v, "vm") == 0, "vm 1: %s", v.reply);
	CHECK(vmm_cmd(&v, "cap 1 0x%llx", Q_HYPERCALL) == 0, "cap: %s", v.reply);
	CHECK(vmm_cmd(&v, "vcpu 1") == 0, "vcpu: %s", v.reply);
	off = hc_disabled(&v, 1);
	CHECK(off == 1, "own DISABLE_QUIRKS2(0x20): hc probe %d (%s)", off, v.reply);
	vmm_stop(&v);
	end("hypercall probe: VMCALL patched with FIX_HYPERCALL_INSN on, #UD with it disabled");
}

/* Which semantics KVM_ENABLE_CAP(DISABLE_QUIRKS2) has on this kernel: a
 * second call with another bit either replaces (assign) or adds (OR). */
static void t_semantics(void)
{
	struct memtype_vm m;
	struct vmm v;
	int r, n;

	begin();
	CHECK(vmm_with_vm(&v, NULL, -1) == 0, "vm: %s", v.reply);
	CHECK(vmm_cmd(&v, "cap 0 0x%llx", Q_HYPERCALL) == 0, "cap 0x20: %s", v.reply);
	CHECK(vmm_cmd(&v, "cap 0 0x%llx", Q_OUT7E) == 0, "cap 0x8: %s", v.reply);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r >= 0, "hc probe: %s", v.reply);
	semantics = r == 0 ? 1 : r == 1 ? 0 : -1;
	n = vm_of(v.pid, &m);
	CHECK(n == 1, "GET_VMS by pid: %d", n);
	if (n == 1 && semantics >= 0) {
		uint64_t want = semantics ? Q_OUT7E : (kvm_default | Q_HYPERCALL | Q_OUT7E);

		CHECK(m.disabled_quirks == want, "read-back 0x%" PRIx64 " != KVM's 0x%" PRIx64,
		      (uint64_t)m.disabled_quirks, want);
		CHECK(m.memtype_quirks == 0 && !(m.state & MEMTYPE_VM_APPLIED), "memtype touched it");
		if (bad)
			vm_note("vm", &m);
	}
	vmm_stop(&v);
	diag("semantics: KVM_ENABLE_CAP(DISABLE_QUIRKS2) on this kernel %s",
	     semantics == 1 ? "ASSIGNS (a second call replaces the mask)" :
	     semantics == 0 ? "ORs (a second call adds bits)" : "unknown");
	end("DISABLE_QUIRKS2 semantics found (%s); read-back of disabled_quirks matches KVM's behaviour",
	    semantics == 1 ? "assign" : semantics == 0 ? "or" : "?");
}

static void t_apply_at_create(void)
{
	struct memtype_info i1, i2;
	struct memtype_vm m, m2;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	int r, n;

	begin();
	uuid_new(u);
	get_info(&i1);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	get_info(&i2);
	CHECK(i2.nr_pending == i1.nr_pending + 1, "nr_pending %u -> %u", i1.nr_pending, i2.nr_pending);
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1, "GET_VMS by pid %d: %d", v.pid, n);
	if (n == 1) {
		uint32_t want = MEMTYPE_VM_APPLIED | MEMTYPE_VM_AT_CREATE | MEMTYPE_VM_BEFORE_ENTRY |
				MEMTYPE_VM_HAS_UUID;

		CHECK((m.state & want) == want, "state 0x%x lacks 0x%x", m.state, want & ~m.state);
		CHECK(!(m.state & (MEMTYPE_VM_LATE | MEMTYPE_VM_CONFLICT | MEMTYPE_VM_UNTRUSTED |
				   MEMTYPE_VM_STALE)), "state 0x%x", m.state);
		CHECK(!memcmp(m.uuid, u, 16), "uuid differs");
		CHECK(m.pid == v.pid, "pid %d != %d", m.pid, v.pid);
		CHECK(m.kvm_quirks == kvm_default, "kvm_quirks 0x%" PRIx64 " != KVM default 0x%" PRIx64,
		      (uint64_t)m.kvm_quirks, kvm_default);
		CHECK(m.memtype_quirks == POLICY, "memtype_quirks 0x%" PRIx64, (uint64_t)m.memtype_quirks);
		CHECK(m.disabled_quirks == (kvm_default | POLICY), "disabled_quirks 0x%" PRIx64,
		      (uint64_t)m.disabled_quirks);
		CHECK(m.online_vcpus == 0 && m.first_entry_cpu == -1, "vcpus %u first_entry %d",
		      m.online_vcpus, m.first_entry_cpu);
		CHECK(m.vm_type == 0, "vm_type %u", m.vm_type);
		if (bad)
			vm_note("vm", &m);
	}
	get_info(&i2);
	CHECK(i2.vms_applied == i1.vms_applied + 1, "vms_applied %" PRIu64 " -> %" PRIu64,
	      (uint64_t)i1.vms_applied, (uint64_t)i2.vms_applied);
	CHECK(i2.kvm_default_quirks == kvm_default, "info kvm_default_quirks 0x%" PRIx64,
	      (uint64_t)i2.kvm_default_quirks);
	/* the same VM by uuid */
	n = get_vms(MEMTYPE_GET_BY_UUID, 0, u, &m2, 1, NULL);
	CHECK(n == 1 && m2.id == m.id, "GET_VMS by uuid: %d", n);
	/* in force: the guest's first instruction already sees the quirk off */
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "first guest entry: FIX_HYPERCALL_INSN not disabled (probe %d: %s)", r, v.reply);
	n = vm_of(v.pid, &m2);
	CHECK(n == 1 && m2.online_vcpus == 1 && m2.disabled_quirks == m.disabled_quirks &&
	      m2.first_entry_cpu == -1 /* at apply time */ && (m2.state & MEMTYPE_VM_BEFORE_ENTRY),
	      "after run: n=%d vcpus %u disabled 0x%" PRIx64, n, m2.online_vcpus,
	      (uint64_t)m2.disabled_quirks);
	vmm_stop(&v);
	del_pending(u);
	end("pending policy 0x%llx for a UUID is in force on the VM of the process with that -uuid, "
	    "at creation, before the first guest entry; KVM's 0x%" PRIx64 " and memtype's bits apart",
	    POLICY, kvm_default);
}

static void expect_untouched(const char *what, struct vmm *v)
{
	struct memtype_vm m;
	int n = vm_of(v->pid, &m);

	CHECK(n == 1, "%s: GET_VMS by pid: %d", what, n);
	if (n != 1)
		return;
	CHECK(!(m.state & MEMTYPE_VM_APPLIED) && m.memtype_quirks == 0 &&
	      m.disabled_quirks == kvm_default && m.kvm_quirks == kvm_default,
	      "%s: touched", what);
	if (bad)
		vm_note(what, &m);
}

static void t_untouched(void)
{
	uint8_t u[16], other[16];
	char us[37], os[37], name[64];
	struct vmm a, b, c;
	int r;

	begin();
	uuid_new(u);
	uuid_new(other);
	r = add_pending(u, POLICY, supported, MEMTYPE_PENDING_ANY_UID, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	uuid_str(u, us);
	/* another uuid */
	CHECK(vmm_with_vm(&a, uuid_str(other, os), -1) == 0, "vm a: %s", a.reply);
	expect_untouched("other -uuid", &a);
	CHECK(vmm_cmd(&a, "vcpu 0") == 0, "vcpu: %s", a.reply);
	r = hc_disabled(&a, 0);
	CHECK(r == 0, "FIX_HYPERCALL_INSN disabled on an untouched VM (%d: %s)", r, a.reply);
	/* no -uuid at all */
	CHECK(vmm_with_vm(&b, NULL, -1) == 0, "vm b: %s", b.reply);
	expect_untouched("no -uuid", &b);
	/* the uuid in argv, but not as the -uuid token */
	snprintf(name, sizeof(name), "guest=%s", us);
	r = vmm_spawn(&c, NULL, -1, name);
	CHECK(r == 0 && vmm_cmd(&c, "vm") == 0, "vm c: %s", c.reply);
	expect_untouched("uuid only in -name", &c);
	vmm_stop(&a);
	vmm_stop(&b);
	vmm_stop(&c);
	r = del_pending(u);
	CHECK(r == 0, "DEL_PENDING of the unclaimed entry: %s", strerror(-r));
	end("VMs without a pending policy are untouched (other -uuid, no -uuid, uuid only in -name)");
}

static void t_unsupported(void)
{
	/* bits KVM does not support here (6.12 npt=0: IGNORE_GUEST_PAT;
	 * 6.1: 0x780), plus one we claim unsupported, plus one outside VALID */
	uint64_t unsup = MEMTYPE_QUIRKS_VALID & ~supported;
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	int r, n;

	begin();
	/* 1: the real supported mask; the policy asks for more */
	uuid_new(u);
	r = add_pending(u, POLICY | unsup, supported, 0, 0);
	if (r == -EINVAL && unsup) {
		diag("ADD_PENDING with bits outside supported: EINVAL (rejected)");
	} else {
		CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
		CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
		n = vm_of(v.pid, &m);
		CHECK(n == 1, "GET_VMS: %d", n);
		if (n == 1) {
			CHECK(!(m.disabled_quirks & unsup & ~kvm_default),
			      "unsupported bits 0x%" PRIx64 " set", (uint64_t)(m.disabled_quirks & unsup));
			CHECK(!(m.disabled_quirks & ~supported), "disabled 0x%" PRIx64 " outside supported",
			      (uint64_t)m.disabled_quirks);
			CHECK(m.memtype_quirks == POLICY, "memtype_quirks 0x%" PRIx64,
			      (uint64_t)m.memtype_quirks);
			if (bad)
				vm_note("vm", &m);
		}
		vmm_stop(&v);
		del_pending(u);
	}
	/* 2: the daemon says OUT_7E_INC_RIP is unsupported: never set it */
	uuid_new(u);
	r = add_pending(u, POLICY | Q_OUT7E, supported & ~Q_OUT7E, 0, 0);
	if (r == -EINVAL) {
		diag("ADD_PENDING disable 0x%llx, supported without 0x8: EINVAL (rejected)",
		     POLICY | Q_OUT7E);
	} else {
		CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
		CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
		n = vm_of(v.pid, &m);
		CHECK(n == 1 && !(m.disabled_quirks & Q_OUT7E) && m.memtype_quirks == POLICY,
		      "quirk outside the passed supported mask set (n=%d)", n);
		if (bad && n == 1)
			vm_note("vm", &m);
		vmm_stop(&v);
		del_pending(u);
	}
	/* 3: a bit outside MEMTYPE_QUIRKS_VALID */
	uuid_new(u);
	r = add_pending(u, POLICY | 0x1000, supported | 0x1000, 0, 0);
	if (r == -EINVAL) {
		diag("ADD_PENDING with bit 12: EINVAL (rejected)");
	} else {
		CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
		CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
		n = vm_of(v.pid, &m);
		CHECK(n == 1 && !(m.disabled_quirks & 0x1000), "bit 12 set (n=%d)", n);
		vmm_stop(&v);
		del_pending(u);
	}
	/* 4: late apply asking for more than the passed supported mask */
	uuid_new(u);
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	{
		struct memtype_apply a;

		r = apply(0, v.pid, u, POLICY | unsup | Q_OUT7E | 0x1000, supported & ~Q_OUT7E, &a);
		if (r == -EINVAL) {
			diag("APPLY with bits outside supported: EINVAL (rejected)");
		} else {
			CHECK(r == 0, "APPLY: %s", strerror(-r));
			n = vm_of(v.pid, &m);
			CHECK(n == 1 && !(m.disabled_quirks & (unsup | Q_OUT7E | 0x1000) & ~kvm_default),
			      "late apply set bits outside the supported mask (n=%d)", n);
			if (bad && n == 1)
				vm_note("vm", &m);
		}
	}
	vmm_stop(&v);
	end("a quirk KVM does not support (0x%" PRIx64 " here), or outside the passed mask, is never set "
	    "(pending and late apply)", unsup);
}

static void t_untrusted(void)
{
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	int r, n;

	begin();
	/* trusted_uid 0, creator euid 1000: untrusted */
	uuid_new(u);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), 1000) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1, "GET_VMS: %d", n);
	if (n == 1) {
		CHECK(!(m.state & MEMTYPE_VM_APPLIED) && m.memtype_quirks == 0 &&
		      m.disabled_quirks == kvm_default, "untrusted creator got the policy");
		CHECK(m.state & MEMTYPE_VM_UNTRUSTED, "state 0x%x lacks UNTRUSTED", m.state);
		if (bad)
			vm_note("euid 1000", &m);
	}
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r == 0, "untrusted VM has FIX_HYPERCALL_INSN disabled (%d: %s)", r, v.reply);
	vmm_stop(&v);
	del_pending(u);
	/* the trusted uid is honoured: trusted_uid 1000, creator euid 1000 */
	uuid_new(u);
	r = add_pending(u, POLICY, supported, 0, 1000);
	CHECK(r == 0, "ADD_PENDING uid 1000: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), 1000) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && (m.state & MEMTYPE_VM_APPLIED) && m.memtype_quirks == POLICY,
	      "trusted_uid 1000 creator not applied (n=%d)", n);
	if (bad && n == 1)
		vm_note("trusted 1000", &m);
	vmm_stop(&v);
	del_pending(u);
	/* ANY_UID */
	uuid_new(u);
	r = add_pending(u, POLICY, supported, MEMTYPE_PENDING_ANY_UID, 0);
	CHECK(r == 0, "ADD_PENDING ANY_UID: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), 1000) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && (m.state & MEMTYPE_VM_APPLIED) && m.memtype_quirks == POLICY,
	      "ANY_UID: euid 1000 creator not applied (n=%d)", n);
	if (bad && n == 1)
		vm_note("any uid", &m);
	vmm_stop(&v);
	del_pending(u);
	end("an untrusted creator (euid 1000, trusted_uid 0) does not get the policy; trusted_uid and ANY_UID are honoured");
}

/* ------------------------------------------------------ machine.slice trust */

#define CG_ROOT		"/sys/fs/cgroup"
#define CG_SCOPE	CG_ROOT "/machine.slice/machine-qemu-test.scope"
#define CG_OTHER	CG_ROOT "/other.slice/test.scope"
#define CG_NESTED	CG_ROOT "/other.slice/machine.slice/machine-qemu-nested.scope"
#define DEFER_ARGV	"/sys/module/memtype/parameters/defer_argv"

/* cgroup2 on /sys/fs/cgroup and the test cgroups; 0 or -errno. */
static int cg_setup(void)
{
	static const char *const dirs[] = {
		CG_ROOT "/machine.slice", CG_SCOPE, CG_ROOT "/other.slice", CG_OTHER,
		CG_ROOT "/other.slice/machine.slice", CG_NESTED, NULL
	};
	int i;

	if (access(CG_ROOT "/cgroup.procs", F_OK) < 0) {
		mkdir(CG_ROOT, 0755);
		if (mount("none", CG_ROOT, "cgroup2", 0, NULL) < 0)
			return -errno;
	}
	for (i = 0; dirs[i]; i++)
		if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
			return -errno;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Move pid into cgroup dir; 0 if /proc/PID/cgroup then says so. */
static int cg_move(pid_t pid, const char *dir)
{
	char path[256], text[32], line[256] = "";
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(text, sizeof(text), "%d\n", (int)pid);
	r = write_file(path, text);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	if (strncmp(line, "0::", 3) || strcmp(line + 3, dir + strlen(CG_ROOT))) {
		note("/proc/%d/cgroup: '%s', want 0::%s", (int)pid, line, dir + strlen(CG_ROOT));
		return -EIO;
	}
	return 0;
}

/*
 * An mt-vmm with euid 1000 for a pending policy (trusted_uid 0, flags),
 * put into cgroup dir (NULL: stays in the root cgroup) before it creates
 * its VM. Returns the VM's state, or 0 on a setup error (noted).
 */
static uint32_t slice_vm(const char *what, uint32_t flags, const char *dir, uint8_t u[16],
			 struct vmm *v, struct memtype_vm *m)
{
	char us[37];
	int r, n;

	uuid_new(u);
	r = add_pending(u, POLICY, supported, flags, 0);
	CHECK(r == 0, "%s: ADD_PENDING flags 0x%x: %s", what, flags, strerror(-r));
	r = vmm_spawn(v, uuid_str(u, us), 1000, "guest=rig");
	CHECK(r == 0, "%s: spawn: %s", what, strerror(-r));
	if (r)
		return 0;
	if (dir) {
		r = cg_move(v->pid, dir);
		CHECK(r == 0, "%s: move pid %d to %s: %s", what, v->pid, dir, strerror(-r));
	}
	r = vmm_cmd(v, "vm");
	CHECK(r == 0, "%s: vm: %s", what, v->reply);
	memset(m, 0, sizeof(*m));
	n = vm_of(v->pid, m);
	CHECK(n == 1, "%s: GET_VMS: %d", what, n);
	return n == 1 ? m->state : 0;
}

static void expect_slice_untrusted(const char *what, uint32_t flags, const char *dir)
{
	struct memtype_vm m;
	struct vmm v;
	uint8_t u[16];
	uint32_t st = slice_vm(what, flags, dir, u, &v, &m);

	CHECK(!(st & MEMTYPE_VM_APPLIED) && m.memtype_quirks == 0 &&
	      m.disabled_quirks == kvm_default, "%s: got the policy", what);
	CHECK(st & MEMTYPE_VM_UNTRUSTED, "%s: state 0x%x lacks UNTRUSTED", what, st);
	if (bad)
		vm_note(what, &m);
	vmm_stop(&v);
	del_pending(u);
}

static void t_machine_slice(void)
{
	struct memtype_vm m;
	struct vmm v;
	uint8_t u[16];
	uint32_t st;
	int r, i;

	begin();
	r = cg_setup();
	CHECK(r == 0, "cgroup2 on " CG_ROOT ", test cgroups: %s", strerror(-r));
	if (r) {
		end("machine.slice trust: no cgroup2");
		return;
	}
	/* the flag, euid 1000 (trusted_uid 0), in /machine.slice/...scope */
	st = slice_vm("flag, machine.slice", MEMTYPE_PENDING_TRUST_MACHINE_SLICE, CG_SCOPE, u, &v,
		      &m);
	{
		uint32_t want = MEMTYPE_VM_APPLIED | MEMTYPE_VM_AT_CREATE | MEMTYPE_VM_BEFORE_ENTRY;

		CHECK((st & want) == want && !(st & MEMTYPE_VM_UNTRUSTED) &&
		      m.memtype_quirks == POLICY && m.disabled_quirks == (kvm_default | POLICY),
		      "flag, machine.slice: not applied at creation (state 0x%x)", st);
		if (bad)
			vm_note("flag, machine.slice", &m);
	}
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "machine.slice VM: FIX_HYPERCALL_INSN not disabled (%d: %s)", r, v.reply);
	vmm_stop(&v);
	del_pending(u);
	/* the same in the argv fallback: the cgroup is the creator's, recorded at creation */
	r = write_file(DEFER_ARGV, "1");
	CHECK(r == 0, DEFER_ARGV ": %s", strerror(-r));
	if (!r) {
		st = slice_vm("flag, machine.slice, argv fallback",
			      MEMTYPE_PENDING_TRUST_MACHINE_SLICE, CG_SCOPE, u, &v, &m);
		for (i = 0; i < 100 && !(st & (MEMTYPE_VM_APPLIED | MEMTYPE_VM_UNTRUSTED)); i++) {
			usleep(20000);
			if (vm_of(v.pid, &m) == 1)
				st = m.state;
		}
		CHECK((st & MEMTYPE_VM_APPLIED) && !(st & MEMTYPE_VM_AT_CREATE) &&
		      !(st & MEMTYPE_VM_UNTRUSTED) && m.memtype_quirks == POLICY,
		      "argv fallback, machine.slice: not applied (state 0x%x)", st);
		if (bad)
			vm_note("argv fallback", &m);
		vmm_stop(&v);
		del_pending(u);
		r = write_file(DEFER_ARGV, "0");
		CHECK(r == 0, DEFER_ARGV " reset: %s", strerror(-r));
	}
	/* without the flag: euid only */
	expect_slice_untrusted("no flag, machine.slice", 0, CG_SCOPE);
	/* the flag, but elsewhere */
	expect_slice_untrusted("flag, other.slice", MEMTYPE_PENDING_TRUST_MACHINE_SLICE, CG_OTHER);
	expect_slice_untrusted("flag, other.slice/machine.slice",
			       MEMTYPE_PENDING_TRUST_MACHINE_SLICE, CG_NESTED);
	expect_slice_untrusted("flag, root cgroup", MEMTYPE_PENDING_TRUST_MACHINE_SLICE, NULL);
	end("TRUST_MACHINE_SLICE: an euid-1000 creator in /machine.slice gets the policy (at creation "
	    "and via the argv fallback); not without the flag, nor in other.slice, a nested "
	    "machine.slice or the root cgroup");
}

static void t_conflict(void)
{
	struct memtype_vm ma, mb;
	uint8_t u[16];
	char us[37];
	struct vmm a, b;
	int r, n;

	begin();
	uuid_new(u);
	uuid_str(u, us);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	CHECK(vmm_with_vm(&a, us, -1) == 0, "vm a: %s", a.reply);
	CHECK(vmm_with_vm(&b, us, -1) == 0, "vm b: %s", b.reply);
	n = vm_of(a.pid, &ma);
	CHECK(n == 1 && (ma.state & MEMTYPE_VM_APPLIED) && ma.memtype_quirks == POLICY,
	      "first claimant not applied (n=%d)", n);
	n = vm_of(b.pid, &mb);
	CHECK(n == 1, "GET_VMS b: %d", n);
	if (n == 1) {
		CHECK(!(mb.state & MEMTYPE_VM_APPLIED) && mb.memtype_quirks == 0 &&
		      mb.disabled_quirks == kvm_default, "second claimant got the policy");
		CHECK(mb.state & MEMTYPE_VM_CONFLICT, "state 0x%x lacks CONFLICT", mb.state);
	}
	if (bad) {
		vm_note("a", &ma);
		vm_note("b", &mb);
	}
	CHECK(vmm_cmd(&b, "vcpu 0") == 0, "vcpu: %s", b.reply);
	r = hc_disabled(&b, 0);
	CHECK(r == 0, "second claimant has FIX_HYPERCALL_INSN disabled (%d: %s)", r, b.reply);
	vmm_stop(&a);
	vmm_stop(&b);
	del_pending(u);
	end("a second claimant of a UUID does not get the policy (CONFLICT), the first keeps it");
}

static void t_vmm_cap(void)
{
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	int r, n;

	begin();
	uuid_new(u);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	/* the VMM's own call, with a bit of its own */
	CHECK(vmm_cmd(&v, "cap 0 0x%llx", Q_OUT7E) == 0, "cap 0x8: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1, "GET_VMS: %d", n);
	if (n == 1) {
		CHECK((m.disabled_quirks & (POLICY | Q_OUT7E)) == (POLICY | Q_OUT7E),
		      "after the VMM's DISABLE_QUIRKS2(0x8): disabled 0x%" PRIx64,
		      (uint64_t)m.disabled_quirks);
		CHECK(m.memtype_quirks == POLICY && m.kvm_quirks == kvm_default,
		      "memtype 0x%" PRIx64 " kvm 0x%" PRIx64, (uint64_t)m.memtype_quirks,
		      (uint64_t)m.kvm_quirks);
		if (semantics == 1)
			CHECK(m.state & MEMTYPE_VM_REAPPLIED, "assigning kernel, state 0x%x lacks REAPPLIED",
			      m.state);
		if (bad)
			vm_note("vm", &m);
	}
	/* and a call with 0 */
	CHECK(vmm_cmd(&v, "cap 0 0") == 0, "cap 0: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && (m.disabled_quirks & POLICY) == POLICY,
	      "after the VMM's DISABLE_QUIRKS2(0): disabled 0x%" PRIx64, (uint64_t)m.disabled_quirks);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "KVM has FIX_HYPERCALL_INSN back on after the VMM's call (%d: %s)", r, v.reply);
	vmm_stop(&v);
	del_pending(u);
	end("a VMM's own DISABLE_QUIRKS2 afterwards (0x8, then 0) does not erase memtype's bits "
	    "(%s kernel)", semantics == 1 ? "assigning" : semantics == 0 ? "OR-ing" : "?");
}

static void t_late_apply(void)
{
	struct memtype_apply a;
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	double t0;
	int r, n;

	begin();
	uuid_new(u);
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	CHECK(vmm_cmd(&v, "run 0 out") == 0 && strstr(v.reply, "OUT=0x10:0x42"),
	      "guest run: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && !(m.state & MEMTYPE_VM_APPLIED) && m.first_entry_cpu == -1,
	      "before apply: n=%d", n);
	t0 = now_ms();
	r = apply(0, v.pid, u, POLICY, supported, &a);
	t0 = now_ms() - t0;
	CHECK(r == 0, "APPLY by pid: %s", strerror(-r));
	if (!r) {
		uint32_t want = MEMTYPE_VM_APPLIED | MEMTYPE_VM_LATE | MEMTYPE_VM_HAS_UUID;

		CHECK((a.result & MEMTYPE_RESULT_APPLIED) && !(a.result & MEMTYPE_RESULT_BEFORE_ENTRY),
		      "result 0x%x (the guest had run)", a.result);
		CHECK((a.vm.state & want) == want && !(a.vm.state & MEMTYPE_VM_BEFORE_ENTRY),
		      "state 0x%x", a.vm.state);
		CHECK(a.vm.first_entry_cpu >= 0, "first_entry_cpu %d after a run", a.vm.first_entry_cpu);
		CHECK(a.vm.memtype_quirks == POLICY && a.vm.kvm_quirks == kvm_default &&
		      a.vm.disabled_quirks == (kvm_default | POLICY),
		      "quirks: memtype 0x%" PRIx64 " kvm 0x%" PRIx64 " disabled 0x%" PRIx64,
		      (uint64_t)a.vm.memtype_quirks, (uint64_t)a.vm.kvm_quirks,
		      (uint64_t)a.vm.disabled_quirks);
		CHECK(!memcmp(a.vm.uuid, u, 16) && a.vm.pid == v.pid, "uuid/pid");
		if (bad)
			vm_note("apply", &a.vm);
	}
	n = get_vms(MEMTYPE_GET_BY_UUID, 0, u, &m, 1, NULL);
	CHECK(n == 1 && m.id == a.vm.id && m.disabled_quirks == a.vm.disabled_quirks &&
	      m.memtype_quirks == a.vm.memtype_quirks && m.state == a.vm.state,
	      "GET_VMS by uuid differs from APPLY's answer (n=%d)", n);
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "KVM: FIX_HYPERCALL_INSN not disabled after late apply (%d: %s)", r, v.reply);
	vmm_stop(&v);
	diag("late apply (APPLY by pid, the VM had run): %.3f ms", t0);

	/* late, but before the first entry: the vCPU exists, has not run */
	uuid_new(u);
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = apply(MEMTYPE_APPLY_BY_UUID, 0, u, POLICY, supported, &a);
	if (r == -ENOENT) {
		/* the uuid from argv is not recorded without a pending entry: by pid */
		diag("APPLY by uuid of a VM never applied: ENOENT; by pid instead");
		r = apply(0, v.pid, u, POLICY, supported, &a);
	}
	CHECK(r == 0, "APPLY: %s", strerror(-r));
	CHECK(!r && (a.result & (MEMTYPE_RESULT_APPLIED | MEMTYPE_RESULT_BEFORE_ENTRY)) ==
			    (MEMTYPE_RESULT_APPLIED | MEMTYPE_RESULT_BEFORE_ENTRY) &&
	      (a.vm.state & MEMTYPE_VM_BEFORE_ENTRY) && a.vm.first_entry_cpu == -1 &&
	      a.vm.online_vcpus == 1,
	      "result 0x%x state 0x%x first_entry %d", a.result, a.vm.state, a.vm.first_entry_cpu);
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "KVM: FIX_HYPERCALL_INSN not disabled (%d: %s)", r, v.reply);
	vmm_stop(&v);

	/* nothing to apply to */
	r = apply(0, 999999, u, POLICY, supported, &a);
	CHECK(r == -ENOENT || r == -ESRCH, "APPLY to a pid without VM: %s", strerror(-r));
	end("late apply on a running VM (APPLY by pid): in force in KVM, read-back matches, "
	    "before-entry told apart");
}

/* The operators' read-only view in debugfs says what GET_VMS says. */
static void t_debugfs(void)
{
	static const char *const files[] = { "info", "vms", "pending" };
	char path[128], line[512], us[37], pus[37];
	struct memtype_vm m;
	uint8_t u[16], pu[16];
	struct vmm v;
	struct stat st;
	int r, n, k, found = 0, pfound = 0;
	FILE *f;

	begin();
	for (k = 0; k < 3; k++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/memtype/%s", files[k]);
		r = stat(path, &st);
		CHECK(r == 0 && (st.st_mode & 0777) == 0400, "%s: %s mode %o", path,
		      r ? strerror(errno) : "ok", r ? 0 : st.st_mode & 0777);
	}
	uuid_new(u);
	uuid_new(pu);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	r = add_pending(pu, POLICY, supported, 0, 0);	/* stays pending */
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && (m.state & MEMTYPE_VM_APPLIED), "GET_VMS: %d", n);
	f = fopen("/sys/kernel/debug/memtype/vms", "r");
	CHECK(f != NULL, "open vms: %s", strerror(errno));
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long id, kq, mq, dq;
		unsigned state, nc, type, vcpus;
		char uuid[64];
		int pid, fe;

		if (sscanf(line, "%llu %d %63s %i %lli %lli %lli %u %u %u %d", &id, &pid, uuid,
			   (int *)&state, (long long *)&kq, (long long *)&mq, (long long *)&dq, &nc,
			   &type, &vcpus, &fe) != 11 || pid != v.pid)
			continue;
		found++;
		CHECK(id == m.id && !strcmp(uuid, us) && state == m.state && kq == m.kvm_quirks &&
		      mq == m.memtype_quirks && dq == m.disabled_quirks && fe == m.first_entry_cpu &&
		      vcpus == m.online_vcpus, "debugfs line differs from GET_VMS: %s", line);
	}
	if (f)
		fclose(f);
	CHECK(found == 1, "VM of pid %d in debugfs vms: %d lines", v.pid, found);
	f = fopen("/sys/kernel/debug/memtype/pending", "r");
	CHECK(f != NULL, "open pending: %s", strerror(errno));
	uuid_str(pu, pus);
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, pus))
			pfound++;
	if (f)
		fclose(f);
	CHECK(pfound == 1, "pending uuid %s in debugfs pending: %d lines", pus, pfound);
	vmm_stop(&v);
	del_pending(u);
	del_pending(pu);
	end("debugfs view (root-only 0400): vms matches GET_VMS, pending lists the entry");
}

static void t_forget(void)
{
	struct memtype_info i1, i2;
	struct memtype_vm m;
	struct vmm v;
	int n;

	begin();
	get_info(&i1);
	CHECK(vmm_with_vm(&v, NULL, -1) == 0, "vm: %s", v.reply);
	CHECK(vmm_cmd(&v, "vm") == 0, "vm 2: %s", v.reply);
	n = get_vms(MEMTYPE_GET_BY_PID, v.pid, NULL, NULL, 0, NULL);
	{
		struct memtype_vm two[4];
		uint32_t total = 0;

		n = get_vms(MEMTYPE_GET_BY_PID, v.pid, NULL, two, 4, &total);
		CHECK(n == 2 && total == 2, "two VMs of one pid: n=%d total=%u", n, total);
	}
	get_info(&i2);
	CHECK(i2.nr_vms == i1.nr_vms + 2, "nr_vms %u -> %u", i1.nr_vms, i2.nr_vms);
	CHECK(vmm_cmd(&v, "close 0") == 0, "close: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1, "after closing one: %d", n);
	CHECK(vmm_cmd(&v, "close 1") == 0, "close: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 0, "after closing both: %d", n);
	vmm_stop(&v);
	get_info(&i2);
	CHECK(i2.nr_vms == i1.nr_vms, "nr_vms %u -> %u", i1.nr_vms, i2.nr_vms);
	/* a VMM that dies holding its VM */
	CHECK(vmm_with_vm(&v, NULL, -1) == 0, "vm: %s", v.reply);
	kill(v.pid, SIGKILL);
	{
		pid_t pid = v.pid;

		vmm_stop(&v);
		n = vm_of(pid, &m);
		CHECK(n == 0, "after SIGKILL of the VMM: %d", n);
	}
	end("destroyed VMs are forgotten (close, SIGKILL)");
}

static void t_cycles(void)
{
	struct memtype_info i1, i2;
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	long created;
	pid_t pid = 0;
	double t;
	int r, n;

	begin();
	uuid_new(u);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	get_info(&i1);
	t = now_ms();
	created = vmm_cycles(uuid_str(u, us), cycles, 1, &pid);
	t = now_ms() - t;
	CHECK(created == cycles, "created %ld of %ld", created, cycles);
	get_info(&i2);
	CHECK(i2.nr_vms == i1.nr_vms, "nr_vms %u -> %u", i1.nr_vms, i2.nr_vms);
	CHECK(i2.vms_created - i1.vms_created >= (uint64_t)cycles, "vms_created +%" PRIu64,
	      (uint64_t)(i2.vms_created - i1.vms_created));
	CHECK(i2.vms_applied - i1.vms_applied >= 1, "vms_applied +%" PRIu64,
	      (uint64_t)(i2.vms_applied - i1.vms_applied));
	CHECK(i2.nmissed == i1.nmissed && !(i2.state & (MEMTYPE_STATE_MISSED_EVENTS |
							 MEMTYPE_STATE_TABLE_FULL)),
	      "nmissed %" PRIu64 " state 0x%x", (uint64_t)i2.nmissed, i2.state);
	n = vm_of(pid, &m);
	CHECK(n == 0, "VMs of the finished VMM: %d", n);
	del_pending(u);
	{
		char *k = klog_bad();

		CHECK(!k, "kernel log: %s", k);
	}
	diag("%ld create/destroy cycles: %.0f ms; vms_applied +%" PRIu64, cycles, t,
	     (uint64_t)(i2.vms_applied - i1.vms_applied));
	end("%ld create/destroy cycles leave no entries, no missed probe, no kernel warning", cycles);
}

/* --- 4 threads creating/destroying VMs, pending entries added/removed --- */

static volatile int stress_stop;
static long stress_ops, stress_errs;
static uint8_t stress_uuid[16];

static void *pending_churn(void *arg)
{
	uint8_t u[16];
	long ops = 0, errs = 0;
	int k = 0, r;

	(void)arg;
	memcpy(u, stress_uuid, 16);
	while (!stress_stop) {
		/* the VMM's own uuid and a few others */
		u[15] = stress_uuid[15] + (k++ % 8);
		r = add_pending(u, POLICY, supported, MEMTYPE_PENDING_REPLACE, 0);
		if (r && r != -EEXIST)
			errs++;
		r = del_pending(u);
		if (r && r != -ENOENT)
			errs++;
		ops += 2;
		usleep(100);	/* leave the vCPUs to the creators too */
	}
	__atomic_add_fetch(&stress_ops, ops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stress_errs, errs, __ATOMIC_RELAXED);
	return NULL;
}

static void *reader(void *arg)
{
	static struct memtype_vm vms[64];
	struct memtype_info i;
	long ops = 0, errs = 0;

	(void)arg;
	while (!stress_stop) {
		if (get_vms(0, 0, NULL, vms, 64, NULL) < 0)
			errs++;
		if (get_info(&i))
			errs++;
		ops += 2;
		usleep(100);
	}
	__atomic_add_fetch(&stress_ops, ops, __ATOMIC_RELAXED);
	__atomic_add_fetch(&stress_errs, errs, __ATOMIC_RELAXED);
	return NULL;
}

static void t_concurrent(void)
{
	struct memtype_info i1, i2;
	pthread_t t[2];
	char us[37];
	long created, per = cycles / 4 > 50 ? cycles / 4 : 50;
	double ms;

	begin();
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "%ld CPUs online: nothing runs concurrently",
	      sysconf(_SC_NPROCESSORS_ONLN));
	uuid_new(stress_uuid);
	uuid_seq += 16;
	get_info(&i1);
	stress_stop = 0;
	stress_ops = stress_errs = 0;
	pthread_create(&t[0], NULL, pending_churn, NULL);
	pthread_create(&t[1], NULL, reader, NULL);
	ms = now_ms();
	created = vmm_cycles(uuid_str(stress_uuid, us), per, 4, NULL);
	ms = now_ms() - ms;
	stress_stop = 1;
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CHECK(created == 4 * per, "created %ld of %ld", created, 4 * per);
	CHECK(stress_errs == 0, "%ld ioctl errors", stress_errs);
	get_info(&i2);
	CHECK(i2.nr_vms == i1.nr_vms, "nr_vms %u -> %u", i1.nr_vms, i2.nr_vms);
	CHECK(i2.nr_pending == i1.nr_pending, "nr_pending %u -> %u", i1.nr_pending, i2.nr_pending);
	CHECK(i2.nmissed == i1.nmissed && !(i2.state & MEMTYPE_STATE_MISSED_EVENTS),
	      "nmissed %" PRIu64 " -> %" PRIu64 " state 0x%x", (uint64_t)i1.nmissed,
	      (uint64_t)i2.nmissed, i2.state);
	{
		char *k = klog_bad();

		CHECK(!k, "kernel log: %s", k);
	}
	diag("concurrency: %ld VMs by 4 threads in %.0f ms, %ld pending/read ioctls alongside, "
	     "%ld CPUs online", created, ms, stress_ops, sysconf(_SC_NPROCESSORS_ONLN));
	end("4 threads creating/destroying VMs while pending entries are added/removed and read: "
	    "consistent tables, no missed probe");
}

static void t_bad_ioctls(void)
{
	struct {
		struct memtype_info i;
		uint64_t extra;
	} big;
	struct memtype_pending p;
	struct memtype_get_vms g;
	struct memtype_apply a;
	struct memtype_info i;
	struct memtype_vm vm;
	uint8_t u[16];
	int r;

#define EXPECT(call, err, what)                                                             \
	do {                                                                                \
		r = (call);                                                                 \
		CHECK(r == -(err), "%s: got %s, want %s", what, r ? strerror(-r) : "success", \
		      strerror(err));                                                       \
	} while (0)

	begin();
	memset(&i, 0, sizeof(i));
	i.argsz = 4;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_INFO, &i), EINVAL, "GET_INFO argsz 4");
	memset(&i, 0, sizeof(i));
	i.argsz = sizeof(i);
	i.flags = 0x80000000;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_INFO, &i), EINVAL, "GET_INFO unknown flag");
	memset(&big, 0, sizeof(big));
	big.i.argsz = sizeof(big);
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_INFO, &big), 0, "GET_INFO larger argsz, zero tail");
	big.extra = 1;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_INFO, &big), E2BIG, "GET_INFO larger argsz, nonzero tail");
	EXPECT(xioctl(mfd, _IO(MEMTYPE_IOC_MAGIC, 0x3f), &i), ENOTTY, "unknown ioctl number");
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_INFO, (void *)8), EFAULT, "GET_INFO bad pointer");

	uuid_new(u);
	memset(&p, 0, sizeof(p));
	p.argsz = sizeof(p);
	memcpy(p.uuid, u, 16);
	p.disable_quirks = POLICY;
	p.supported_quirks = supported;
	p.ttl_ms = 1000;
	p.flags = 0x100;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EINVAL, "ADD_PENDING unknown flag");
	p.flags = 0;
	p.argsz = 8;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EINVAL, "ADD_PENDING argsz 8");
	p.argsz = sizeof(p);
	p.ttl_ms = 0;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EINVAL, "ADD_PENDING ttl 0");
	p.ttl_ms = 3600001;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EINVAL, "ADD_PENDING ttl > 1 h");
	p.ttl_ms = 1000;
	memset(p.uuid, 0, 16);
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EINVAL, "ADD_PENDING nil uuid");
	memcpy(p.uuid, u, 16);
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), 0, "ADD_PENDING valid");
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), EEXIST, "ADD_PENDING twice");
	p.flags = MEMTYPE_PENDING_REPLACE;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &p), 0, "ADD_PENDING REPLACE");
	EXPECT(del_pending(u), 0, "DEL_PENDING");
	EXPECT(del_pending(u), ENOENT, "DEL_PENDING again");
	memset(&p, 0, sizeof(p));
	p.argsz = sizeof(p);
	memcpy(p.uuid, u, 16);
	p.flags = 0x10;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_DEL_PENDING, &p), EINVAL, "DEL_PENDING unknown flag");

	memset(&g, 0, sizeof(g));
	g.argsz = sizeof(g);
	g.capacity = 1;
	g.vms_ptr = (uintptr_t)&vm;
	g.vm_size = sizeof(vm);
	g.flags = 0x100;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_VMS, &g), EINVAL, "GET_VMS unknown flag");
	g.flags = 0;
	g.reserved = 1;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_VMS, &g), EINVAL, "GET_VMS reserved != 0");
	g.reserved = 0;
	g.capacity = 4097;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_VMS, &g), EINVAL, "GET_VMS capacity 4097");
	g.capacity = 1;
	g.argsz = 12;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_GET_VMS, &g), EINVAL, "GET_VMS argsz 12");

	memset(&a, 0, sizeof(a));
	a.argsz = sizeof(a);
	a.flags = 0x100;
	a.pid = getpid();
	EXPECT(xioctl(mfd, MEMTYPE_IOC_APPLY, &a), EINVAL, "APPLY unknown flag");
	a.flags = 0;
	a.argsz = 16;
	EXPECT(xioctl(mfd, MEMTYPE_IOC_APPLY, &a), EINVAL, "APPLY argsz 16");
	end("bad ioctls rejected: argsz, unknown flags/reserved, nil uuid, ttl, EEXIST/ENOENT, ENOTTY, EFAULT");

	/* non-root */
	begin();
	{
		int fds[2], st;
		pid_t pid;
		int res[6] = { 0 };

		if (pipe(fds) < 0)
			CHECK(0, "pipe");
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			struct memtype_pending q = { .argsz = sizeof(q) };
			struct memtype_apply ap = { .argsz = sizeof(ap) };
			struct memtype_info in = { .argsz = sizeof(in) };

			uuid_new(q.uuid);
			q.disable_quirks = POLICY;
			q.supported_quirks = supported;
			q.ttl_ms = 1000;
			if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
				_exit(3);
			res[0] = xioctl(mfd, MEMTYPE_IOC_ADD_PENDING, &q);
			res[1] = xioctl(mfd, MEMTYPE_IOC_DEL_PENDING, &q);
			ap.pid = getppid();
			ap.disable_quirks = POLICY;
			ap.supported_quirks = supported;
			res[2] = xioctl(mfd, MEMTYPE_IOC_APPLY, &ap);
			res[3] = xioctl(mfd, MEMTYPE_IOC_GET_INFO, &in);
			r = open("/dev/memtype", O_RDWR);
			res[4] = r < 0 ? -errno : 0;
			if (write(fds[1], res, sizeof(res)) != sizeof(res))
				_exit(4);
			_exit(0);
		}
		close(fds[1]);
		if (read(fds[0], res, sizeof(res)) != sizeof(res))
			CHECK(0, "no result from the child");
		close(fds[0]);
		waitpid(pid, &st, 0);
		CHECK(res[0] == -EPERM, "ADD_PENDING as uid 1000: %s", strerror(-res[0]));
		CHECK(res[1] == -EPERM, "DEL_PENDING as uid 1000: %s", strerror(-res[1]));
		CHECK(res[2] == -EPERM, "APPLY as uid 1000: %s", strerror(-res[2]));
		CHECK(res[3] == 0, "GET_INFO as uid 1000 on an open fd: %s", strerror(-res[3]));
		CHECK(res[4] == -EACCES, "open /dev/memtype as uid 1000: %s", strerror(-res[4]));
	}
	end("non-root: ADD_PENDING, DEL_PENDING, APPLY -> EPERM; reading allowed; device 0600");
#undef EXPECT
}

/* VMs created while memtype was not loaded are not tracked after insmod. */
static void t_reload_untracked(void)
{
	struct memtype_apply a;
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v;
	int r, n;

	begin();
	uuid_new(u);
	r = unload_memtype();
	CHECK(r == 0, "rmmod: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	r = load_memtype();
	CHECK(r == 0, "insmod: %s", strerror(-r));
	CHECK(mt_open() >= 0, "open: %s", strerror(errno));
	n = vm_of(v.pid, &m);
	CHECK(n == 0, "a VM created before the load is reported: %d", n);
	r = apply(0, v.pid, u, POLICY, supported, &a);
	CHECK(r < 0, "APPLY to an untracked VM succeeded");
	diag("APPLY to a VM created before the load: %s", strerror(-r));
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	r = hc_disabled(&v, 0);
	CHECK(r == 0, "untracked VM touched (%d: %s)", r, v.reply);
	CHECK(vmm_cmd(&v, "close 0") == 0, "close: %s", v.reply);
	vmm_stop(&v);
	end("VMs created before a module load are reported untracked and left alone");
}

static void t_reload_live(void)
{
	struct memtype_info i;
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	struct vmm v, w;
	pid_t bg;
	int r, n, k, st;

	begin();
	uuid_new(u);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	CHECK(vmm_with_vm(&v, uuid_str(u, us), -1) == 0, "vm: %s", v.reply);
	n = vm_of(v.pid, &m);
	CHECK(n == 1 && (m.state & MEMTYPE_VM_APPLIED), "not applied (n=%d)", n);
	CHECK(vmm_cmd(&v, "vcpu 0") == 0, "vcpu: %s", v.reply);
	CHECK(vmm_cmd(&v, "run 0 out") == 0, "run: %s", v.reply);
	/* unload with a tracked, running VM */
	r = unload_memtype();
	CHECK(r == 0, "rmmod with a VM: %s", strerror(-r));
	r = hc_disabled(&v, 0);
	CHECK(r == 1, "quirks changed by the unload (%d: %s)", r, v.reply);
	CHECK(vmm_cmd(&v, "vm") == 0, "vm while unloaded: %s", v.reply);
	CHECK(vmm_cmd(&v, "close 0") == 0, "destroy while unloaded: %s", v.reply);
	r = load_memtype();
	CHECK(r == 0, "insmod: %s", strerror(-r));
	CHECK(mt_open() >= 0, "open: %s", strerror(errno));
	get_info(&i);
	n = vm_of(v.pid, &m);
	CHECK(n == 0, "VMs of before the reload reported: %d", n);
	CHECK(vmm_cmd(&v, "close 1") == 0, "close: %s", v.reply);
	vmm_stop(&v);
	/* tracked again after the reload */
	CHECK(vmm_with_vm(&w, NULL, -1) == 0, "vm: %s", w.reply);
	n = vm_of(w.pid, &m);
	CHECK(n == 1, "VM after reload not tracked: %d", n);
	vmm_stop(&w);

	/* unload and reload while another process creates/destroys VMs */
	fflush(stdout);
	bg = fork();
	if (bg == 0) {
		long c;

		/* an inherited /dev/memtype fd would pin the module until we exit */
		mt_close();
		c = vmm_cycles(NULL, cycles / 2 > 100 ? cycles / 2 : 100, 2, NULL);

		_exit(c > 0 ? 0 : 1);
	}
	for (k = 0; k < 6; k++) {
		r = unload_memtype();
		CHECK(r == 0, "rmmod %d during creations: %s", k, strerror(-r));
		usleep(20000);
		r = load_memtype();
		CHECK(r == 0, "insmod %d during creations: %s", k, strerror(-r));
		usleep(20000);
	}
	waitpid(bg, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "creator during reloads: 0x%x", st);
	CHECK(mt_open() >= 0, "open: %s", strerror(errno));
	get_info(&i);
	CHECK(i.nr_vms == 0, "VMs left tracked: %u", i.nr_vms);
	CHECK(!(i.state & MEMTYPE_STATE_MISSED_EVENTS), "state 0x%x", i.state);
	{
		char *kl = klog_bad();

		CHECK(!kl, "kernel log: %s", kl);
	}
	end("rmmod/insmod while VMs exist and while VMs are being created is safe");
}

static void t_qemu(void)
{
	struct memtype_vm m;
	uint8_t u[16];
	char us[37];
	pid_t pid;
	double t0;
	int r, n = 0, st;

	begin();
	uuid_new(u);
	uuid_str(u, us);
	r = add_pending(u, POLICY, supported, 0, 0);
	CHECK(r == 0, "ADD_PENDING: %s", strerror(-r));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		execl(qemu_path, qemu_path, "-name", "guest=rig,debug-threads=on", "-machine", "none",
		      "-accel", "kvm", "-uuid", us, "-S", "-nodefaults", "-display", "none",
		      "-monitor", "none", "-serial", "none", (char *)NULL);
		_exit(127);
	}
	t0 = now_ms();
	while (now_ms() - t0 < 90000) {
		n = vm_of(pid, &m);
		if (n != 0)
			break;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			CHECK(0, "QEMU exited: status 0x%x", st);
			pid = 0;
			break;
		}
		usleep(50000);
	}
	diag("QEMU's VM appeared after %.0f ms", now_ms() - t0);
	CHECK(n == 1, "QEMU's VM by pid: %d", n);
	if (n == 1) {
		uint32_t want = MEMTYPE_VM_APPLIED | MEMTYPE_VM_AT_CREATE | MEMTYPE_VM_BEFORE_ENTRY |
				MEMTYPE_VM_HAS_UUID;

		CHECK((m.state & want) == want, "state 0x%x", m.state);
		CHECK(!memcmp(m.uuid, u, 16), "uuid");
		CHECK(m.memtype_quirks == POLICY && m.kvm_quirks == kvm_default &&
		      m.disabled_quirks == (kvm_default | POLICY), "quirks");
		if (bad)
			vm_note("qemu", &m);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, &st, 0);
		n = vm_of(pid, &m);
		CHECK(n == 0, "QEMU's VM after QEMU exited: %d", n);
	}
	del_pending(u);
	end("QEMU 7.2 (-machine none -accel kvm -uuid U -S): the pending policy is in force on its VM");
}

static void t_klog(void)
{
	char *k;

	begin();
	k = klog_bad();
	CHECK(!k, "kernel log: %s", k);
	end("kernel log has no WARNING/BUG/Oops/general protection/Call Trace");
}

int main(int argc, char **argv)
{
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			fprintf(stderr, "mt-test: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "-vmm"))
			vmm_path = v;
		else if (!strcmp(a, "-ko"))
			ko_path = v;
		else if (!strcmp(a, "-qemu"))
			qemu_path = v;
		else if (!strcmp(a, "-expect-supported"))
			expect_supported = strtoull(v, NULL, 0);
		else if (!strcmp(a, "-kvm-default"))
			kvm_default = strtoull(v, NULL, 0);
		else if (!strcmp(a, "-cycles"))
			cycles = strtol(v, NULL, 0);
		else {
			fprintf(stderr, "mt-test: unknown option %s\n", a);
			return 2;
		}
	}
	if (mt_open() < 0) {
		printf("not ok 1 - open /dev/memtype: %s\n", strerror(errno));
		printf("mt-test: 0 passed, 1 failed\n");
		return 1;
	}
	t_info();
	t_supported();
	if (kvm_default == ~0ULL) {
		kvm_default = info0.kvm_default_quirks;
		diag("no -kvm-default: using the module's 0x%" PRIx64, kvm_default);
	}
	t_probe();
	t_semantics();
	t_apply_at_create();
	t_untouched();
	t_unsupported();
	t_untrusted();
	t_machine_slice();
	t_conflict();
	t_vmm_cap();
	t_late_apply();
	t_debugfs();
	t_forget();
	t_bad_ioctls();
	t_cycles();
	t_concurrent();
	if (qemu_path)
		t_qemu();
	if (ko_path) {
		t_reload_untracked();
		t_reload_live();
	}
	t_klog();
	printf("mt-test: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
