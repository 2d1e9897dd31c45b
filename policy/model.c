/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names and small helpers of the host/VM/policy model. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "model.h"

static const char *const cpu_vendor_names[] = {
	[CPU_VENDOR_OTHER] = "other",
	[CPU_VENDOR_INTEL] = "intel",
	[CPU_VENDOR_AMD] = "amd",
	[CPU_VENDOR_ARM64] = "arm64",
};

static const char *const iommu_kind_names[] = {
	[IOMMU_KIND_OTHER] = "other",
	[IOMMU_KIND_INTEL_VTD] = "intel-vtd",
	[IOMMU_KIND_AMD_VI] = "amd-vi",
	[IOMMU_KIND_ARM_SMMU] = "arm-smmu",
};

static const char *const video_model_names[] = {
	[VIDEO_MODEL_OTHER] = "other",
	[VIDEO_MODEL_VGA] = "vga",
	[VIDEO_MODEL_BOCHS] = "bochs",
	[VIDEO_MODEL_CIRRUS] = "cirrus",
	[VIDEO_MODEL_QXL] = "qxl",
	[VIDEO_MODEL_VMVGA] = "vmvga",
	[VIDEO_MODEL_VIRTIO] = "virtio",
	[VIDEO_MODEL_RAMFB] = "ramfb",
	[VIDEO_MODEL_NONE] = "none",
};

static const char *const launch_security_names[] = {
	[LAUNCH_SECURITY_NONE] = "none",
	[LAUNCH_SECURITY_SEV] = "sev",
	[LAUNCH_SECURITY_SEV_SNP] = "sev-snp",
	[LAUNCH_SECURITY_TDX] = "tdx",
	[LAUNCH_SECURITY_OTHER] = "other",
};

static const char *const policy_mode_names[] = {
	[POLICY_MODE_CONSERVATIVE] = "conservative",
	[POLICY_MODE_BALANCED] = "balanced",
	[POLICY_MODE_PERFORMANCE] = "performance",
};

static const char *const quirk_setting_names[] = {
	[QUIRK_SETTING_AUTO] = "auto",
	[QUIRK_SETTING_KEEP] = "keep",
	[QUIRK_SETTING_DISABLE] = "disable",
};

static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n || !names[v])
		return "invalid";
	return names[v];
}

static int index_of(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (names[i] && streq(names[i], s))
			return (int)i;
	return -EINVAL;
}

const char *cpu_vendor_to_string(enum cpu_vendor v)
{
	return name_of(cpu_vendor_names, ELEMENTSOF(cpu_vendor_names), v);
}

const char *iommu_kind_to_string(enum iommu_kind k)
{
	return name_of(iommu_kind_names, ELEMENTSOF(iommu_kind_names), k);
}

const char *video_model_to_string(enum video_model m)
{
	return name_of(video_model_names, ELEMENTSOF(video_model_names), m);
}

int video_model_from_string(const char *s)
{
	return index_of(video_model_names, ELEMENTSOF(video_model_names), s);
}

const char *launch_security_to_string(enum launch_security l)
{
	return name_of(launch_security_names, ELEMENTSOF(launch_security_names), l);
}

const char *policy_mode_to_string(enum policy_mode m)
{
	return name_of(policy_mode_names, ELEMENTSOF(policy_mode_names), m);
}

int policy_mode_from_string(const char *s)
{
	return index_of(policy_mode_names, ELEMENTSOF(policy_mode_names), s);
}

const char *quirk_setting_to_string(enum quirk_setting s)
{
	return name_of(quirk_setting_names, ELEMENTSOF(quirk_setting_names), s);
}

int quirk_setting_from_string(const char *s)
{
	return index_of(quirk_setting_names, ELEMENTSOF(quirk_setting_names), s);
}

const char *tristate_to_string(enum mt_tristate t)
{
	return t == MT_YES ? "yes" : t == MT_NO ? "no" : "unknown";
}

int kernel_version_cmp(const struct kernel_version *k, unsigned major, unsigned minor)
{
	if (k->major != major)
		return k->major < major ? -1 : 1;
	if (k->minor != minor)
		return k->minor < minor ? -1 : 1;
	return 0;
}

int kernel_version_parse(const char *release, struct kernel_version *ret)
{
	unsigned v[3] = { 0, 0, 0 };
	const char *p = release;
	int parts = 0;

	if (!release)
		return -EINVAL;
	while (parts < 3 && isdigit((unsigned char)*p)) {
		unsigned long n = 0;

		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (unsigned long)(*p - '0');
			if (n > 100000)
				return -EINVAL;
			p++;
		}
		v[parts++] = (unsigned)n;
		if (*p != '.')
			break;
		p++;
	}
	/* A release names at least major.minor ("6.1", "6.12.117+deb12-amd64"). */
	if (parts < 2 || v[0] == 0)
		return -EINVAL;
	ret->major = v[0];
	ret->minor = v[1];
	ret->patch = v[2];
	return 0;
}

int bdf_normalize(const char *in, char out[MT_BDF_MAX])
{
	unsigned dom = 0, bus, dev, fn;
	char tail;

	if (!in)
		return -EINVAL;
	if (sscanf(in, "%4x:%2x:%2x.%1u%c", &dom, &bus, &dev, &fn, &tail) == 4) {
		/* full form */
	} else if (sscanf(in, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) == 3) {
		dom = 0;
	} else
		return -EINVAL;
	if (dev > 0x1f || fn > 7 || strlen(in) > 12)
		return -EINVAL;
	snprintf(out, MT_BDF_MAX, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
	return 0;
}

const struct pci_function *host_find_function(const struct host *h, const char *bdf)
{
	char norm[MT_BDF_MAX];

	if (!h || bdf_normalize(bdf, norm) < 0)
		return NULL;
	for (size_t i = 0; i < h->n_functions; i++)
		if (streq(h->functions[i].bdf, norm))
			return &h->functions[i];
	return NULL;
}

const struct iommu_unit *host_find_iommu_unit(const struct host *h, const char *name)
{
	if (!h || !name || !*name)
		return NULL;
	for (size_t i = 0; i < h->n_iommu_units; i++)
		if (streq(h->iommu_units[i].name, name))
			return &h->iommu_units[i];
	return NULL;
}

void operator_policy_init(struct operator_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = POLICY_MODE_BALANCED;
	snprintf(p->mode_origin.file, sizeof(p->mode_origin.file), "built-in default");
}
