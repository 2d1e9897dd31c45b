/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of policy/: quirk names, the overrides matcher, every rule of
 * policy_decide() on struct literals, the invariants, JSON and explain. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/macro.h"
#include "policy/overrides.h"
#include "policy/plan-internal.h"
#include "policy/plan.h"

#define LIST(field, type, ...)                          \
	.field = (type[]){ __VA_ARGS__ },               \
	.n_##field = ELEMENTSOF(((type[]){ __VA_ARGS__ }))

/* ----- the host fixture ------------------------------------------------ */

/* BARs of an NVIDIA-like GPU: MSI-X table in BAR 0. */
#define GPU_BARS {                                                                     \
	[0] = { .present = true, .size = 16 << 20 },                                   \
	[1] = { .present = true, .size = 16ULL << 30, .prefetchable = true, .is_64bit = true }, \
	[3] = { .present = true, .size = 32 << 20, .prefetchable = true, .is_64bit = true },   \
	[5] = { .present = true, .size = 128, .is_io = true },                         \
}

static struct pci_function functions[] = {
	{ .bdf = "0000:01:00.0", .vendor_id = 0x10de, .device_id = 0x2204, .class_code = 0x030000,
	  .iommu_unit = "dmar1", .bars = GPU_BARS, .nosnoop_enabled = MT_NO,
	  .has_msix = true, .msix_table_bar = 0, .msix_pba_bar = 0 },
	/* iGPU-like: no Snoop Control on its unit, No-Snoop enabled, PBA in
	 * its prefetchable BAR 2. */
	{ .bdf = "0000:02:00.0", .vendor_id = 0x8086, .device_id = 0xa780, .class_code = 0x030000,
	  .iommu_unit = "dmar0", .nosnoop_enabled = MT_YES,
	  .bars = { [0] = { .present = true, .size = 16 << 20 },
		    [2] = { .present = true, .size = 256 << 20, .prefetchable = true } },
	  .has_msix = true, .msix_table_bar = 0, .msix_pba_bar = 2 },
	{ .bdf = "0000:03:00.0", .vendor_id = 0x8086, .device_id = 0x1572, .class_code = 0x020000,
	  .bars = { [0] = { .present = true, .size = 8 << 20, .prefetchable = true } },
	  .msix_table_bar = -1, .msix_pba_bar = -1 },
	{ .bdf = "0000:04:00.0", .vendor_id = 0x1002, .device_id = 0x73bf, .class_code = 0x030000,
	  .iommu_unit = "ivhd0", .bars = GPU_BARS, .msix_table_bar = -1, .msix_pba_bar = -1 },
	{ .bdf = "0000:05:00.0", .vendor_id = 0x15b3, .device_id = 0x101b, .class_code = 0x020000,
	  .iommu_unit = "dmar9", .msix_table_bar = -1, .msix_pba_bar = -1 },
};

static struct iommu_unit units[] = {
	{ .name = "dmar0", .kind = IOMMU_KIND_INTEL_VTD, .regs_valid = true, .snoop_control = false },
	{ .name = "dmar1", .kind = IOMMU_KIND_INTEL_VTD, .regs_valid = true, .snoop_control = true },
	{ .name = "dmar9", .kind = IOMMU_KIND_INTEL_VTD, .regs_valid = false },
	{ .name = "ivhd0", .kind = IOMMU_KIND_AMD_VI, .regs_valid = true, .snoop_control = true },
};

enum { KVM_OK, KVM_UNKNOWN, KVM_ABSENT };
enum { NOIOMMU = 1, AMD_V2 = 2 };

#define HOST(vendor_, maj_, min_, ss_, tdp_, kvm_, supported_, flags_) {                    \
	.arch = "x86_64",                                                                   \
	.cpu = { .vendor = CPU_VENDOR_##vendor_, .self_snoop = ss_, .pat = true },          \
	.kernel = { maj_, min_, 0 },                                                        \
	.kvm = { .present = (kvm_) == KVM_ABSENT ? MT_NO : MT_YES,                          \
		 .quirks_known = (kvm_) == KVM_OK, .supported_quirks = supported_,           \
		 .tdp = tdp_ },                                                              \
	.vfio_noiommu = (flags_) & NOIOMMU, .amd_iommu_v2 = (flags_) & AMD_V2,              \
	.iommu_units = units, .n_iommu_units = ELEMENTSOF(units),                           \
	.functions = functions, .n_functions = ELEMENTSOF(functions),                       \
}

static const struct host h_intel_612 = HOST(INTEL, 6, 12, true, MT_YES, KVM_OK, 0x7ff, 0);
static const struct host h_intel_615 = HOST(INTEL, 6, 15, true, MT_YES, KVM_OK, 0x3ff, 0);
static const struct host h_intel_614 = HOST(INTEL, 6, 14, true, MT_YES, KVM_OK, 0x1ff, 0);
static const struct host h_intel_611 = HOST(INTEL, 6, 11, true, MT_YES, KVM_OK, 0x0ff, 0);
static const struct host h_intel_610 = HOST(INTEL, 6, 10, true, MT_YES, KVM_OK, 0x07f, 0);
static const struct host h_intel_62 = HOST(INTEL, 6, 2, true, MT_YES, KVM_OK, 0x07f, 0);
static const struct host h_intel_61 = HOST(INTEL, 6, 1, true, MT_YES, KVM_OK, 0x07f, 0);
static const struct host h_intel_noss = HOST(INTEL, 6, 15, false, MT_YES, KVM_OK, 0x1ff, 0);
static const struct host h_intel_shadow = HOST(INTEL, 6, 18, true, MT_NO, KVM_OK, 0x5ff, 0);
/* This development machine: AMD EPYC under kvm_pvm, shadow paging, 0x5ff. */
static const struct host h_amd_shadow = HOST(AMD, 6, 18, false, MT_NO, KVM_OK, 0x5ff, 0);
/* TDP reads as off but KVM reports IGNORE_GUEST_PAT: the probe wins. */
static const struct host h_intel_tdp_misread = HOST(INTEL, 6, 15, true, MT_NO, KVM_OK, 0x3ff, 0);
static const struct host h_intel_unknown = HOST(INTEL, 6, 12, true, MT_YES, KVM_UNKNOWN, 0, 0);
static const struct host h_intel_absent = HOST(INTEL, 6, 12, true, MT_UNKNOWN, KVM_ABSENT, 0, 0);
static const struct host h_intel_nokernel = HOST(INTEL, 0, 0, true, MT_YES, KVM_OK, 0x7ff, 0);
static const struct host h_intel_noiommu = HOST(INTEL, 6, 12, true, MT_YES, KVM_OK, 0x7ff, NOIOMMU);
static const struct host h_amd_612 = HOST(AMD, 6, 12, true, MT_YES, KVM_OK, 0x7ff, 0);
static const struct host h_amd_v2 = HOST(AMD, 6, 12, true, MT_YES, KVM_OK, 0x7ff, AMD_V2);
static const struct host h_arm_69 = HOST(ARM64, 6, 9, false, MT_YES, KVM_OK, 0, 0);
static const struct host h_arm_68 = HOST(ARM64, 6, 8, false, MT_YES, KVM_OK, 0, 0);

/* ----- VMs ------------------------------------------------------------- */

#define HOSTDEV(addr) { .kind = VM_HOSTDEV_PCI, .bdf = addr }

static const struct vm vm_plain = { .name = "plain", .domain_type = "kvm" };
static const struct vm vm_hostmem = { .name = "hm", .domain_type = "kvm", .virtio_gpu_hostmem = true };
static const struct vm vm_venus = { .name = "venus", .domain_type = "kvm", .venus = true };
static const struct vm vm_hostmem_bochs = {
	.name = "hm-bochs", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_BOCHS, .primary = true }),
};
static const struct vm vm_hostmem_vga = {
	.name = "hm-vga", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_VGA, .primary = true, .vram_kib = 16384 }),
};
static const struct vm vm_hostmem_cirrus = {
	.name = "hm-cirrus", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_CIRRUS, .primary = true }),
};
static const struct vm vm_hostmem_qxl = {
	.name = "hm-qxl", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_QXL, .primary = true }),
};
static const struct vm vm_hostmem_virtio_vga = {
	.name = "hm-vvga", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_VIRTIO, .primary = true, .blob = true }),
};
static const struct vm vm_hostmem_virtio_secondary = {
	.name = "hm-v2", .domain_type = "kvm", .virtio_gpu_hostmem = true,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_RAMFB, .primary = true },
	     { .model = VIDEO_MODEL_VIRTIO, .primary = false }),
};
static const struct vm vm_blob = {
	.name = "blob", .domain_type = "kvm",
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_VIRTIO, .primary = true, .blob = true }),
};
static const struct vm vm_bochs = {
	.name = "bochs", .domain_type = "kvm",
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_BOCHS, .primary = true, .vram_kib = 16384 }),
};
static const struct vm vm_lg = {
	.name = "lg-win", .domain_type = "kvm",
	LIST(shmems, struct vm_shmem, { .name = "looking-glass", .model = "ivshmem-plain",
					.size_bytes = 64 << 20, .looking_glass = true }),
};
static const struct vm vm_gpu = { .name = "gpu", .domain_type = "kvm",
				  LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:01:00.0")) };
static const struct vm vm_nc = { .name = "nc", .domain_type = "kvm",
				 LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:02:00.0")) };
static const struct vm vm_hostmem_nc = { .name = "hm-nc", .domain_type = "kvm", .virtio_gpu_hostmem = true,
					 LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:02:00.0")) };
static const struct vm vm_tdx = { .name = "td", .domain_type = "kvm", .virtio_gpu_hostmem = true,
				  .launch_security = LAUNCH_SECURITY_TDX };
static const struct vm vm_tdx_bochs = {
	.name = "td-bochs", .domain_type = "kvm", .launch_security = LAUNCH_SECURITY_TDX,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_BOCHS, .primary = true }),
};
static const struct vm vm_snp = { .name = "snp", .domain_type = "kvm",
				  .launch_security = LAUNCH_SECURITY_SEV_SNP };
static const struct vm vm_sev = { .name = "sev", .domain_type = "kvm",
				  .launch_security = LAUNCH_SECURITY_SEV };
static const struct vm vm_tcg = { .name = "tcg", .domain_type = "qemu", .virtio_gpu_hostmem = true };

/* ----- operator policies ------------------------------------------------ */

#define ORIGIN(f, l) { .file = f, .line = l }

static const struct operator_policy pol_perf = {
	.mode = POLICY_MODE_PERFORMANCE, .mode_origin = ORIGIN("/etc/memtype/memtype.json", 2),
};
static const struct operator_policy pol_conservative = {
	.mode = POLICY_MODE_CONSERVATIVE, .mode_origin = ORIGIN("/etc/memtype/memtype.json", 2),
};
static const struct operator_policy pol_pat_disable = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_IGNORE_GUEST_PAT] = QUIRK_SETTING_DISABLE,
	.quirk_origin[KVM_QUIRK_IGNORE_GUEST_PAT] = ORIGIN("/etc/memtype/policy.d/10-pat.json", 4),
};
static const struct operator_policy pol_pat_keep = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_IGNORE_GUEST_PAT] = QUIRK_SETTING_KEEP,
	.quirk_origin[KVM_QUIRK_IGNORE_GUEST_PAT] = ORIGIN("/etc/memtype/policy.d/10-pat.json", 5),
};
static const struct operator_policy pol_lg_rule = {
	.mode = POLICY_MODE_BALANCED,
	LIST(vm_rules, struct vm_rule,
	     { .name_glob = "lg-*", .honor_shared_memory = MT_YES, .strict = MT_UNKNOWN,
	       .origin = ORIGIN("/etc/memtype/policy.d/20-lg.json", 7) }),
};
static const struct operator_policy pol_honor_global = {
	.mode = POLICY_MODE_BALANCED, .honor_shared_memory = true,
	.honor_shared_memory_origin = ORIGIN("/etc/memtype/memtype.json", 6),
};
static const struct operator_policy pol_cdnw_disable = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_CD_NW_CLEARED] = QUIRK_SETTING_DISABLE,
	.quirk_origin[KVM_QUIRK_CD_NW_CLEARED] = ORIGIN("/etc/memtype/memtype.json", 9),
};
static const struct operator_policy pol_cdnw_keep_conservative = {
	.mode = POLICY_MODE_CONSERVATIVE,
	.quirks[KVM_QUIRK_CD_NW_CLEARED] = QUIRK_SETTING_KEEP,
	.quirk_origin[KVM_QUIRK_CD_NW_CLEARED] = ORIGIN("/etc/memtype/memtype.json", 10),
};
static const struct operator_policy pol_hypercall_disable = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_FIX_HYPERCALL_INSN] = QUIRK_SETTING_DISABLE,
	.quirk_origin[KVM_QUIRK_FIX_HYPERCALL_INSN] = ORIGIN("/etc/memtype/memtype.json", 11),
};
static const struct operator_policy pol_msrs_disable = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_STUFF_FEATURE_MSRS] = QUIRK_SETTING_DISABLE,
	.quirk_origin[KVM_QUIRK_STUFF_FEATURE_MSRS] = ORIGIN("/etc/memtype/memtype.json", 12),
};
static const struct operator_policy pol_lint0_keep = {
	.mode = POLICY_MODE_BALANCED,
	.quirks[KVM_QUIRK_LINT0_REENABLED] = QUIRK_SETTING_KEEP,
	.quirk_origin[KVM_QUIRK_LINT0_REENABLED] = ORIGIN("/etc/memtype/memtype.json", 13),
};
/* A per-VM rule that switches one VM to performance mode. */
static const struct operator_policy pol_vm_perf = {
	.mode = POLICY_MODE_BALANCED,
	LIST(vm_rules, struct vm_rule,
	     { .name_glob = "plain", .has_mode = true, .mode = POLICY_MODE_PERFORMANCE,
	       .honor_shared_memory = MT_UNKNOWN, .strict = MT_YES,
	       .origin = ORIGIN("/etc/memtype/policy.d/30-vm.json", 3) }),
};

/* ----- helpers ----------------------------------------------------------- */

static struct plan *plan_new(void)
{
	/* Garbage, not zeroes: policy_decide() must initialise what it uses. */
	struct plan *p = malloc(sizeof(*p));

	ck_assert_ptr_nonnull(p);
	memset(p, 0xa5, sizeof(*p));
	return p;
}

static struct plan *decide(const struct host *h, const struct vm *vm,
			   const struct operator_policy *pol)
{
	struct plan *p = plan_new();
	char why[PLAN_TEXT];

	ck_assert_int_eq(policy_decide(h, vm, pol, p), 0);
	/* Every plan the engine makes keeps the invariants... */
	ck_assert_msg(policy_check_invariants(p, why, sizeof(why)) == 0, "invariant: %s", why);
	ck_assert(!plan_has_warning(p, "internal-invariant"));
	/* ...and every trace entry cites a FACTS section and says something. */
	for (unsigned i = 0; i < p->n_trace; i++) {
		ck_assert_ptr_nonnull(p->trace[i].rule);
		ck_assert_msg(strncmp(p->trace[i].fact, "FACTS §", strlen("FACTS §")) == 0,
			      "rule %s cites '%s'", p->trace[i].rule, p->trace[i].fact);
		ck_assert_uint_gt(strlen(p->trace[i].outcome), 10);
	}
	return p;
}

static const struct plan_quirk *find_quirk(const struct plan *p, unsigned bit)
{
	for (unsigned i = 0; i < p->n_quirks; i++)
		if (p->quirks[i].bit == bit)
			return &p->quirks[i];
	return NULL;
}

static bool quirk_has_rule(const struct plan_quirk *q, const char *rule)
{
	for (unsigned i = 0; i < q->n_rules; i++)
		if (streq(q->rules[i], rule))
			return true;
	return false;
}

static const struct plan_trace *find_trace(const struct plan *p, const char *rule)
{
	for (unsigned i = 0; i < p->n_trace; i++)
		if (streq(p->trace[i].rule, rule))
			return &p->trace[i];
	return NULL;
}

static bool has_error(const struct plan *p, const char *code)
{
	for (unsigned i = 0; i < p->n_errors; i++)
		if (streq(p->errors[i].code, code))
			return true;
	return false;
}

/* ----- quirk names -------------------------------------------------------- */

START_TEST(test_quirk_names)
{
	static const struct { const char *name; int bit; } cases[] = {
		{ "IGNORE_GUEST_PAT", 9 },
		{ "KVM_X86_QUIRK_IGNORE_GUEST_PAT", 9 },
		{ "ignore_guest_pat", 9 },
		{ "kvm_x86_quirk_cd_nw_cleared", 1 },
		{ "LINT0_REENABLED", 0 },
		{ "VMCS12_ALLOW_FREEZE_IN_SMM", 10 },
		{ "SLOT_ZAP_ALL", 7 },
		{ "IGNORE_GUEST", -EINVAL },
		{ "KVM_X86_QUIRK_", -EINVAL },
		{ "", -EINVAL },
		{ "NESTED_SVM_SHARED_PAT", -EINVAL },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		ck_assert_msg(kvm_quirk_from_name(cases[i].name) == cases[i].bit, "%s", cases[i].name);
	ck_assert_int_eq(kvm_quirk_from_name(NULL), -EINVAL);
	ck_assert_str_eq(kvm_quirk_name(KVM_QUIRK_IGNORE_GUEST_PAT), "IGNORE_GUEST_PAT");
	ck_assert_str_eq(kvm_quirk_name(KVM_QUIRK_CD_NW_CLEARED), "CD_NW_CLEARED");
	ck_assert_ptr_null(kvm_quirk_name(KVM_QUIRK_COUNT_KNOWN));
	ck_assert_ptr_null(kvm_quirk_name(63));
	for (unsigned bit = 0; bit < KVM_QUIRK_COUNT_KNOWN; bit++)
		ck_assert_int_eq(kvm_quirk_from_name(kvm_quirk_name(bit)), (int)bit);
}
END_TEST

START_TEST(test_enum_strings)
{
	ck_assert_str_eq(quirk_action_to_string(QUIRK_ACTION_NA), "n/a");
	ck_assert_str_eq(quirk_action_to_string(QUIRK_ACTION_KEEP), "keep");
	ck_assert_str_eq(quirk_action_to_string(QUIRK_ACTION_DISABLE), "disable");
	ck_assert_str_eq(quirk_action_to_string((enum quirk_action)7), "invalid");
	ck_assert_str_eq(bar_memtype_to_string(BAR_MEMTYPE_GUEST_PAT), "guest-pat");
	ck_assert_str_eq(bar_memtype_to_string(BAR_MEMTYPE_FORCED_WB), "forced-wb");
	ck_assert_str_eq(bar_memtype_to_string(BAR_MEMTYPE_NORMAL_NC), "normal-nc");
	ck_assert_str_eq(bar_memtype_to_string((enum bar_memtype)42), "invalid");
	for (int m = BAR_MEMTYPE_IO; m <= BAR_MEMTYPE_UNKNOWN; m++)
		ck_assert_msg(bar_memtype_is_cacheable((enum bar_memtype)m) == (m == BAR_MEMTYPE_FORCED_WB),
			      "%s", bar_memtype_to_string((enum bar_memtype)m));
}
END_TEST

/* ----- quirk decisions, table-driven ------------------------------------- */

struct quirk_case {
	const char *name;
	const struct host *host;
	const struct vm *vm;
	const struct operator_policy *pol;
	unsigned bit;
	enum quirk_action action;
	const char *rule;              /* among the quirk's rules */
	const char *warning;           /* must be raised, or NULL */
	const char *not_warning;       /* must not be raised, or NULL */
	const char *reason;            /* substring of the reason, or NULL */
};

#define PAT KVM_QUIRK_IGNORE_GUEST_PAT
#define CDNW KVM_QUIRK_CD_NW_CLEARED
#define NA QUIRK_ACTION_NA
#define KEEP QUIRK_ACTION_KEEP
#define DISABLE QUIRK_ACTION_DISABLE

static const struct quirk_case quirk_cases[] = {
	/* IGNORE_GUEST_PAT: who needs guest PAT */
	{ "hostmem", &h_intel_612, &vm_hostmem, NULL, PAT, DISABLE, "pat.need.hostmem", NULL, "uc-display", "no UC-mapping display" },
	{ "venus", &h_intel_612, &vm_venus, NULL, PAT, DISABLE, "pat.need.hostmem", NULL, "hostmem-forced-wb", "host GPU memory" },
	{ "hostmem+bochs", &h_intel_612, &vm_hostmem_bochs, NULL, PAT, KEEP, "pat.keep.uc-display", "uc-display", NULL, "UC-mapping display" },
	{ "hostmem+bochs forced-wb", &h_intel_612, &vm_hostmem_bochs, NULL, PAT, KEEP, "pat.keep.uc-display", "hostmem-forced-wb", NULL, NULL },
	{ "hostmem+vga", &h_intel_612, &vm_hostmem_vga, NULL, PAT, KEEP, "pat.keep.uc-display", "uc-display", NULL, NULL },
	{ "hostmem+cirrus", &h_intel_612, &vm_hostmem_cirrus, NULL, PAT, KEEP, "pat.keep.uc-display", "uc-display", NULL, NULL },
	{ "hostmem+bochs operator disable", &h_intel_612, &vm_hostmem_bochs, &pol_pat_disable, PAT, DISABLE, "pat.need.hostmem", "uc-display", "hostmem-forced-wb", "despite a UC-mapping display" },
	{ "hostmem+qxl", &h_intel_612, &vm_hostmem_qxl, NULL, PAT, DISABLE, "pat.need.hostmem", "display-caution", "uc-display", NULL },
	{ "hostmem+primary virtio-vga", &h_intel_612, &vm_hostmem_virtio_vga, NULL, PAT, DISABLE, "pat.need.hostmem", "display-caution", NULL, NULL },
	{ "hostmem+secondary virtio", &h_intel_612, &vm_hostmem_virtio_secondary, NULL, PAT, DISABLE, "pat.need.hostmem", NULL, "display-caution", NULL },
	{ "blob without hostmem", &h_intel_612, &vm_blob, NULL, PAT, KEEP, "pat.keep.not-needed", NULL, "hostmem-forced-wb", "guest RAM" },
	{ "looking glass, no opt-in", &h_intel_612, &vm_lg, NULL, PAT, KEEP, "pat.keep.not-needed", NULL, NULL, "ivshmem" },
	{ "looking glass, opt-in rule", &h_intel_612, &vm_lg, &pol_lg_rule, PAT, DISABLE, "pat.need.shmem", NULL, NULL, "20-lg.json:7" },
	{ "looking glass, global opt-in", &h_intel_612, &vm_lg, &pol_honor_global, PAT, DISABLE, "pat.need.shmem", NULL, NULL, "memtype.json:6" },
	{ "passed-through GPU", &h_intel_612, &vm_gpu, NULL, PAT, KEEP, "pat.keep.not-needed", NULL, NULL, "EPT UC without IPAT" },
	{ "non-coherent, not needed", &h_intel_612, &vm_nc, NULL, PAT, KEEP, "pat.keep.noncoherent", "noncoherent-dma", NULL, "non-coherent DMA is registered" },
	{ "hostmem with non-coherent DMA", &h_intel_612, &vm_hostmem_nc, NULL, PAT, DISABLE, "pat.need.hostmem", "noncoherent-dma", "hostmem-forced-wb", "stays right" },
	{ "plain VM", &h_intel_612, &vm_plain, NULL, PAT, KEEP, "pat.keep.not-needed", NULL, NULL, "nothing in this VM" },
	{ "performance mode", &h_intel_612, &vm_plain, &pol_perf, PAT, DISABLE, "pat.need.mode", NULL, NULL, "memtype.json:2" },
	{ "performance mode per VM rule", &h_intel_612, &vm_plain, &pol_vm_perf, PAT, DISABLE, "pat.need.mode", NULL, NULL, "30-vm.json:3" },
	{ "performance mode, bochs", &h_intel_612, &vm_bochs, &pol_perf, PAT, KEEP, "pat.keep.uc-display", "uc-display", NULL, NULL },
	{ "conservative, hostmem", &h_intel_612, &vm_hostmem, &pol_conservative, PAT, DISABLE, "pat.need.hostmem", NULL, NULL, NULL },
	{ "operator disable", &h_intel_612, &vm_plain, &pol_pat_disable, PAT, DISABLE, "pat.operator.disable", NULL, NULL, "10-pat.json:4" },
	{ "operator keep", &h_intel_612, &vm_hostmem, &pol_pat_keep, PAT, KEEP, "pat.operator.keep", "hostmem-forced-wb", NULL, "10-pat.json:5" },
	/* IGNORE_GUEST_PAT: when KVM cannot */
	{ "no self-snoop", &h_intel_noss, &vm_hostmem, NULL, PAT, NA, "pat.no-self-snoop", "no-self-snoop", NULL, "self-snoop" },
	{ "no self-snoop forced-wb", &h_intel_noss, &vm_hostmem, NULL, PAT, NA, "pat.no-self-snoop", "hostmem-forced-wb", NULL, NULL },
	{ "shadow paging", &h_intel_shadow, &vm_hostmem, NULL, PAT, NA, "pat.shadow-paging", "shadow-paging", NULL, "shadow paging" },
	{ "shadow paging forced-wb", &h_intel_shadow, &vm_hostmem, NULL, PAT, NA, "pat.shadow-paging", "hostmem-forced-wb", NULL, NULL },
	{ "shadow paging, non-coherent DMA", &h_intel_shadow, &vm_hostmem_nc, NULL, PAT, NA, "pat.shadow-paging", "hostmem-forced-wb", NULL, "shadow paging" },
	{ "shadow paging, not needed", &h_intel_shadow, &vm_nc, NULL, PAT, NA, "pat.shadow-paging", NULL, "shadow-paging", "shadow paging" },
	{ "shadow paging, no self-snoop", &h_amd_shadow, &vm_hostmem, NULL, PAT, NA, "pat.shadow-paging", "shadow-paging", "no-self-snoop", NULL },
	{ "AMD shadow paging", &h_amd_shadow, &vm_hostmem, NULL, PAT, NA, "pat.shadow-paging", "shadow-paging", NULL, "shadow paging" },
	{ "AMD shadow paging, performance", &h_amd_shadow, &vm_plain, &pol_perf, PAT, NA, "pat.shadow-paging", "shadow-paging", NULL, "memtype.json:2" },
	{ "AMD shadow paging, operator disable", &h_amd_shadow, &vm_plain, &pol_pat_disable, PAT, NA, "pat.shadow-paging", "shadow-paging", NULL, "10-pat.json:4" },
	{ "AMD shadow paging, not needed", &h_amd_shadow, &vm_plain, NULL, PAT, NA, "pat.shadow-paging", NULL, "shadow-paging", NULL },
	{ "TDP misread, KVM reports the quirk", &h_intel_tdp_misread, &vm_hostmem, NULL, PAT, DISABLE, "pat.need.hostmem", NULL, "shadow-paging", NULL },
	{ "6.1 lacks the quirk", &h_intel_61, &vm_hostmem, NULL, PAT, NA, "quirk.unsupported", "quirk-unsupported", NULL, NULL },
	{ "6.14 lacks the quirk", &h_intel_614, &vm_hostmem, NULL, PAT, NA, "quirk.unsupported", "quirk-unsupported", NULL, NULL },
	{ "6.15 has it", &h_intel_615, &vm_hostmem, NULL, PAT, DISABLE, "pat.need.hostmem", NULL, "quirk-unsupported", NULL },
	{ "KVM unknown", &h_intel_unknown, &vm_hostmem, NULL, PAT, KEEP, "kvm.unknown", "kvm-unknown", NULL, "KVM state unknown: keeping KVM's defaults" },
	{ "KVM absent", &h_intel_absent, &vm_hostmem, NULL, PAT, NA, "kvm.absent", NULL, NULL, NULL },
	{ "AMD", &h_amd_612, &vm_hostmem, NULL, PAT, NA, "pat.amd", NULL, "hostmem-forced-wb", "NPT always applies guest PAT" },
	{ "AMD operator disable", &h_amd_612, &vm_plain, &pol_pat_disable, PAT, NA, "pat.amd", NULL, NULL, NULL },
	{ "arm64", &h_arm_69, &vm_hostmem, NULL, PAT, NA, "pat.not-x86", NULL, NULL, NULL },
	{ "TDX", &h_intel_612, &vm_tdx, NULL, PAT, NA, "quirk.tdx", "confidential-vm", NULL, "TDX" },
	{ "TDX operator disable", &h_intel_612, &vm_tdx_bochs, &pol_pat_disable, PAT, NA, "quirk.tdx", "confidential-vm", NULL, NULL },
	{ "not a KVM domain", &h_intel_612, &vm_tcg, NULL, PAT, NA, "kvm.not-used", NULL, NULL, "qemu" },
	/* CD_NW_CLEARED */
	{ "AMD keeps CD_NW", &h_amd_612, &vm_plain, NULL, CDNW, KEEP, "cdnw.amd.keep", NULL, NULL, "hardware CR0" },
	{ "AMD operator disables CD_NW", &h_amd_612, &vm_plain, &pol_cdnw_disable, CDNW, DISABLE, "cdnw.operator.disable", NULL, NULL, "memtype.json:9" },
	{ "AMD SEV keeps CD_NW", &h_amd_612, &vm_sev, NULL, CDNW, KEEP, "cdnw.amd.keep", "confidential-vm", NULL, NULL },
	{ "SEV-SNP", &h_amd_612, &vm_snp, NULL, CDNW, NA, "cdnw.sev-snp", "confidential-vm", NULL, "UNVERIFIED" },
	{ "Intel 6.15 inapplicable", &h_intel_615, &vm_nc, &pol_conservative, CDNW, NA, "cdnw.intel.inapplicable", NULL, NULL, NULL },
	{ "Intel 6.14 no effect", &h_intel_614, &vm_nc, &pol_conservative, CDNW, NA, "cdnw.intel.no-effect", NULL, NULL, "e1548088ff54" },
	{ "Intel 6.11 no effect", &h_intel_611, &vm_nc, &pol_conservative, CDNW, NA, "cdnw.intel.no-effect", NULL, NULL, NULL },
	{ "Intel 6.10 coherent", &h_intel_610, &vm_gpu, &pol_conservative, CDNW, NA, "cdnw.intel.coherent", NULL, NULL, "only with non-coherent DMA" },
	{ "Intel 6.10 nc balanced", &h_intel_610, &vm_nc, NULL, CDNW, KEEP, "cdnw.intel.keep", NULL, NULL, "balanced" },
	{ "Intel 6.10 nc performance", &h_intel_610, &vm_nc, &pol_perf, CDNW, KEEP, "cdnw.intel.keep", NULL, NULL, "performance" },
	{ "Intel 6.10 nc conservative", &h_intel_610, &vm_nc, &pol_conservative, CDNW, DISABLE, "cdnw.intel.conservative", NULL, NULL, "UC+IPAT" },
	{ "Intel 6.1 nc conservative", &h_intel_61, &vm_nc, &pol_conservative, CDNW, DISABLE, "cdnw.intel.conservative", NULL, NULL, NULL },
	{ "Intel 6.10 nc operator keep", &h_intel_610, &vm_nc, &pol_cdnw_keep_conservative, CDNW, KEEP, "cdnw.operator.keep", NULL, NULL, "memtype.json:10" },
	{ "Intel 6.10 nc operator disable", &h_intel_610, &vm_nc, &pol_cdnw_disable, CDNW, DISABLE, "cdnw.operator.disable", NULL, NULL, NULL },
	{ "Intel kernel unknown nc", &h_intel_nokernel, &vm_nc, &pol_conservative, CDNW, KEEP, "cdnw.intel.kernel-unknown", NULL, NULL, NULL },
	{ "CD_NW with KVM unknown on 6.12", &h_intel_unknown, &vm_plain, NULL, CDNW, NA, "cdnw.intel.no-effect", "kvm-unknown", NULL, NULL },
	{ "CD_NW on TDX", &h_intel_612, &vm_tdx, NULL, CDNW, NA, "quirk.tdx", NULL, NULL, NULL },
	{ "CD_NW on arm64", &h_arm_69, &vm_plain, NULL, CDNW, NA, "cdnw.not-x86", NULL, NULL, NULL },
	/* quirks the operator names */
	{ "operator disables FIX_HYPERCALL_INSN", &h_intel_612, &vm_plain, &pol_hypercall_disable, KVM_QUIRK_FIX_HYPERCALL_INSN, DISABLE, "quirk.operator.disable", NULL, NULL, "memtype.json:11" },
	{ "FIX_HYPERCALL_INSN on AMD", &h_amd_612, &vm_plain, &pol_hypercall_disable, KVM_QUIRK_FIX_HYPERCALL_INSN, DISABLE, "quirk.operator.disable", NULL, NULL, NULL },
	{ "STUFF_FEATURE_MSRS on 6.1", &h_intel_61, &vm_plain, &pol_msrs_disable, KVM_QUIRK_STUFF_FEATURE_MSRS, NA, "quirk.unsupported", "quirk-unsupported", NULL, NULL },
	{ "operator keeps LINT0", &h_intel_612, &vm_plain, &pol_lint0_keep, KVM_QUIRK_LINT0_REENABLED, KEEP, "quirk.operator.keep", NULL, NULL, "memtype.json:13" },
	{ "operator quirk on TDX", &h_intel_612, &vm_tdx, &pol_hypercall_disable, KVM_QUIRK_FIX_HYPERCALL_INSN, NA, "quirk.tdx", NULL, NULL, NULL },
	{ "operator quirk, KVM unknown", &h_intel_unknown, &vm_plain, &pol_hypercall_disable, KVM_QUIRK_FIX_HYPERCALL_INSN, KEEP, "kvm.unknown", "kvm-unknown", NULL, NULL },
};

START_TEST(test_quirk_rules)
{
	const struct quirk_case *c = &quirk_cases[_i];
	_cleanup_free_ struct plan *p = decide(c->host, c->vm, c->pol);
	const struct plan_quirk *q = find_quirk(p, c->bit);
	uint64_t bit = 1ULL << c->bit;

	ck_assert_msg(q, "%s: quirk %u not listed", c->name, c->bit);
	ck_assert_msg(q->action == c->action, "%s: action %s, want %s (%s)", c->name,
		      quirk_action_to_string(q->action), quirk_action_to_string(c->action), q->reason);
	ck_assert_msg(quirk_has_rule(q, c->rule), "%s: rule %s missing (first %s)", c->name,
		      c->rule, q->n_rules ? q->rules[0] : "none");
	ck_assert_msg(find_trace(p, c->rule), "%s: rule %s not traced", c->name, c->rule);
	ck_assert_msg(!c->warning || plan_has_warning(p, c->warning), "%s: no %s warning", c->name, c->warning);
	ck_assert_msg(!c->not_warning || !plan_has_warning(p, c->not_warning), "%s: unexpected %s",
		      c->name, c->not_warning);
	ck_assert_msg(!c->reason || strstr(q->reason, c->reason), "%s: reason '%s' lacks '%s'",
		      c->name, q->reason, c->reason);
	ck_assert_uint_gt(strlen(q->reason), 0);
	ck_assert_msg(!!(p->disable_quirks_mask & bit) == (c->action == DISABLE), "%s: mask 0x%llx",
		      c->name, (unsigned long long)p->disable_quirks_mask);
}
END_TEST

/* ----- non-coherent DMA, table-driven -------------------------------------- */

static const struct vm vm_noiommu_nic = { .name = "nic", .domain_type = "kvm",
					  LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:03:00.0")) };
static const struct vm vm_amd_gpu = { .name = "amdgpu", .domain_type = "kvm",
				      LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:04:00.0")) };
static const struct vm vm_unreadable_unit = { .name = "mlx", .domain_type = "kvm",
					      LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:05:00.0")) };
static const struct vm vm_short_bdf = { .name = "short", .domain_type = "kvm",
					LIST(hostdevs, struct vm_hostdev, HOSTDEV("01:00.0")) };
static const struct vm vm_missing = { .name = "missing", .domain_type = "kvm",
				      LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:09:00.0")) };
static const struct vm vm_bad_bdf = { .name = "bad", .domain_type = "kvm",
				      LIST(hostdevs, struct vm_hostdev, HOSTDEV("zz:not-a-bdf")) };
static const struct vm vm_mdev = {
	.name = "gvt", .domain_type = "kvm",
	LIST(hostdevs, struct vm_hostdev, { .kind = VM_HOSTDEV_MDEV, .mdev_uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01",
					    .mdev_model = "vfio-pci" }),
};
static const struct vm vm_pool = {
	.name = "pool", .domain_type = "kvm",
	LIST(hostdevs, struct vm_hostdev, { .kind = VM_HOSTDEV_INTERFACE_POOL, .network = "sriov-pool" }),
};
static const struct vm vm_iface = {
	.name = "iface", .domain_type = "kvm",
	LIST(hostdevs, struct vm_hostdev, { .kind = VM_HOSTDEV_INTERFACE, .bdf = "0000:01:00.0" }),
};
static const struct vm vm_gpu_and_mdev = {
	.name = "mix", .domain_type = "kvm",
	LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:01:00.0"),
	     { .kind = VM_HOSTDEV_MDEV, .mdev_uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01" }),
};

static const struct operator_policy pol_gpu_nc = {
	.mode = POLICY_MODE_BALANCED,
	LIST(device_rules, struct device_rule,
	     { .match_class = true, .class_code = 0x030000, .class_mask = 0xff0000,
	       .noncoherent = MT_NO, .allow_wc = MT_UNKNOWN, .origin = ORIGIN("/etc/memtype/policy.d/40-dev.json", 2) },
	     /* later and more specific: wins */
	     { .match_id = true, .vendor_id = 0x10de, .device_id = 0xffff,
	       .noncoherent = MT_YES, .allow_wc = MT_UNKNOWN, .origin = ORIGIN("/etc/memtype/policy.d/40-dev.json", 5) }),
};
static const struct operator_policy pol_igpu_coherent = {
	.mode = POLICY_MODE_BALANCED,
	LIST(device_rules, struct device_rule,
	     { .bdf = "02:00.0", .noncoherent = MT_NO, .allow_wc = MT_UNKNOWN,
	       .origin = ORIGIN("/etc/memtype/policy.d/40-dev.json", 8) }),
};

struct dma_case {
	const char *name;
	const struct host *host;
	const struct vm *vm;
	const struct operator_policy *pol;
	bool noncoherent_dma;          /* plan verdict */
	bool dev0_noncoherent;
	enum mt_tristate snoop_control;
	const char *rule;              /* traced, or NULL */
	const char *warning, *error;   /* raised, or NULL */
	const char *trace_text;        /* in the rule's outcome, or NULL */
};

static const struct dma_case dma_cases[] = {
	{ "VT-d with SC", &h_intel_612, &vm_gpu, NULL, false, false, MT_YES, "dma.vtd.sc", NULL, NULL, "dmar1" },
	{ "VT-d without SC", &h_intel_612, &vm_nc, NULL, true, true, MT_NO, "dma.vtd.no-sc", "noncoherent-dma", NULL, NULL },
	{ "No-Snoop enabled", &h_intel_612, &vm_nc, NULL, true, true, MT_NO, NULL, "nosnoop-enabled", NULL, NULL },
	{ "interface hostdev", &h_intel_612, &vm_iface, NULL, false, false, MT_YES, "dma.vtd.sc", NULL, NULL, NULL },
	{ "short BDF", &h_intel_612, &vm_short_bdf, NULL, false, false, MT_YES, "dma.vtd.sc", NULL, NULL, NULL },
	{ "no IOMMU unit", &h_intel_612, &vm_noiommu_nic, NULL, true, true, MT_NO, "dma.noiommu", "noiommu", NULL, "UNVERIFIED" },
	{ "vfio noiommu", &h_intel_noiommu, &vm_gpu, NULL, true, true, MT_NO, "dma.noiommu", "noiommu", NULL, "no-IOMMU" },
	{ "AMD-Vi", &h_amd_612, &vm_amd_gpu, NULL, false, false, MT_YES, "dma.amdvi", NULL, NULL, NULL },
	{ "AMD-Vi v2", &h_amd_v2, &vm_amd_gpu, NULL, false, false, MT_YES, "dma.amdvi", "coherency-uncertain", NULL, NULL },
	{ "unit registers unread", &h_intel_612, &vm_unreadable_unit, NULL, true, true, MT_UNKNOWN, "dma.unit-unknown", "coherency-uncertain", NULL, NULL },
	{ "mdev on 6.2", &h_intel_62, &vm_mdev, NULL, true, true, MT_UNKNOWN, "dma.mdev", "noncoherent-dma", NULL, "UNVERIFIED" },
	{ "mdev on 6.1", &h_intel_61, &vm_mdev, NULL, false, false, MT_UNKNOWN, "dma.mdev.container", NULL, NULL, "<= 6.1" },
	{ "GPU+mdev on 6.1", &h_intel_61, &vm_gpu_and_mdev, NULL, false, false, MT_YES, "dma.container", NULL, NULL, NULL },
	{ "GPU+mdev on 6.12", &h_intel_612, &vm_gpu_and_mdev, NULL, true, false, MT_YES, "dma.mdev", NULL, NULL, NULL },
	{ "no-SC on 6.1", &h_intel_61, &vm_nc, NULL, true, true, MT_NO, "dma.container", NULL, NULL, "container" },
	{ "kernel unknown", &h_intel_nokernel, &vm_mdev, NULL, true, true, MT_UNKNOWN, "dma.kernel-unknown", NULL, NULL, ">= 6.2" },
	{ "arm64", &h_arm_69, &vm_nc, NULL, false, false, MT_UNKNOWN, "dma.not-x86", NULL, NULL, "x86-only" },
	{ "arm64 mdev", &h_arm_69, &vm_mdev, NULL, false, false, MT_UNKNOWN, NULL, NULL, NULL, NULL },
	{ "unresolved pool", &h_intel_612, &vm_pool, NULL, false, false, MT_UNKNOWN, NULL, "device-unresolved", NULL, NULL },
	{ "missing device", &h_intel_612, &vm_missing, NULL, false, false, MT_UNKNOWN, NULL, NULL, "device-not-found", NULL },
	{ "bad address", &h_intel_612, &vm_bad_bdf, NULL, false, false, MT_UNKNOWN, NULL, NULL, "device-not-found", NULL },
	{ "operator says non-coherent", &h_intel_612, &vm_gpu, &pol_gpu_nc, true, true, MT_UNKNOWN, "dma.operator", "noncoherent-dma", NULL, "40-dev.json:5" },
	{ "operator says coherent", &h_intel_612, &vm_nc, &pol_igpu_coherent, false, false, MT_UNKNOWN, "dma.operator", NULL, NULL, "40-dev.json:8" },
	{ "KVM absent", &h_intel_absent, &vm_plain, NULL, false, false, MT_UNKNOWN, "kvm.absent", NULL, "kvm-absent", NULL },
};

START_TEST(test_dma_rules)
{
	const struct dma_case *c = &dma_cases[_i];
	_cleanup_free_ struct plan *p = decide(c->host, c->vm, c->pol);
	const struct plan_trace *t = c->rule ? find_trace(p, c->rule) : NULL;

	ck_assert_msg(p->noncoherent_dma == c->noncoherent_dma, "%s: noncoherent_dma %d", c->name,
		      p->noncoherent_dma);
	ck_assert_msg(p->noncoherent_dma == plan_has_warning(p, "noncoherent-dma"), "%s", c->name);
	if (c->vm->n_hostdevs) {
		ck_assert_uint_eq(p->n_devices, c->vm->n_hostdevs);
		ck_assert_msg(p->devices[0].noncoherent == c->dev0_noncoherent, "%s: device verdict", c->name);
		ck_assert_msg(p->devices[0].snoop_control == c->snoop_control, "%s: snoop control %d",
			      c->name, p->devices[0].snoop_control);
		ck_assert_uint_gt(strlen(p->devices[0].reason), 0);
	}
	ck_assert_msg(!c->rule || t, "%s: rule %s not traced", c->name, c->rule);
	ck_assert_msg(!c->trace_text || (t && strstr(t->outcome, c->trace_text)),
		      "%s: outcome '%s' lacks '%s'", c->name, t ? t->outcome : "", c->trace_text);
	ck_assert_msg(!c->warning || plan_has_warning(p, c->warning), "%s: no %s", c->name, c->warning);
	ck_assert_msg(!c->error || has_error(p, c->error), "%s: no error %s", c->name, c->error);
	ck_assert_msg(c->error || p->n_errors == 0, "%s: unexpected error %s", c->name,
		      p->n_errors ? p->errors[0].code : "");
}
END_TEST

static const char *warning_text(const struct plan *p, const char *code)
{
	for (unsigned i = 0; i < p->n_warnings; i++)
		if (streq(p->warnings[i].code, code))
			return p->warnings[i].message;
	return NULL;
}

/* A confidential VM on the wrong CPU vendor cannot start: a plan error,
 * while the matching vendor gets none (FACTS §8). */
START_TEST(test_launch_security_vendor)
{
	static const struct {
		const struct host *host;
		const struct vm *vm;
		bool error;
	} cases[] = {
		{ &h_intel_612, &vm_tdx, false },
		{ &h_amd_612, &vm_tdx, true },
		{ &h_arm_69, &vm_tdx, true },
		{ &h_amd_612, &vm_snp, false },
		{ &h_intel_612, &vm_snp, true },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ struct plan *p = decide(cases[i].host, cases[i].vm, NULL);

		ck_assert_msg(has_error(p, "launch-security-unsupported") == cases[i].error,
			      "case %zu", i);
		ck_assert_msg(!cases[i].error || find_trace(p, "cvm.vendor"), "case %zu: no trace", i);
	}
}
END_TEST

/* Non-coherent DMA makes KVM honor guest PAT only with EPT (FACTS §2); on
 * AMD and under shadow paging it only makes KVM emulate WBINVD. */
START_TEST(test_noncoherent_effect)
{
	static const struct {
		const struct host *host;
		bool honors_pat;
	} cases[] = {
		{ &h_intel_612, true },
		{ &h_intel_shadow, false },
		{ &h_amd_shadow, false },
		{ &h_amd_612, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ struct plan *p = decide(cases[i].host, &vm_noiommu_nic, NULL);
		const char *w = warning_text(p, "noncoherent-dma");

		ck_assert_msg(w, "case %zu: no noncoherent-dma warning", i);
		ck_assert_msg(!!strstr(w, "honors guest PAT") == cases[i].honors_pat, "case %zu: '%s'", i, w);
		ck_assert_msg(strstr(w, "WBINVD"), "case %zu: '%s'", i, w);
	}
}
END_TEST

/* An operator setting for IGNORE_GUEST_PAT that the host makes moot still
 * shows in the trace with its file:line. */
START_TEST(test_pat_moot_setting_traced)
{
	const struct host *hosts[] = { &h_amd_612, &h_arm_69 };

	for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
		_cleanup_free_ struct plan *p = decide(hosts[i], &vm_plain, &pol_pat_disable);
		const struct plan_trace *t = find_trace(p, "quirk.operator.moot");

		ck_assert_msg(t, "host %zu: operator setting not traced", i);
		ck_assert_ptr_nonnull(strstr(t->outcome, "10-pat.json:4"));
		ck_assert_int_eq(find_quirk(p, PAT)->action, NA);
	}
}
END_TEST

START_TEST(test_device_fields)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_gpu_and_mdev, NULL);

	ck_assert_uint_eq(p->n_devices, 2);
	ck_assert_int_eq(p->devices[0].kind, PLAN_DEVICE_PCI);
	ck_assert(p->devices[0].found);
	ck_assert_str_eq(p->devices[0].bdf, "0000:01:00.0");
	ck_assert_uint_eq(p->devices[0].vendor_id, 0x10de);
	ck_assert_uint_eq(p->devices[0].device_id, 0x2204);
	ck_assert_uint_eq(p->devices[0].class_code, 0x030000);
	ck_assert_str_eq(p->devices[0].iommu_unit, "dmar1");
	ck_assert_int_eq(p->devices[1].kind, PLAN_DEVICE_MDEV);
	ck_assert_str_eq(p->devices[1].mdev_uuid, "4b20d080-1b54-4048-85b3-a6a62d165c01");
	ck_assert_str_eq(p->devices[1].bdf, "");
	ck_assert(!p->devices[1].found);
	ck_assert_uint_eq(p->devices[1].n_bars, 0);
}
END_TEST

/* Functions out of BDF order: the lookup must still find every one. */
START_TEST(test_lookup_unsorted)
{
	struct pci_function unsorted[] = {
		{ .bdf = "0000:05:00.0" }, { .bdf = "0000:01:00.0" }, { .bdf = "0000:03:00.0" },
		{ .bdf = "0000:00:02.0" }, { .bdf = "0001:00:00.0" },
	};
	struct host h = { .functions = unsorted, .n_functions = ELEMENTSOF(unsorted) };

	for (size_t i = 0; i < ELEMENTSOF(unsorted); i++)
		ck_assert_ptr_eq(host_lookup_function(&h, unsorted[i].bdf), &unsorted[i]);
	ck_assert_ptr_eq(host_lookup_function(&h, "00:02.0"), &unsorted[3]);
	ck_assert_ptr_eq(host_lookup_function(&h, "0000:00:02.0"), &unsorted[3]);
	ck_assert_ptr_eq(host_lookup_function(&h, "0000:00:02.0"), host_find_function(&h, "0000:00:02.0"));
	ck_assert_ptr_null(host_lookup_function(&h, "0000:09:00.0"));
	ck_assert_ptr_null(host_lookup_function(&h, "0000:00:20.0"));
	ck_assert_ptr_null(host_lookup_function(&h, "garbage"));
	ck_assert_ptr_null(host_lookup_function(&h, NULL));
	/* sorted: binary search */
	ck_assert_ptr_eq(host_lookup_function(&h_intel_612, "0000:04:00.0"), &functions[3]);
	ck_assert_ptr_eq(host_lookup_function(&h_intel_612, "0000:01:00.0"), &functions[0]);
}
END_TEST

/* ----- BAR table ------------------------------------------------------------- */

static const struct plan_bar *find_bar(const struct plan_device *d, unsigned index)
{
	for (unsigned i = 0; i < d->n_bars; i++)
		if (d->bars[i].index == index)
			return &d->bars[i];
	return NULL;
}

struct bar_case {
	const char *name;
	const struct host *host;
	const struct vm *vm;
	const struct operator_policy *pol;
	unsigned index;
	enum bar_memtype memtype;
	bool wc_possible;
	const char *reason;
};

static const struct operator_policy pol_no_wc = {
	.mode = POLICY_MODE_BALANCED,
	LIST(device_rules, struct device_rule,
	     { .match_id = true, .vendor_id = 0x10de, .device_id = 0x2204, .noncoherent = MT_UNKNOWN,
	       .allow_wc = MT_NO, .origin = ORIGIN("/etc/memtype/policy.d/50-wc.json", 3) }),
};

static const struct bar_case bar_cases[] = {
	{ "non-prefetchable + MSI-X", &h_intel_612, &vm_gpu, NULL, 0, BAR_MEMTYPE_UC, false, "side effects" },
	{ "prefetchable 64-bit", &h_intel_612, &vm_gpu, NULL, 1, BAR_MEMTYPE_GUEST_PAT, true, "guest PAT" },
	{ "prefetchable on AMD", &h_amd_612, &vm_gpu, NULL, 3, BAR_MEMTYPE_GUEST_PAT, true, NULL },
	{ "prefetchable, Intel shadow paging", &h_intel_shadow, &vm_gpu, NULL, 1, BAR_MEMTYPE_UC, false, "shadow paging" },
	{ "prefetchable, AMD shadow paging", &h_amd_shadow, &vm_gpu, NULL, 3, BAR_MEMTYPE_UC, false, "shadow paging" },
	{ "I/O BAR", &h_intel_612, &vm_gpu, NULL, 5, BAR_MEMTYPE_IO, false, "I/O port" },
	{ "prefetchable with the PBA", &h_intel_612, &vm_nc, NULL, 2, BAR_MEMTYPE_GUEST_PAT, false, "MSI-X" },
	{ "operator forbids WC", &h_intel_612, &vm_gpu, &pol_no_wc, 1, BAR_MEMTYPE_GUEST_PAT, false, "operator" },
	{ "arm64 6.9 prefetchable", &h_arm_69, &vm_gpu, NULL, 1, BAR_MEMTYPE_NORMAL_NC, true, "Normal-NC" },
	{ "arm64 6.9 non-prefetchable", &h_arm_69, &vm_gpu, NULL, 0, BAR_MEMTYPE_NORMAL_NC, false, NULL },
	{ "arm64 6.8", &h_arm_68, &vm_gpu, NULL, 1, BAR_MEMTYPE_DEVICE, false, "before 6.9" },
};

START_TEST(test_bar_rules)
{
	const struct bar_case *c = &bar_cases[_i];
	_cleanup_free_ struct plan *p = decide(c->host, c->vm, c->pol);
	const struct plan_bar *b;

	ck_assert_uint_eq(p->n_devices, 1);
	b = find_bar(&p->devices[0], c->index);
	ck_assert_msg(b, "%s: BAR %u missing", c->name, c->index);
	ck_assert_msg(b->memtype == c->memtype, "%s: memtype %s", c->name, bar_memtype_to_string(b->memtype));
	ck_assert_msg(b->wc_possible == c->wc_possible, "%s: wc %d", c->name, b->wc_possible);
	ck_assert_msg(!c->reason || strstr(b->reason, c->reason), "%s: reason '%s'", c->name, b->reason);
	ck_assert(!bar_memtype_is_cacheable(b->memtype));
}
END_TEST

START_TEST(test_bar_table_shape)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_gpu, &pol_no_wc);
	const struct plan_device *d = &p->devices[0];
	const struct plan_trace *t = find_trace(p, "bar.operator.no-wc");

	/* BARs 2 and 4 are absent (upper halves of 64-bit BARs): not listed. */
	ck_assert_uint_eq(d->n_bars, 4);
	ck_assert_uint_eq(d->bars[0].index, 0);
	ck_assert_uint_eq(d->bars[1].index, 1);
	ck_assert_uint_eq(d->bars[2].index, 3);
	ck_assert_uint_eq(d->bars[3].index, 5);
	ck_assert_uint_eq(d->bars[1].size, 16ULL << 30);
	ck_assert(d->bars[1].prefetchable && d->bars[1].is_64bit);
	ck_assert(d->bars[3].is_io);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(strstr(t->outcome, "50-wc.json:3"));
}
END_TEST

/* ----- emulated RAM-backed regions -------------------------------------- */

static const struct vm vm_many_regions = {
	.name = "regions", .domain_type = "kvm", .virtio_gpu_hostmem = true, .hostmem_bytes = 1ULL << 30,
	LIST(videos, struct vm_video, { .model = VIDEO_MODEL_QXL, .primary = true, .vram_kib = 65536 },
	     { .model = VIDEO_MODEL_VIRTIO }, { .model = VIDEO_MODEL_VMVGA }),
	LIST(shmems, struct vm_shmem, { .name = "looking-glass", .model = "ivshmem-plain", .size_bytes = 32 << 20 }),
};

struct emulated_case {
	const char *name;
	const struct host *host;
	const struct vm *vm;
	const struct operator_policy *pol;
	enum bar_memtype memtype;      /* of every region */
};

static const struct emulated_case emulated_cases[] = {
	{ "Intel, quirk kept", &h_intel_612, &vm_bochs, NULL, BAR_MEMTYPE_FORCED_WB },
	{ "Intel, quirk disabled", &h_intel_612, &vm_many_regions, NULL, BAR_MEMTYPE_GUEST_PAT },
	{ "Intel 6.1, quirk missing", &h_intel_61, &vm_many_regions, NULL, BAR_MEMTYPE_FORCED_WB },
	{ "Intel, LG not opted in", &h_intel_612, &vm_lg, NULL, BAR_MEMTYPE_FORCED_WB },
	{ "Intel, LG opted in", &h_intel_612, &vm_lg, &pol_lg_rule, BAR_MEMTYPE_GUEST_PAT },
	{ "AMD", &h_amd_612, &vm_bochs, NULL, BAR_MEMTYPE_GUEST_PAT },
	{ "AMD shadow paging", &h_amd_shadow, &vm_bochs, NULL, BAR_MEMTYPE_FORCED_WB },
	{ "Intel shadow paging, non-coherent", &h_intel_shadow, &vm_hostmem_nc, NULL, BAR_MEMTYPE_FORCED_WB },
	{ "TDX", &h_intel_612, &vm_tdx_bochs, NULL, BAR_MEMTYPE_GUEST_PAT },
};

START_TEST(test_emulated_rules)
{
	const struct emulated_case *c = &emulated_cases[_i];
	_cleanup_free_ struct plan *p = decide(c->host, c->vm, c->pol);

	ck_assert_uint_gt(p->n_emulated, 0);
	for (unsigned i = 0; i < p->n_emulated; i++) {
		ck_assert_msg(p->emulated[i].memtype == c->memtype, "%s: %s is %s", c->name,
			      p->emulated[i].device, bar_memtype_to_string(p->emulated[i].memtype));
		ck_assert(p->emulated[i].wc_possible == (c->memtype == BAR_MEMTYPE_GUEST_PAT));
		ck_assert_uint_gt(strlen(p->emulated[i].reason), 0);
	}
}
END_TEST

START_TEST(test_emulated_noncoherent)
{
	/* Non-coherent DMA makes KVM honor guest PAT with the quirk kept. */
	const struct vm vm_bochs_nc = {
		.name = "bochs-nc", .domain_type = "kvm",
		LIST(videos, struct vm_video, { .model = VIDEO_MODEL_BOCHS, .primary = true }),
		LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:02:00.0")),
	};
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_bochs_nc, NULL);

	ck_assert_int_eq(find_quirk(p, PAT)->action, KEEP);
	ck_assert_uint_eq(p->n_emulated, 1);
	ck_assert_int_eq(p->emulated[0].memtype, BAR_MEMTYPE_GUEST_PAT);
	ck_assert_ptr_nonnull(strstr(p->emulated[0].reason, "non-coherent"));
}
END_TEST

START_TEST(test_emulated_list)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_many_regions, NULL);

	/* qxl and vga have VRAM, virtio has none; then hostmem, then shmem. */
	ck_assert_uint_eq(p->n_emulated, 4);
	ck_assert_str_eq(p->emulated[0].device, "video0");
	ck_assert_str_eq(p->emulated[0].model, "qxl");
	ck_assert_str_eq(p->emulated[0].region, "vram");
	ck_assert_uint_eq(p->emulated[0].size, 64ULL << 20);
	ck_assert_str_eq(p->emulated[1].device, "video2");
	ck_assert_str_eq(p->emulated[1].model, "vmvga");
	ck_assert_uint_eq(p->emulated[1].size, 0);
	ck_assert_str_eq(p->emulated[2].region, "hostmem");
	ck_assert_uint_eq(p->emulated[2].size, 1ULL << 30);
	ck_assert_str_eq(p->emulated[3].device, "shmem:looking-glass");
	ck_assert_str_eq(p->emulated[3].model, "ivshmem-plain");
	ck_assert_str_eq(p->emulated[3].region, "shmem");
}
END_TEST

/* ----- invariants ------------------------------------------------------------ */

static void break_bar_cacheable(struct plan *p)
{
	p->devices[0].bars[1].memtype = BAR_MEMTYPE_FORCED_WB;
}

static void break_mask_mismatch(struct plan *p)
{
	p->disable_quirks_mask |= 1ULL << KVM_QUIRK_SLOT_ZAP_ALL;
}

static void break_action_without_mask(struct plan *p)
{
	p->disable_quirks_mask = 0;
}

static void break_unsupported(struct plan *p)
{
	p->kvm_supported_quirks &= ~(1ULL << PAT);
}

static void break_unknown(struct plan *p)
{
	p->kvm_quirks_known = false;
	p->kvm_supported_quirks = 0;
}

static void break_tdx(struct plan *p)
{
	p->launch_security = LAUNCH_SECURITY_TDX;
}

static void break_duplicate(struct plan *p)
{
	p->quirks[1] = p->quirks[0];
}

static void break_count(struct plan *p)
{
	p->n_devices = PLAN_MAX_DEVICES + 1;
}

static void break_bars_count(struct plan *p)
{
	p->devices[0].n_bars = PCI_BAR_COUNT + 1;
}

static void break_bit_range(struct plan *p)
{
	p->quirks[1].bit = MT_QUIRK_BITS;
}

static const struct invariant_case {
	const char *name;
	void (*breaker)(struct plan *p);
	const char *why;
} invariant_cases[] = {
	{ "host MMIO cacheable", break_bar_cacheable, "host MMIO planned cacheable" },
	{ "mask without action", break_mask_mismatch, "does not match" },
	{ "action without mask", break_action_without_mask, "does not match" },
	{ "unsupported quirk", break_unsupported, "does not report supported" },
	{ "unknown KVM", break_unknown, "unknown" },
	{ "TDX", break_tdx, "TDX" },
	{ "quirk listed twice", break_duplicate, "listed twice" },
	{ "device count", break_count, "capacity" },
	{ "BAR count", break_bars_count, "capacity" },
	{ "bit out of range", break_bit_range, "out of range" },
};

START_TEST(test_invariants)
{
	const struct invariant_case *c = &invariant_cases[_i];
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_hostmem_nc, NULL);
	char why[PLAN_TEXT];

	/* The good plan this starts from disables bit 9 and lists a BAR. */
	ck_assert_uint_eq(p->disable_quirks_mask, 1ULL << PAT);
	ck_assert_uint_ge(p->n_quirks, 2);
	ck_assert_int_eq(policy_check_invariants(p, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	c->breaker(p);
	ck_assert_int_eq(policy_check_invariants(p, why, sizeof(why)), -EPROTO);
	ck_assert_msg(strstr(why, c->why), "%s: why '%s'", c->name, why);
	ck_assert_int_eq(policy_check_invariants(p, NULL, 0), -EPROTO);
}
END_TEST

START_TEST(test_fail_safe)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm_hostmem_nc, NULL);
	char why[PLAN_TEXT];

	break_bar_cacheable(p);
	ck_assert_int_eq(policy_check_invariants(p, why, sizeof(why)), -EPROTO);
	plan_fail_safe(p, why);
	ck_assert_int_eq(policy_check_invariants(p, why, sizeof(why)), 0);
	ck_assert_uint_eq(p->disable_quirks_mask, 0);
	for (unsigned i = 0; i < p->n_quirks; i++)
		ck_assert_int_ne(p->quirks[i].action, DISABLE);
	ck_assert_int_eq(find_quirk(p, PAT)->action, KEEP);
	ck_assert(has_error(p, "internal-invariant"));
	ck_assert_ptr_nonnull(strstr(p->errors[p->n_errors - 1].message, "host MMIO"));
	ck_assert(!bar_memtype_is_cacheable(p->devices[0].bars[1].memtype));
}
END_TEST

START_TEST(test_no_reenable)
{
	_cleanup_free_ struct plan *before = decide(&h_intel_612, &vm_hostmem, NULL);
	_cleanup_free_ struct plan *same = decide(&h_intel_612, &vm_hostmem, NULL);
	_cleanup_free_ struct plan *after = decide(&h_intel_612, &vm_plain, NULL);
	_cleanup_free_ struct plan *more = decide(&h_intel_612, &vm_hostmem, &pol_hypercall_disable);
	char why[PLAN_TEXT];

	ck_assert_uint_eq(before->disable_quirks_mask, 1ULL << PAT);
	ck_assert_int_eq(policy_check_no_reenable(before, same, why, sizeof(why)), 0);
	ck_assert_int_eq(policy_check_no_reenable(before, more, why, sizeof(why)), 0);
	ck_assert_int_eq(policy_check_no_reenable(after, before, why, sizeof(why)), 0);
	ck_assert_int_eq(policy_check_no_reenable(before, after, why, sizeof(why)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(why, "IGNORE_GUEST_PAT"));
	ck_assert_int_eq(policy_check_no_reenable(more, before, why, sizeof(why)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(why, "FIX_HYPERCALL_INSN"));
	ck_assert_int_eq(policy_check_no_reenable(NULL, before, why, sizeof(why)), -EINVAL);
}
END_TEST

/* ----- capacity and bad arguments ----------------------------------------- */

START_TEST(test_truncation)
{
	struct vm_hostdev devs[PLAN_MAX_DEVICES + 6];
	struct vm vm = { .name = "big", .domain_type = "kvm", .hostdevs = devs,
			 .n_hostdevs = ELEMENTSOF(devs) };
	_cleanup_free_ struct plan *p = NULL;

	for (size_t i = 0; i < ELEMENTSOF(devs); i++) {
		devs[i] = (struct vm_hostdev){ .kind = VM_HOSTDEV_PCI };
		strcpy(devs[i].bdf, i % 2 ? "0000:01:00.0" : "0000:02:00.0");
	}
	p = decide(&h_intel_612, &vm, NULL);
	ck_assert_uint_eq(p->n_devices, PLAN_MAX_DEVICES);
	ck_assert(p->truncated);
	ck_assert(has_error(p, "too-many-devices"));
	ck_assert_uint_le(p->n_warnings, PLAN_MAX_DIAGS);
	ck_assert_uint_le(p->n_trace, PLAN_MAX_TRACE);

	vm.n_hostdevs = 2;
	free(p);
	p = decide(&h_intel_612, &vm, NULL);
	ck_assert(!p->truncated);
	ck_assert(!has_error(p, "too-many-devices"));
}
END_TEST

START_TEST(test_truncation_regions)
{
	struct vm_shmem shmems[PLAN_MAX_EMULATED + 3];
	struct vm vm = { .name = "shm", .domain_type = "kvm", .shmems = shmems,
			 .n_shmems = ELEMENTSOF(shmems) };
	_cleanup_free_ struct plan *p = NULL;

	for (size_t i = 0; i < ELEMENTSOF(shmems); i++) {
		shmems[i] = (struct vm_shmem){ .size_bytes = 1 << 20 };
		snprintf(shmems[i].name, sizeof(shmems[i].name), "shm%zu", i);
		strcpy(shmems[i].model, "ivshmem-plain");
	}
	p = decide(&h_intel_612, &vm, NULL);
	ck_assert_uint_eq(p->n_emulated, PLAN_MAX_EMULATED);
	ck_assert(p->truncated);
	ck_assert(plan_has_warning(p, "too-many-regions"));
	ck_assert_str_eq(p->emulated[PLAN_MAX_EMULATED - 1].device, "shmem:shm15");

	vm.n_shmems = 2;
	free(p);
	p = decide(&h_intel_612, &vm, NULL);
	ck_assert(!p->truncated);
	ck_assert_uint_eq(p->n_emulated, 2);
}
END_TEST

START_TEST(test_bad_arguments)
{
	_cleanup_free_ struct plan *p = plan_new();
	char *text = NULL;
	struct json_object *j = NULL;

	ck_assert_int_eq(policy_decide(NULL, &vm_plain, NULL, p), -EINVAL);
	ck_assert_int_eq(policy_decide(&h_intel_612, NULL, NULL, p), -EINVAL);
	ck_assert_int_eq(policy_decide(&h_intel_612, &vm_plain, NULL, NULL), -EINVAL);
	ck_assert_int_eq(policy_check_invariants(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(plan_to_json(NULL, &j), -EINVAL);
	ck_assert_int_eq(plan_explain(NULL, &text), -EINVAL);
	/* A plan with impossible counts is refused, not walked. */
	ck_assert_int_eq(policy_decide(&h_intel_612, &vm_plain, NULL, p), 0);
	p->n_trace = PLAN_MAX_TRACE + 1;
	ck_assert_int_eq(plan_to_json(p, &j), -EINVAL);
	ck_assert_ptr_null(j);
	ck_assert_int_eq(plan_explain(p, &text), -EINVAL);
	ck_assert_ptr_null(text);
}
END_TEST

START_TEST(test_plan_header)
{
	_cleanup_free_ struct plan *p = NULL;
	static const struct vm vm_named = { .name = "win11", .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809",
					    .domain_type = "kvm" };
	struct host h = h_intel_612;

	snprintf(h.kernel_release, sizeof(h.kernel_release), "6.12.117+deb12-amd64");
	p = decide(&h, &vm_named, &pol_vm_perf);
	ck_assert_str_eq(p->vm_name, "win11");
	ck_assert_str_eq(p->vm_uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
	ck_assert_str_eq(p->kernel, "6.12.117+deb12-amd64");
	ck_assert_int_eq(p->cpu_vendor, CPU_VENDOR_INTEL);
	ck_assert(p->self_snoop);
	ck_assert(p->kvm_quirks_known);
	ck_assert_uint_eq(p->kvm_supported_quirks, 0x7ff);
	/* the per-VM rule names "plain", not this VM */
	ck_assert_int_eq(p->mode, POLICY_MODE_BALANCED);
	ck_assert(!p->strict);
	free(p);
	p = decide(&h_intel_612, &vm_plain, &pol_vm_perf);
	ck_assert_int_eq(p->mode, POLICY_MODE_PERFORMANCE);
	ck_assert(p->strict);
	ck_assert_str_eq(p->kernel, "6.12.0");
	ck_assert_ptr_nonnull(find_trace(p, "policy.mode"));
	ck_assert_ptr_nonnull(strstr(find_trace(p, "policy.mode")->outcome, "30-vm.json:3"));
	free(p);
	p = decide(&h_intel_nokernel, &vm_plain, NULL);
	ck_assert_str_eq(p->kernel, "");
	ck_assert_ptr_null(find_trace(p, "policy.mode"));
}
END_TEST

/* ----- JSON ------------------------------------------------------------------- */

static struct json_object *get(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "key %s missing", key);
	ck_assert_msg(json_object_is_type(v, type), "key %s has type %s", key,
		      json_type_to_name(json_object_get_type(v)));
	return v;
}

static const char *get_str(struct json_object *o, const char *key)
{
	return json_object_get_string(get(o, key, json_type_string));
}

/* Serialise and parse back: what a client sees. */
static struct json_object *plan_json_roundtrip(const struct plan *p)
{
	struct json_object *j = NULL, *back;

	ck_assert_int_eq(plan_to_json(p, &j), 0);
	back = json_tokener_parse(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	ck_assert_ptr_nonnull(back);
	return back;
}

static void check_quirk_json(struct json_object *q)
{
	struct json_object *rules = get(q, "rules", json_type_array);
	int bit = json_object_get_int(get(q, "bit", json_type_int));

	ck_assert_str_eq(get_str(q, "name"), kvm_quirk_name((unsigned)bit));
	ck_assert(strstr("n/a keep disable", get_str(q, "action")));
	ck_assert_uint_gt(strlen(get_str(q, "reason")), 0);
	ck_assert_uint_gt(json_object_array_length(rules), 0);
	ck_assert(json_object_is_type(json_object_array_get_idx(rules, 0), json_type_string));
}

static void check_bar_json(struct json_object *b)
{
	get(b, "index", json_type_int);
	get(b, "size", json_type_int);
	get(b, "prefetchable", json_type_boolean);
	get(b, "wc_possible", json_type_boolean);
	ck_assert_uint_gt(strlen(get_str(b, "memtype")), 0);
	ck_assert_uint_gt(strlen(get_str(b, "reason")), 0);
}

START_TEST(test_json_shape)
{
	const struct vm vm = {
		.name = "win11", .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809", .domain_type = "kvm",
		.virtio_gpu_hostmem = true,
		LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:01:00.0"),
		     { .kind = VM_HOSTDEV_MDEV, .mdev_uuid = "4b20d080-1b54-4048-85b3-a6a62d165c01" }),
		LIST(videos, struct vm_video, { .model = VIDEO_MODEL_QXL, .primary = true }),
	};
	_cleanup_free_ struct plan *p = decide(&h_intel_612, &vm, NULL);
	struct json_object *j = plan_json_roundtrip(p), *host, *names, *quirks, *devs, *dev, *bars, *w, *t, *m;
	bool saw_pat = false;

	ck_assert_str_eq(get_str(j, "schema"), "memtype.plan/1");
	ck_assert_str_eq(get_str(get(j, "vm", json_type_object), "name"), "win11");
	ck_assert_str_eq(get_str(get(j, "vm", json_type_object), "uuid"), "c7a5fdbd-edaf-9455-926a-d65c16db1809");
	host = get(j, "host", json_type_object);
	ck_assert_str_eq(get_str(host, "cpu_vendor"), "intel");
	ck_assert(json_object_get_boolean(get(host, "self_snoop", json_type_boolean)));
	ck_assert_str_eq(get_str(host, "kernel"), "6.12.0");
	names = get(host, "kvm_supported_quirks", json_type_array);
	ck_assert_uint_eq(json_object_array_length(names), 11);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(names, 0)), "LINT0_REENABLED");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(names, 9)), "IGNORE_GUEST_PAT");
	ck_assert(json_object_get_boolean(get(j, "noncoherent_dma", json_type_boolean)));
	ck_assert_str_eq(get_str(j, "disable_quirks_mask"), "0x200");
	ck_assert_str_eq(get_str(j, "mode"), "balanced");
	get(j, "strict", json_type_boolean);
	get(j, "kvm_quirks_known", json_type_boolean);
	get(j, "truncated", json_type_boolean);

	quirks = get(j, "quirks", json_type_array);
	ck_assert_uint_eq(json_object_array_length(quirks), p->n_quirks);
	for (size_t i = 0; i < json_object_array_length(quirks); i++) {
		struct json_object *q = json_object_array_get_idx(quirks, i);

		check_quirk_json(q);
		if (streq(get_str(q, "name"), "IGNORE_GUEST_PAT")) {
			saw_pat = true;
			ck_assert_int_eq(json_object_get_int(get(q, "bit", json_type_int)), 9);
			ck_assert_str_eq(get_str(q, "action"), "disable");
		}
	}
	ck_assert(saw_pat);

	devs = get(j, "devices", json_type_array);
	ck_assert_uint_eq(json_object_array_length(devs), 2);
	dev = json_object_array_get_idx(devs, 0);
	ck_assert_str_eq(get_str(dev, "bdf"), "0000:01:00.0");
	ck_assert_str_eq(get_str(dev, "id"), "10de:2204");
	ck_assert_str_eq(get_str(dev, "class"), "0300");
	ck_assert_str_eq(get_str(dev, "iommu_unit"), "dmar1");
	ck_assert_str_eq(get_str(dev, "kind"), "pci");
	ck_assert(json_object_get_boolean(get(dev, "snoop_control", json_type_boolean)));
	ck_assert(!json_object_get_boolean(get(dev, "noncoherent", json_type_boolean)));
	ck_assert(!json_object_get_boolean(get(dev, "nosnoop_enabled", json_type_boolean)));
	bars = get(dev, "bars", json_type_array);
	ck_assert_uint_eq(json_object_array_length(bars), 4);
	for (size_t i = 0; i < json_object_array_length(bars); i++)
		check_bar_json(json_object_array_get_idx(bars, i));
	ck_assert_int_eq(json_object_get_int64(get(json_object_array_get_idx(bars, 1), "size", json_type_int)),
			 16LL << 30);
	ck_assert_str_eq(get_str(json_object_array_get_idx(bars, 1), "memtype"), "guest-pat");
	/* the mdev: no address, ids or unit: null */
	dev = json_object_array_get_idx(devs, 1);
	ck_assert_str_eq(get_str(dev, "kind"), "mdev");
	ck_assert_str_eq(get_str(dev, "mdev_uuid"), "4b20d080-1b54-4048-85b3-a6a62d165c01");
	get(dev, "bdf", json_type_null);
	get(dev, "id", json_type_null);
	get(dev, "iommu_unit", json_type_null);
	get(dev, "snoop_control", json_type_null);
	ck_assert(json_object_get_boolean(get(dev, "noncoherent", json_type_boolean)));

	m = get(j, "emulated", json_type_array);
	ck_assert_uint_eq(json_object_array_length(m), 2);
	ck_assert_str_eq(get_str(json_object_array_get_idx(m, 0), "region"), "vram");
	ck_assert_str_eq(get_str(json_object_array_get_idx(m, 1), "memtype"), "guest-pat");

	w = get(j, "warnings", json_type_array);
	ck_assert_uint_eq(json_object_array_length(w), p->n_warnings);
	ck_assert_uint_gt(p->n_warnings, 0);
	for (size_t i = 0; i < json_object_array_length(w); i++) {
		ck_assert_uint_gt(strlen(get_str(json_object_array_get_idx(w, i), "code")), 0);
		ck_assert_uint_gt(strlen(get_str(json_object_array_get_idx(w, i), "message")), 0);
	}
	ck_assert_uint_eq(json_object_array_length(get(j, "errors", json_type_array)), 0);
	t = get(j, "trace", json_type_array);
	ck_assert_uint_eq(json_object_array_length(t), p->n_trace);
	for (size_t i = 0; i < json_object_array_length(t); i++) {
		struct json_object *e = json_object_array_get_idx(t, i);

		get_str(e, "rule");
		ck_assert(strncmp(get_str(e, "fact"), "FACTS §", strlen("FACTS §")) == 0);
		get_str(e, "outcome");
	}
	json_object_put(j);
}
END_TEST

START_TEST(test_json_unknowns)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_unknown, &vm_missing, NULL);
	struct json_object *j = plan_json_roundtrip(p), *dev, *e;

	get(get(j, "host", json_type_object), "kvm_supported_quirks", json_type_null);
	ck_assert(!json_object_get_boolean(get(j, "kvm_quirks_known", json_type_boolean)));
	ck_assert_str_eq(get_str(j, "disable_quirks_mask"), "0x0");
	get(j, "vm", json_type_object);
	get(get(j, "vm", json_type_object), "uuid", json_type_null);
	dev = json_object_array_get_idx(get(j, "devices", json_type_array), 0);
	ck_assert_str_eq(get_str(dev, "bdf"), "0000:09:00.0");
	get(dev, "id", json_type_null);
	get(dev, "class", json_type_null);
	ck_assert(!json_object_get_boolean(get(dev, "found", json_type_boolean)));
	e = json_object_array_get_idx(get(j, "errors", json_type_array), 0);
	ck_assert_str_eq(get_str(e, "code"), "device-not-found");
	ck_assert_ptr_nonnull(strstr(get_str(e, "message"), "0000:09:00.0"));
	json_object_put(j);

	/* a supported bit newer than this build is still shown */
	{
		struct host h = h_intel_612;
		_cleanup_free_ struct plan *q = NULL;
		struct json_object *names;

		h.kvm.supported_quirks = 0x1200;
		q = decide(&h, &vm_plain, NULL);
		j = plan_json_roundtrip(q);
		names = get(get(j, "host", json_type_object), "kvm_supported_quirks", json_type_array);
		ck_assert_uint_eq(json_object_array_length(names), 2);
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(names, 0)), "IGNORE_GUEST_PAT");
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(names, 1)), "BIT_12");
		json_object_put(j);
	}
}
END_TEST

/* ----- explain ---------------------------------------------------------------- */

START_TEST(test_explain)
{
	const struct vm vm = {
		.name = "win11", .domain_type = "kvm", .virtio_gpu_hostmem = true,
		LIST(hostdevs, struct vm_hostdev, HOSTDEV("0000:02:00.0")),
		LIST(videos, struct vm_video, { .model = VIDEO_MODEL_BOCHS, .primary = true }),
	};
	_cleanup_free_ struct plan *p = decide(&h_intel_610, &vm, &pol_conservative);
	_cleanup_free_ char *text = NULL;
	static const char *const expected[] = {
		"VM win11 on host: intel CPU, kernel 6.10.0, self-snoop yes",
		"KVM quirks supported: LINT0_REENABLED CD_NW_CLEARED",
		"conservative mode",
		"Non-coherent DMA predicted: yes",
		"IGNORE_GUEST_PAT (bit 9): keep",
		"CD_NW_CLEARED (bit 1): disable",
		"[cdnw.intel.conservative]",
		"disable mask 0x2",
		"0000:02:00.0 [8086:a780] class 0300 behind dmar0 (snoop control no): non-coherent",
		"holds the MSI-X table/PBA",
		"[uc-display]",
		"[nosnoop-enabled]",
		"Errors: none",
		"dma.vtd.no-sc (FACTS §2)",
		"cdnw.intel.conservative (FACTS §1.2)",
		"memtype.json:2",
	};

	ck_assert_int_eq(plan_explain(p, &text), 0);
	for (size_t i = 0; i < ELEMENTSOF(expected); i++)
		ck_assert_msg(strstr(text, expected[i]), "explain lacks '%s':\n%s", expected[i], text);
	/* every trace line appears */
	for (unsigned i = 0; i < p->n_trace; i++)
		ck_assert_msg(strstr(text, p->trace[i].outcome), "trace %s missing", p->trace[i].rule);
}
END_TEST

START_TEST(test_explain_unknown)
{
	_cleanup_free_ struct plan *p = decide(&h_intel_unknown, &vm_hostmem, NULL);
	_cleanup_free_ char *text = NULL;

	ck_assert_int_eq(plan_explain(p, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "KVM quirks supported: unknown"));
	ck_assert_ptr_nonnull(strstr(text, "KVM state unknown: keeping KVM's defaults"));
	ck_assert_ptr_nonnull(strstr(text, "[kvm-unknown]"));
}
END_TEST

/* ----- overrides matcher -------------------------------------------------------- */

START_TEST(test_vm_rule_match)
{
	static const struct {
		struct vm_rule rule;
		const char *name, *uuid;
		bool match;
	} cases[] = {
		{ { .name_glob = "" }, "any", "", true },
		{ { .name_glob = "win*" }, "win11", NULL, true },
		{ { .name_glob = "win*" }, "linux", NULL, false },
		{ { .name_glob = "win?" }, "win11", NULL, false },
		{ { .name_glob = "[a-c]*" }, "build", NULL, true },
		{ { .uuid = "C7A5FDBD-EDAF-9455-926A-D65C16DB1809" }, "x", "c7a5fdbd-edaf-9455-926a-d65c16db1809", true },
		{ { .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809" }, "x", "00000000-edaf-9455-926a-d65c16db1809", false },
		{ { .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809" }, "x", NULL, false },
		{ { .name_glob = "win*", .uuid = "c7a5fdbd-edaf-9455-926a-d65c16db1809" }, "linux",
		  "c7a5fdbd-edaf-9455-926a-d65c16db1809", false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		ck_assert_msg(vm_rule_matches(&cases[i].rule, cases[i].name, cases[i].uuid) == cases[i].match,
			      "case %zu", i);
	ck_assert(!vm_rule_matches(NULL, "x", NULL));
}
END_TEST

START_TEST(test_vm_settings)
{
	const struct operator_policy pol = {
		.mode = POLICY_MODE_CONSERVATIVE, .mode_origin = ORIGIN("/etc/memtype/memtype.json", 1),
		.strict = true, .strict_origin = ORIGIN("/etc/memtype/memtype.json", 2),
		.quirks[PAT] = QUIRK_SETTING_KEEP, .quirk_origin[PAT] = ORIGIN("/etc/memtype/memtype.json", 3),
		LIST(vm_rules, struct vm_rule,
		     { .name_glob = "gpu-*", .has_mode = true, .mode = POLICY_MODE_PERFORMANCE,
		       .quirks[PAT] = QUIRK_SETTING_DISABLE, .honor_shared_memory = MT_YES, .strict = MT_NO,
		       .origin = ORIGIN("/etc/memtype/policy.d/a.json", 4) },
		     { .name_glob = "gpu-lg", .honor_shared_memory = MT_NO, .strict = MT_UNKNOWN,
		       .origin = ORIGIN("/etc/memtype/policy.d/b.json", 6) }),
	};
	struct vm_settings s;
	char buf[300];

	policy_vm_settings(&pol, "other", NULL, &s);
	ck_assert_int_eq(s.mode, POLICY_MODE_CONSERVATIVE);
	ck_assert_str_eq(policy_origin_format(s.mode_origin, buf, sizeof(buf)), "/etc/memtype/memtype.json:1");
	ck_assert(s.strict);
	ck_assert_uint_eq(s.strict_origin->line, 2);
	ck_assert_ptr_null(s.honor_shared_memory_origin);
	ck_assert_int_eq(s.quirks[PAT], QUIRK_SETTING_KEEP);
	ck_assert_uint_eq(s.quirk_origins[PAT]->line, 3);
	ck_assert_ptr_null(s.quirk_origins[CDNW]);
	ck_assert(!s.honor_shared_memory);

	policy_vm_settings(&pol, "gpu-1", NULL, &s);
	ck_assert_int_eq(s.mode, POLICY_MODE_PERFORMANCE);
	ck_assert_uint_eq(s.mode_origin->line, 4);
	ck_assert_int_eq(s.quirks[PAT], QUIRK_SETTING_DISABLE);
	ck_assert_str_eq(policy_origin_format(s.quirk_origins[PAT], buf, sizeof(buf)),
			 "/etc/memtype/policy.d/a.json:4");
	ck_assert(s.honor_shared_memory);
	ck_assert(!s.strict);
	ck_assert_uint_eq(s.strict_origin->line, 4);

	/* the later rule wins for what it sets, the earlier keeps the rest */
	policy_vm_settings(&pol, "gpu-lg", NULL, &s);
	ck_assert(!s.honor_shared_memory);
	ck_assert_str_eq(policy_origin_format(s.honor_shared_memory_origin, buf, sizeof(buf)),
			 "/etc/memtype/policy.d/b.json:6");
	ck_assert_int_eq(s.mode, POLICY_MODE_PERFORMANCE);

	policy_vm_settings(NULL, "x", NULL, &s);
	ck_assert_int_eq(s.mode, POLICY_MODE_BALANCED);
	ck_assert_ptr_null(s.mode_origin);
	ck_assert_str_eq(policy_origin_format(NULL, buf, sizeof(buf)), "built-in default");
}
END_TEST

START_TEST(test_device_rule_match)
{
	static const struct {
		struct device_rule rule;
		unsigned function;             /* index into functions[] */
		bool match;
	} cases[] = {
		{ { .match_id = true, .vendor_id = 0x10de, .device_id = 0x2204 }, 0, true },
		{ { .match_id = true, .vendor_id = 0x10de, .device_id = 0x2205 }, 0, false },
		{ { .match_id = true, .vendor_id = 0x10de, .device_id = 0xffff }, 0, true },
		{ { .match_id = true, .vendor_id = 0x8086, .device_id = 0xffff }, 0, false },
		{ { .match_class = true, .class_code = 0x030000, .class_mask = 0xff0000 }, 1, true },
		{ { .match_class = true, .class_code = 0x030000, .class_mask = 0xff0000 }, 2, false },
		{ { .match_class = true, .class_code = 0x020000, .class_mask = 0xffff00 }, 2, true },
		{ { .bdf = "0000:02:00.0" }, 1, true },
		{ { .bdf = "02:00.0" }, 1, true },
		{ { .bdf = "02:00.1" }, 1, false },
		{ { .bdf = "garbage" }, 1, false },
		{ { .match_id = true, .vendor_id = 0x8086, .device_id = 0xffff, .bdf = "0000:03:00.0" }, 1, false },
		{ { .match_id = true, .vendor_id = 0x8086, .device_id = 0xffff, .bdf = "0000:03:00.0" }, 2, true },
		{ { 0 }, 4, true },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		ck_assert_msg(device_rule_matches(&cases[i].rule, &functions[cases[i].function]) == cases[i].match,
			      "case %zu", i);
	ck_assert(!device_rule_matches(NULL, &functions[0]));
}
END_TEST

START_TEST(test_device_settings)
{
	struct device_settings s;

	policy_device_settings(&pol_gpu_nc, &functions[0], &s);
	ck_assert_int_eq(s.noncoherent, MT_YES);
	ck_assert_uint_eq(s.noncoherent_origin->line, 5);
	ck_assert_int_eq(s.allow_wc, MT_UNKNOWN);
	policy_device_settings(&pol_gpu_nc, &functions[1], &s);
	ck_assert_int_eq(s.noncoherent, MT_NO);
	ck_assert_uint_eq(s.noncoherent_origin->line, 2);
	policy_device_settings(&pol_gpu_nc, &functions[2], &s);
	ck_assert_int_eq(s.noncoherent, MT_UNKNOWN);
	ck_assert_ptr_null(s.noncoherent_origin);
	policy_device_settings(NULL, &functions[0], &s);
	ck_assert_int_eq(s.noncoherent, MT_UNKNOWN);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_quirk_names);
	tcase_add_test(tc, test_enum_strings);
	suite_add_tcase(s, tc);

	tc = tcase_create("overrides");
	tcase_add_test(tc, test_vm_rule_match);
	tcase_add_test(tc, test_vm_settings);
	tcase_add_test(tc, test_device_rule_match);
	tcase_add_test(tc, test_device_settings);
	suite_add_tcase(s, tc);

	tc = tcase_create("decide");
	tcase_add_loop_test(tc, test_quirk_rules, 0, ELEMENTSOF(quirk_cases));
	tcase_add_loop_test(tc, test_dma_rules, 0, ELEMENTSOF(dma_cases));
	tcase_add_test(tc, test_noncoherent_effect);
	tcase_add_test(tc, test_launch_security_vendor);
	tcase_add_test(tc, test_pat_moot_setting_traced);
	tcase_add_test(tc, test_device_fields);
	tcase_add_test(tc, test_lookup_unsorted);
	tcase_add_loop_test(tc, test_bar_rules, 0, ELEMENTSOF(bar_cases));
	tcase_add_test(tc, test_bar_table_shape);
	tcase_add_loop_test(tc, test_emulated_rules, 0, ELEMENTSOF(emulated_cases));
	tcase_add_test(tc, test_emulated_noncoherent);
	tcase_add_test(tc, test_emulated_list);
	tcase_add_test(tc, test_truncation);
	tcase_add_test(tc, test_truncation_regions);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_plan_header);
	suite_add_tcase(s, tc);

	tc = tcase_create("invariants");
	tcase_add_loop_test(tc, test_invariants, 0, ELEMENTSOF(invariant_cases));
	tcase_add_test(tc, test_fail_safe);
	tcase_add_test(tc, test_no_reenable);
	suite_add_tcase(s, tc);

	tc = tcase_create("output");
	tcase_add_test(tc, test_json_shape);
	tcase_add_test(tc, test_json_unknowns);
	tcase_add_test(tc, test_explain);
	tcase_add_test(tc, test_explain_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
