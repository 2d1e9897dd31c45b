/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The three inputs of the decision engine: the host (filled by inventory/),
 * the VM (filled by vm/ from libvirt domain XML, or by a client), and the
 * operator's policy (filled by config/). Plain structs, so that tests can
 * build any of them as literals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_BDF_MAX 16          /* "dddd:bb:dd.f" (5-digit domains too) + NUL */
#define MT_UUID_MAX 37         /* canonical UUID + NUL */
#define MT_NAME_MAX 256        /* libvirt domain names */
#define MT_UNIT_MAX 32         /* "dmar0", "ivhd1", "smmu3.0x..." */
#define MT_QUIRK_BITS 16       /* room for KVM's quirk bits */

enum mt_tristate {
	MT_UNKNOWN = -1,
	MT_NO = 0,
	MT_YES = 1,
};

/* ----- host ----------------------------------------------------------- */

enum cpu_vendor {
	CPU_VENDOR_OTHER = 0,
	CPU_VENDOR_INTEL,
	CPU_VENDOR_AMD,
	CPU_VENDOR_ARM64,
};

struct kernel_version {
	unsigned major, minor, patch;  /* 0.0.0 when unknown */
};

struct host_cpu {
	enum cpu_vendor vendor;
	char model_name[128];
	unsigned family, model;        /* x86 family/model, 0 when unknown */
	bool pat;                      /* /proc/cpuinfo flag "pat" */
	bool self_snoop;               /* /proc/cpuinfo flag "ss" */
};

struct host_kvm {
	enum mt_tristate present;      /* /dev/kvm (or snapshot "present") */
	bool quirks_known;             /* supported_quirks is valid */
	uint64_t supported_quirks;     /* KVM_CHECK_EXTENSION(KVM_CAP_DISABLE_QUIRKS2) */
	enum mt_tristate tdp;          /* kvm_intel.ept / kvm_amd.npt */
	char module[16];               /* "kvm_intel", "kvm_amd", other or "" */
	char quirks_source[16];        /* "ioctl", "snapshot" or "" */
};

enum iommu_kind {
	IOMMU_KIND_OTHER = 0,
	IOMMU_KIND_INTEL_VTD,
	IOMMU_KIND_AMD_VI,
	IOMMU_KIND_ARM_SMMU,
};

struct iommu_unit {
	char name[MT_UNIT_MAX];        /* /sys/class/iommu/<name> */
	enum iommu_kind kind;
	bool regs_valid;               /* cap/ecap were read and parsed */
	uint64_t cap;                  /* VT-d cap, AMD-Vi cap */
	uint64_t ecap;                 /* VT-d ecap, AMD-Vi features */
	bool snoop_control;            /* VT-d ecap bit 7 (SC); true on AMD-Vi */
	bool pagewalk_coherent;        /* VT-d ecap bit 0 (C) */
	char (*devices)[MT_BDF_MAX];   /* PCI functions the unit covers */
	size_t n_devices;
};

#define PCI_BAR_COUNT 6

/* IORESOURCE_* bits of the sysfs "resource" file (FACTS §3). */
#define MT_IORESOURCE_IO 0x100ULL
#define MT_IORESOURCE_MEM 0x200ULL
#define MT_IORESOURCE_PREFETCH 0x2000ULL
#define MT_IORESOURCE_MEM_64 0x100000ULL
#define MT_IORESOURCE_DISABLED 0x10000000ULL
#define MT_IORESOURCE_UNSET 0x20000000ULL

struct pci_bar {
	bool present;                  /* BAR implemented (non-empty) */
	uint64_t start, size;          /* size 0 when unknown (dumps) */
	uint64_t flags;                /* IORESOURCE_* from sysfs, 0 for dumps */
	bool is_io;
	bool prefetchable;
	bool is_64bit;
	bool has_wc_file;              /* resourceN_wc exists */
};

struct pci_function {
	char bdf[MT_BDF_MAX];          /* "0000:01:00.0" */
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_device_id;
	uint32_t class_code;           /* 0xCCSSPP: class, subclass, prog-if */
	uint8_t revision;
	char driver[64];               /* "" when none or unknown */
	int iommu_group;               /* -1 when none */
	char iommu_group_type[16];     /* "DMA", "DMA-FQ", "identity", ... or "" */
	char iommu_unit[MT_UNIT_MAX];  /* "" when not behind a unit */
	struct pci_bar bars[PCI_BAR_COUNT];
	bool sizes_known;              /* BAR sizes came from sysfs */
	bool config_partial;           /* only the first 64 bytes were readable */
	bool is_pcie;
	enum mt_tristate nosnoop_enabled;  /* DevCtl bit 11 */
	bool has_msix;
	uint16_t msix_table_size;      /* entries */
	int msix_table_bar, msix_pba_bar;  /* -1 when no MSI-X */
	uint32_t msix_table_offset, msix_pba_offset;
	bool sriov_capable;            /* has an SR-IOV capability (PF) */
	uint16_t sriov_total_vfs, sriov_num_vfs;
	bool is_vf;
	char physfn[MT_BDF_MAX];       /* PF of a VF, "" otherwise */
	char (*virtfns)[MT_BDF_MAX];   /* VFs of a PF */
	size_t n_virtfns;
};

struct host {
	char root[4096];               /* host root read, "/" for the live host */
	char source[16];               /* "sysfs" or "lspci-dump" */
	char arch[16];                 /* "x86_64", "aarch64", ... */
	char kernel_release[80];
	struct kernel_version kernel;
	struct host_cpu cpu;
	struct host_kvm kvm;
	bool amd_iommu_v2;             /* amd_iommu=pgtbl_v2 on the command line */
	bool vfio_noiommu;             /* vfio enable_unsafe_noiommu_mode=Y */
	struct iommu_unit *iommu_units;
	size_t n_iommu_units;
	/* Sorted by bdf in strcmp() order, as the inventory returns them: the
	 * policy engine finds a function by binary search and only falls back
	 * to a linear scan when that misses. */
	struct pci_function *functions;
	size_t n_functions;
	bool partial;                  /* something could not be read: see notes */
	char **notes;                  /* what is missing and why */
	size_t n_notes;
};

/* ----- VM ------------------------------------------------------------- */

enum video_model {
	VIDEO_MODEL_OTHER = 0,
	VIDEO_MODEL_VGA,
	VIDEO_MODEL_BOCHS,
	VIDEO_MODEL_CIRRUS,
	VIDEO_MODEL_QXL,
	VIDEO_MODEL_VMVGA,
	VIDEO_MODEL_VIRTIO,
	VIDEO_MODEL_RAMFB,
	VIDEO_MODEL_NONE,
};

struct vm_video {
	enum video_model model;
	bool primary;                  /* primary='yes' or the first <video> */
	bool blob;                     /* virtio <driver blob='on'/> */
	bool accel3d;                  /* virtio <acceleration accel3d='yes'/> */
	uint64_t vram_kib;             /* vram (or vgamem for qxl), 0 if unset */
};

enum vm_hostdev_kind {
	VM_HOSTDEV_PCI = 0,            /* <hostdev mode='subsystem' type='pci'> */
	VM_HOSTDEV_MDEV,               /* <hostdev mode='subsystem' type='mdev'> */
	VM_HOSTDEV_INTERFACE,          /* <interface type='hostdev'> or a resolved pool */
	VM_HOSTDEV_INTERFACE_POOL,     /* <interface type='network'> whose VF is not known yet */
};

struct vm_hostdev {
	enum vm_hostdev_kind kind;
	char bdf[MT_BDF_MAX];          /* host PCI address, "" for mdev/pool */
	char mdev_uuid[MT_UUID_MAX];   /* mdev only */
	char mdev_model[32];           /* vfio-pci, vfio-ccw, vfio-ap */
	char network[64];              /* pool name for interface pools */
	bool managed;
};

struct vm_shmem {
	char name[64];
	char model[32];                /* ivshmem, ivshmem-plain, ivshmem-doorbell */
	uint64_t size_bytes;           /* 0 when unset */
	bool looking_glass;            /* name suggests Looking Glass */
};

enum launch_security {
	LAUNCH_SECURITY_NONE = 0,
	LAUNCH_SECURITY_SEV,
	LAUNCH_SECURITY_SEV_SNP,
	LAUNCH_SECURITY_TDX,
	LAUNCH_SECURITY_OTHER,         /* s390-pv and whatever comes next */
};

enum vm_firmware {
	VM_FIRMWARE_UNKNOWN = 0,
	VM_FIRMWARE_BIOS,              /* SeaBIOS */
	VM_FIRMWARE_EFI,               /* OVMF */
};

struct vm {
	char name[MT_NAME_MAX];
	char uuid[MT_UUID_MAX];
	char domain_type[16];          /* "kvm", "qemu", "test", ... */
	struct vm_hostdev *hostdevs;
	size_t n_hostdevs;
	struct vm_video *videos;
	size_t n_videos;
	struct vm_shmem *shmems;
	size_t n_shmems;
	bool virtio_gpu_hostmem;       /* host GPU memory mapped into the guest */
	uint64_t hostmem_bytes;        /* hostmem= size, 0 when unknown */
	bool venus;                    /* virtio-gpu venus (Vulkan) */
	enum launch_security launch_security;
	enum vm_firmware firmware;
	char cpu_mode[32];             /* host-passthrough, host-model, custom */
};

/* ----- operator policy ------------------------------------------------ */

enum policy_mode {
	POLICY_MODE_CONSERVATIVE = 0,
	POLICY_MODE_BALANCED,          /* the default */
	POLICY_MODE_PERFORMANCE,
};

enum quirk_setting {
	QUIRK_SETTING_AUTO = 0,        /* memtype decides */
	QUIRK_SETTING_KEEP,            /* never disable */
	QUIRK_SETTING_DISABLE,         /* disable whenever KVM supports it */
};

/* Where a setting came from, so the trace can name the file and line. */
struct policy_origin {
	char file[256];
	unsigned line;
};

struct vm_rule {
	char name_glob[MT_NAME_MAX];   /* fnmatch() glob, "" matches any name */
	char uuid[MT_UUID_MAX];        /* "" matches any uuid */
	bool has_mode;
	enum policy_mode mode;
	enum quirk_setting quirks[MT_QUIRK_BITS];
	enum mt_tristate honor_shared_memory;  /* opt in ivshmem/Looking Glass */
	enum mt_tristate strict;
	struct policy_origin origin;
};

struct device_rule {
	bool match_id;                 /* vendor:device, device 0xffff = any */
	uint16_t vendor_id, device_id;
	bool match_class;              /* class_code & class_mask == class_code */
	uint32_t class_code, class_mask;
	char bdf[MT_BDF_MAX];          /* "" matches any address */
	enum mt_tristate noncoherent;  /* override the coherency prediction */
	enum mt_tristate allow_wc;     /* MT_NO forbids WC on its BARs */
	struct policy_origin origin;
};

struct operator_policy {
	enum policy_mode mode;
	struct policy_origin mode_origin;
	bool strict;
	enum quirk_setting quirks[MT_QUIRK_BITS];
	struct policy_origin quirk_origin[MT_QUIRK_BITS];
	bool honor_shared_memory;
	struct vm_rule *vm_rules;      /* later rules win */
	size_t n_vm_rules;
	struct device_rule *device_rules;  /* later rules win */
	size_t n_device_rules;
	char **sources;                /* files read, in order */
	size_t n_sources;
	struct policy_origin strict_origin;
	struct policy_origin honor_shared_memory_origin;
};

/* ----- shared names ---------------------------------------------------- */

const char *cpu_vendor_to_string(enum cpu_vendor v);
const char *iommu_kind_to_string(enum iommu_kind k);
const char *video_model_to_string(enum video_model m);
int video_model_from_string(const char *s);   /* -EINVAL if unknown */
const char *launch_security_to_string(enum launch_security l);
const char *policy_mode_to_string(enum policy_mode m);
int policy_mode_from_string(const char *s);   /* -EINVAL if unknown */
const char *quirk_setting_to_string(enum quirk_setting s);
int quirk_setting_from_string(const char *s); /* -EINVAL if unknown */
const char *tristate_to_string(enum mt_tristate t);

/* Compare a kernel version against major.minor: <0, 0, >0. */
int kernel_version_cmp(const struct kernel_version *k, unsigned major, unsigned minor);
/* Parse "6.12.117+deb12-amd64" style releases. -EINVAL on garbage. */
int kernel_version_parse(const char *release, struct kernel_version *ret);

/* Find a function by BDF ("0000:01:00.0"; "01:00.0" means domain 0). */
const struct pci_function *host_find_function(const struct host *h, const char *bdf);
const struct iommu_unit *host_find_iommu_unit(const struct host *h, const char *name);

/* Canonicalise a BDF into "dddd:bb:dd.f" lower case; the domain has 4 or
 * (from 0x10000, e.g. behind Intel VMD) 5 hex digits, up to 0xfffff.
 * -EINVAL on garbage. */
int bdf_normalize(const char *in, char out[MT_BDF_MAX]);

/* Operator policy with the built-in defaults (balanced, all auto). */
void operator_policy_init(struct operator_policy *p);
