/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loading and unloading memtype.ko inside the kernel rig, shared by the
 * test driver (tests/kmod/mt-test.c) and the benchmark
 * (bench/kmod-create-vms.c); both are static programs built by the rig.
 *
 * Loading or unloading memtype.ko makes ftrace patch kvm.ko's text
 * (text_poke_bp). QEMU 7.2's multi-threaded TCG can then run stale code on
 * another vCPU ("Oops: int3"; fixed in QEMU 8.1 by "accel/tcg: Always lock
 * pages before translation"): take the other CPUs offline meanwhile. A task
 * in the middle of KVM_CREATE_VM keeps running on CPU 0.
 */
#ifndef MEMTYPE_RIG_MODULE_H
#define MEMTYPE_RIG_MODULE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* CPUs 1.. online (on) or offline. Returns 0, or the first errno other
 * than EINVAL (a CPU that cannot go offline) with its path in path. */
static inline int rig_cpus_online(int on, char *path, size_t size)
{
	long n = sysconf(_SC_NPROCESSORS_CONF), c;
	int err = 0;

	for (c = 1; c < n; c++) {
		int fd;

		snprintf(path, size, "/sys/devices/system/cpu/cpu%ld/online", c);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, on ? "1" : "0", 1) < 0 && errno != EINVAL && !err)
			err = errno;
		close(fd);
		if (err)
			break;
	}
	return err;
}

/* finit_module(ko) with the other CPUs offline: 0 or -errno. */
static inline int rig_load_module(const char *ko)
{
	char path[64];
	int fd = open(ko, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	rig_cpus_online(0, path, sizeof(path));
	r = syscall(SYS_finit_module, fd, "", 0) < 0 ? -errno : 0;
	rig_cpus_online(1, path, sizeof(path));
	close(fd);
	return r;
}

/* One delete_module("memtype", O_NONBLOCK) with the other CPUs offline:
 * 0 or -errno (-EBUSY/-EAGAIN while something holds it). */
static inline int rig_unload_module(void)
{
	char path[64];
	int r;

	rig_cpus_online(0, path, sizeof(path));
	r = syscall(SYS_delete_module, "memtype", O_NONBLOCK) == 0 ? 0 : -errno;
	rig_cpus_online(1, path, sizeof(path));
	return r;
}

#endif /* MEMTYPE_RIG_MODULE_H */
