/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mt-vmm: a tiny test VMM for the kernel rig (tests/kmod/rig). It carries
 * "-uuid UUID" in its argv exactly as QEMU started by libvirt does, so that
 * memtype.ko identifies the VMs it creates, and it does what a VMM does to
 * KVM: KVM_CREATE_VM, a vCPU running a few real-mode instructions, and its
 * own KVM_ENABLE_CAP(KVM_CAP_DISABLE_QUIRKS2).
 *
 *   mt-vmm [-name guest=N] [-uuid UUID] [-euid UID]              interactive
 *   mt-vmm [-uuid UUID] [-euid UID] -cycles N [-threads T]       create/destroy
 *
 * -euid: open /dev/kvm as root, then setresuid(UID): an untrusted creator.
 *
 * Interactive: one command a line on stdin, one reply a line on stdout
 * ("ok ..." or "err ERRNO ..."):
 *   pid                 ok PID
 *   check               ok SUPPORTED      KVM_CHECK_EXTENSION(DISABLE_QUIRKS2), /dev/kvm
 *   vm                  ok SLOT           KVM_CREATE_VM
 *   cap SLOT MASK       ok                KVM_ENABLE_CAP(DISABLE_QUIRKS2, MASK)
 *   vcpu SLOT           ok                64 KiB of RAM at 0, vCPU 0
 *   run SLOT PROG       ok OUT=PORT:VAL[,..] EXIT=hlt MEM=hhhhhh
 *                       PROG "out": mov al,0x42; out 0x10,al; hlt
 *                       PROG "hc":  vmcall; out 0x10,al; hlt, with a #UD
 *                       handler that does out 0x11,0x55; hlt. With
 *                       FIX_HYPERCALL_INSN in force KVM rewrites vmcall into
 *                       vmmcall (MEM=0f01d9) and the hypercall returns
 *                       -KVM_ENOSYS (OUT=0x10:0x18); with the quirk disabled
 *                       the guest gets #UD (OUT=0x11:0x55, MEM=0f01c1).
 *   close SLOT          ok                close the VM (and its vCPU)
 *   quit
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef KVM_CAP_DISABLE_QUIRKS2
#define KVM_CAP_DISABLE_QUIRKS2 213
#endif

#define MAX_VMS 64
#define MEM_SIZE 0x10000
#define CODE 0x1000
#define UD_HANDLER 0x1100

struct vm {
	int fd;
	int vcpu;
	struct kvm_run *run;
	size_t run_size;
	uint8_t *mem;
};

static int kvm = -1;
static struct vm vms[MAX_VMS];

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static struct vm *slot(const char *s)
{
	char *end;
	long i = strtol(s ? s : "", &end, 10);

	if (!s || *end || i < 0 || i >= MAX_VMS || vms[i].fd < 0)
		return NULL;
	return &vms[i];
}

static void vm_close(struct vm *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->mem)
		munmap(v->mem, MEM_SIZE);
	close(v->fd);
	memset(v, 0, sizeof(*v));
	v->fd = v->vcpu = -1;
}

static int vcpu_setup(struct vm *v)
{
	struct kvm_userspace_memory_region r = { 0 };
	int sz;

	v->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED) {
		v->mem = NULL;
		return -errno;
	}
	r.slot = 0;
	r.guest_phys_addr = 0;
	r.memory_size = MEM_SIZE;
	r.userspace_addr = (uintptr_t)v->mem;
	if (ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		return -errno;
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return -errno;
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < 0)
		return -errno;
	v->run_size = sz;
	v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -errno;
	}
	return 0;
}

static void load_prog(struct vm *v, const char *prog)
{
	static const uint8_t out[] = { 0xb0, 0x42, 0xe6, 0x10, 0xf4 };
	static const uint8_t hc[] = { 0x0f, 0x01, 0xc1, 0xe6, 0x10, 0xf4 };
	static const uint8_t ud[] = { 0xb0, 0x55, 0xe6, 0x11, 0xf4 };

	memset(v->mem, 0xf4, MEM_SIZE);	/* hlt everywhere */
	/* real-mode IVT: #UD (vector 6) -> 0000:UD_HANDLER */
	v->mem[6 * 4 + 0] = UD_HANDLER & 0xff;
	v->mem[6 * 4 + 1] = UD_HANDLER >> 8;
	v->mem[6 * 4 + 2] = 0;
	v->mem[6 * 4 + 3] = 0;
	memcpy(v->mem + UD_HANDLER, ud, sizeof(ud));
	if (!strcmp(prog, "hc"))
		memcpy(v->mem + CODE, hc, sizeof(hc));
	else
		memcpy(v->mem + CODE, out, sizeof(out));
}

static void cmd_run(struct vm *v, const char *prog)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	char outs[256] = "";
	const char *exitname = "?";
	int n = 0, len = 0;

	if (!prog || (strcmp(prog, "out") && strcmp(prog, "hc"))) {
		reply("err %d bad program", EINVAL);
		return;
	}
	if (!v->run) {
		reply("err %d no vcpu", EINVAL);
		return;
	}
	load_prog(v, prog);
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0) {
		reply("err %d KVM_GET_SREGS", errno);
		return;
	}
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ss.base = 0;
	sregs.ss.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0) {
		reply("err %d KVM_SET_SREGS", errno);
		return;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE;
	regs.rsp = 0x8000;
	regs.rflags = 0x2;
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0) {
		reply("err %d KVM_SET_REGS", errno);
		return;
	}
	for (n = 0; n < 16; n++) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			reply("err %d KVM_RUN", errno);
			return;
		}
		if (v->run->exit_reason == KVM_EXIT_IO) {
			uint8_t *d = (uint8_t *)v->run + v->run->io.data_offset;

			if (v->run->io.direction == KVM_EXIT_IO_OUT)
				len += snprintf(outs + len, sizeof(outs) - len, "%s0x%x:0x%x",
						len ? "," : "", v->run->io.port, d[0]);
			if (len >= (int)sizeof(outs) - 32)
				break;
			continue;
		}
		if (v->run->exit_reason == KVM_EXIT_HLT) {
			exitname = "hlt";
			break;
		}
		exitname = "other";
		reply("err %d exit_reason=%u", EIO, v->run->exit_reason);
		return;
	}
	reply("ok OUT=%s EXIT=%s MEM=%02x%02x%02x", len ? outs : "-", exitname,
	      v->mem[CODE], v->mem[CODE + 1], v->mem[CODE + 2]);
}

static void interactive(void)
{
	char line[256];

	while (fgets(line, sizeof(line), stdin)) {
		char *cmd, *a1, *a2, *save = NULL;
		struct vm *v;

		cmd = strtok_r(line, " \t\n", &save);
		a1 = strtok_r(NULL, " \t\n", &save);
		a2 = strtok_r(NULL, " \t\n", &save);
		if (!cmd)
			continue;
		if (!strcmp(cmd, "quit"))
			break;
		if (!strcmp(cmd, "pid")) {
			reply("ok %d", getpid());
		} else if (!strcmp(cmd, "check")) {
			int r = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);

			if (r < 0)
				reply("err %d", errno);
			else
				reply("ok 0x%x", r);
		} else if (!strcmp(cmd, "vm")) {
			int i, fd;

			for (i = 0; i < MAX_VMS && vms[i].fd >= 0; i++)
				;
			if (i == MAX_VMS) {
				reply("err %d full", ENOSPC);
				continue;
			}
			fd = ioctl(kvm, KVM_CREATE_VM, 0);
			if (fd < 0) {
				reply("err %d KVM_CREATE_VM", errno);
				continue;
			}
			vms[i].fd = fd;
			reply("ok %d", i);
		} else if (!(v = slot(a1))) {
			reply("err %d no such vm", EINVAL);
		} else if (!strcmp(cmd, "close")) {
			vm_close(v);
			reply("ok");
		} else if (!strcmp(cmd, "cap")) {
			struct kvm_enable_cap cap = { .cap = KVM_CAP_DISABLE_QUIRKS2 };

			cap.args[0] = strtoull(a2 ? a2 : "0", NULL, 0);
			if (ioctl(v->fd, KVM_ENABLE_CAP, &cap) < 0)
				reply("err %d KVM_ENABLE_CAP", errno);
			else
				reply("ok");
		} else if (!strcmp(cmd, "vcpu")) {
			int r = v->run ? -EEXIST : vcpu_setup(v);

			if (r)
				reply("err %d vcpu", -r);
			else
				reply("ok");
		} else if (!strcmp(cmd, "run")) {
			cmd_run(v, a2);
		} else {
			reply("err %d unknown command", EINVAL);
		}
	}
}

static long cycles;
static long failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

static void *cycle_thread(void *arg)
{
	long i, bad = 0;

	(void)arg;
	for (i = 0; i < cycles; i++) {
		int fd = ioctl(kvm, KVM_CREATE_VM, 0);

		if (fd < 0)
			bad++;
		else
			close(fd);
	}
	pthread_mutex_lock(&fail_lock);
	failures += bad;
	pthread_mutex_unlock(&fail_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	long threads = 1;
	long euid = -1;
	int i;

	for (i = 0; i < MAX_VMS; i++)
		vms[i].fd = vms[i].vcpu = -1;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-uuid") || !strcmp(argv[i], "-name")) {
			i++;	/* only carried in argv, for memtype.ko to read */
		} else if (!strcmp(argv[i], "-euid") && i + 1 < argc) {
			euid = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-cycles") && i + 1 < argc) {
			cycles = strtol(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "-threads") && i + 1 < argc) {
			threads = strtol(argv[++i], NULL, 10);
		} else {
			fprintf(stderr, "mt-vmm: unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "mt-vmm: /dev/kvm: %s\n", strerror(errno));
		return 1;
	}
	if (euid >= 0 && (setresgid(euid, euid, euid) < 0 || setresuid(euid, euid, euid) < 0)) {
		fprintf(stderr, "mt-vmm: setresuid(%ld): %s\n", euid, strerror(errno));
		return 1;
	}
	if (cycles > 0) {
		pthread_t t[64];
		struct timespec a, b;
		long n;

		if (threads < 1 || threads > 64)
			threads = 1;
		clock_gettime(CLOCK_MONOTONIC, &a);
		for (n = 0; n < threads; n++)
			pthread_create(&t[n], NULL, cycle_thread, NULL);
		for (n = 0; n < threads; n++)
			pthread_join(t[n], NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("ok created=%ld failed=%ld ms=%ld\n", threads * cycles - failures, failures,
		       (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
		return failures ? 1 : 0;
	}
	interactive();
	for (i = 0; i < MAX_VMS; i++)
		if (vms[i].fd >= 0)
			vm_close(&vms[i]);
	return 0;
}
