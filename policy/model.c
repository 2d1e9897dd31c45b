/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names and small helpers of the host/VM/policy model. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/macro.h"
#include "common/strtable.h"
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

/* The model's names print as "invalid" rather than NULL: they end up in
 * JSON and explanations, never parsed back. */
static const char *name_of(const char *const *names, size_t n, int v)
{
	const char *name = strtable_name(names, n, v);

	return name ? name : "invalid";
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
	return strtable_index(video_model_names, ELEMENTSOF(video_model_names), s);
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
	return strtable_index(policy_mode_names, ELEMENTSOF(policy_mode_names), s);
}

const char *quirk_setting_to_string(enum quirk_setting s)
{
	return name_of(quirk_setting_names, ELEMENTSOF(quirk_setting_names), s);
}

int quirk_setting_from_string(const char *s)
{
	return strtable_index(quirk_setting_names, ELEMENTSOF(quirk_setting_names), s);
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

/* 1 to max_digits hex digits at *p: the number of digits taken (*p moves
 * past them), 0 when there is none. sscanf's %x would also take a sign,
 * blanks and "0x", which no PCI address has. */
static unsigned take_hex(const char **p, unsigned max_digits, unsigned *ret)
{
	unsigned v = 0, n = 0;

	for (; n < max_digits && isxdigit((unsigned char)(*p)[n]); n++) {
		char c = (char)tolower((unsigned char)(*p)[n]);

		v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	*p += n;
	*ret = v;
	return n;
}

int bdf_normalize(const char *in, char out[MT_BDF_MAX])
{
	unsigned dom = 0, bus, dev, fn, first_digits;
	const char *p = in;

	if (!in)
		return -EINVAL;
	/* "domain:bus:device.function" or "bus:device.function" (domain 0).
	 * Domains go beyond 16 bits (Intel VMD numbers its own from 0x10000)
	 * but the kernel never makes one wider than 5 hex digits. */
	first_digits = take_hex(&p, 5, &bus);
	if (first_digits == 0 || *p != ':')
		return -EINVAL;
	p++;
	if (take_hex(&p, 2, &dev) == 0)
		return -EINVAL;
	if (*p == ':') {
		p++;
		dom = bus;
		bus = dev;
		if (take_hex(&p, 2, &dev) == 0)
			return -EINVAL;
	} else if (first_digits > 2)
		return -EINVAL;
	if (*p != '.')
		return -EINVAL;
	p++;
	if (take_hex(&p, 1, &fn) == 0 || *p != '\0' || dev > 0x1f || fn > 7)
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
