/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the parts of inventory/ share with each other and with
 * tests/test-inventory.c; not an API for the rest of memtype. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "common/error.h"
#include "inventory.h"

/* Upper bound for small sysfs/procfs attribute files we read whole. */
#define SMALL_FILE_MAX 4096

/* Copy src into dst of size bytes, truncating: names from sysfs can be
 * longer than the model's fixed fields. */
static inline void copy_truncated(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ----- inventory.c: the host object -------------------------------------- */

struct host *host_new(void);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct host *, host_free);

/* Append a note (what is missing and why). -ENOMEM only. */
int host_add_note(struct host *h, const char *fmt, ...) _printf_(2, 3);
/* Append a note and mark the host partial. */
int host_add_partial_note(struct host *h, const char *fmt, ...) _printf_(2, 3);

/* Whether root names the live host ("/", NULL or ""). */
bool root_is_live(const char *root);

/* Read the small file name under dir_fd into buf (NUL-terminated, cut at
 * size - 1 bytes). */
int read_small_at(int dir_fd, const char *name, char *buf, size_t size);
/* Parse a kernel boolean parameter ("Y", "N", "1", "0"). */
int parse_kernel_bool(const char *s, bool *ret);

/* ----- cpu.c --------------------------------------------------------------- */

/* Parse the first processor block of /proc/cpuinfo text. ret_arch gets
 * "x86_64"/"i686"/"aarch64" or "" when the text does not tell. */
int cpuinfo_parse(const char *text, struct host_cpu *ret_cpu, char ret_arch[16]);
int inventory_read_cpu(const char *root, struct host *h);
int inventory_read_kernel(const char *root, struct host *h);

/* ----- kvm.c --------------------------------------------------------------- */

/* Parse memtype-snapshot.json text; name is the file name used in errors. */
int snapshot_parse(const char *text, const char *name, struct host_kvm *ret_kvm,
		   struct mt_error *err);
/* The memtype-snapshot.json document for kvm (malloc'd text). */
int snapshot_format(const struct host_kvm *kvm, char **ret_text);
int inventory_read_kvm(const char *root, bool probe, struct host *h, struct mt_error *err);

/* KVM vendor modules, in the order they are looked for under sys/module,
 * and the parameter telling whether TDP (EPT/NPT) is on; the capture copies
 * the same files. */
struct kvm_module_info {
	const char *name;
	const char *tdp_param;         /* NULL: the module never uses TDP */
};
extern const struct kvm_module_info kvm_modules[];
extern const size_t n_kvm_modules;

/* ----- iommu.c ------------------------------------------------------------- */

/* Group types (/sys/kernel/iommu_groups/N/type), sorted by group. */
struct iommu_group_type {
	int group;
	char type[16];
};

struct iommu_state {
	struct iommu_group_type *groups;
	size_t n_groups;
	/* (function, unit) pairs from the units' devices/ lists, sorted by BDF */
	struct iommu_device_ref {
		const char *bdf;
		const char *unit;
	} *refs;
	size_t n_refs;
};

void iommu_state_done(struct iommu_state *s);
int inventory_read_iommu(const char *root, struct host *h, struct iommu_state *ret_state,
			 struct mt_error *err);
const char *iommu_group_type_lookup(const struct iommu_state *s, int group);
const char *iommu_unit_lookup(const struct iommu_state *s, const char *bdf);

/* Parse "%llx" register text of sysfs (with or without 0x, trailing \n). */
int parse_hex_register(const char *text, uint64_t *ret);
/* Parse the text of a unit's register file; second_word: the file may hold
 * "features:features2" (AMD-Vi on recent kernels, EFR2), of which only the
 * first word is kept (both must be hex). */
int register_text_parse(const char *text, bool second_word, uint64_t *ret);
/* Whether the kernel command line text has amd_iommu=...,pgtbl_v2,... */
bool cmdline_has_amd_v2(const char *cmdline);

/* ----- pci.c --------------------------------------------------------------- */

int inventory_read_pci_sysfs(const char *root, struct host *h, const struct iommu_state *iommu,
			     struct mt_error *err);
int inventory_read_pci_dump(const char *dump, struct host *h, const struct iommu_state *iommu,
			    struct mt_error *err);
/* Parse one line of the sysfs "resource" file into bar. */
int resource_line_parse(const char *line, struct pci_bar *bar);

/* ----- capture.c ----------------------------------------------------------- */

/* Whether h may be written as a capture: -EPERM with a message naming
 * why not (partial inventory, 64-byte config space). */
int capture_check_host(const struct host *h, struct mt_error *err);
/* Write the capture of the live host h (already read) under dir. */
int capture_write(const struct host *h, const char *dir, struct mt_error *err);
