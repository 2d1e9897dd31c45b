/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mkroot: build a fixture host root (DESIGN.md "Host root") from a compact,
 * line-based description, with the files and symlinks that real sysfs and
 * procfs have, so that libpci, lspci and memtype's inventory read it like a
 * machine. The description language is documented in tests/roots/README.md.
 *
 * Usage: mkroot DESCRIPTION OUTDIR   (OUTDIR must not exist or be empty) */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/macro.h"

#define MAX_TOKENS 64
#define MAX_LINE 8192
#define MAX_INCLUDE_DEPTH 4
#define NBARS 6
#define TREE_PATH_MAX 1024             /* a device's path in the tree */
#define CFG_CONVENTIONAL 256
#define CFG_EXPRESS 4096

/* IORESOURCE_* bits as the kernel writes them into "resource" (FACTS §3). */
#define RES_IO 0x100ULL
#define RES_MEM 0x200ULL
#define RES_PREFETCH 0x2000ULL
#define RES_SIZEALIGN 0x40000ULL
#define RES_MEM_64 0x100000ULL

/* ----- the model a description builds ----------------------------------- */

enum bar_kind { BAR_NONE = 0, BAR_IO, BAR_MEM32, BAR_MEM64 };

struct bar {
	enum bar_kind kind;
	bool pref;
	bool fixed;                    /* addr= given in the description */
	uint64_t size, addr;
};

/* PCIe capability device/port type (PCIe Cap register bits 7:4). */
enum pcie_type {
	PCIE_NONE = -1,
	PCIE_ENDPOINT = 0,
	PCIE_LEGACY = 1,
	PCIE_ROOT_PORT = 4,
	PCIE_UPSTREAM = 5,
	PCIE_DOWNSTREAM = 6,
	PCIE_RCIEP = 9,
};

struct msix {
	bool present;
	unsigned count, table_bir, pba_bir;
	uint32_t table_off, pba_off;
};

struct sriov {
	bool present;
	unsigned total, num, offset, stride;
	uint16_t vf_device;
	struct bar vfbars[NBARS];      /* size is per VF, addr of VF 0 */
};

enum window { WIN_IO = 0, WIN_MEM, WIN_PREF, WIN_COUNT };

struct dev {
	char bdf[16];
	unsigned domain, bus, slot, fn;
	uint16_t vendor, device, sub_vendor, sub_device;
	uint32_t class_code;
	uint8_t rev;
	char driver[64];
	char iommu[32];
	int group;                     /* -1: none */
	int irq, numa;
	int pcie;                      /* enum pcie_type */
	unsigned link_gen, link_width;
	bool msi, pm, nosnoop, rebar, ari, multifunction;
	int secondary;                 /* bridges: secondary bus, else -1 */
	unsigned subordinate;
	unsigned config_size;          /* 0: by type */
	struct msix msix;
	struct sriov sriov;
	struct bar bars[NBARS];
	int physfn;                    /* index of the PF, -1 */
	unsigned vf_index;
	int parent;                    /* index of the bridge above, -1 */
	char path[TREE_PATH_MAX];      /* sys/devices/... */
	bool win_used[WIN_COUNT];
	uint64_t win_lo[WIN_COUNT], win_hi[WIN_COUNT];
	char where[300];               /* file:line of its dev record */
};

struct unit {
	char name[32];
	bool amd;
	uint64_t cap, ecap;            /* AMD: cap dword, EFR */
	uint64_t address;
	char version[16];
	char pci[16];                  /* AMD: the IOMMU's own PCI function */
	char path[TREE_PATH_MAX];      /* sys/devices/.../iommu/NAME */
};

struct group {
	int id;
	char type[16];
};

struct edit {
	char op[16];
	char path[PATH_MAX];
	char arg[MAX_LINE];
	char where[300];
};

struct param {
	char module[64], name[64], value[64];
};

struct cpu {
	bool set;
	bool amd;
	unsigned family, model, stepping, count;
	char name[128], flags[4096], bugs[512], microcode[32], mhz[32];
	char cache[32], addr_sizes[64];
};

struct root_desc {
	char kernel[80];
	char cmdline[1024];
	bool have_kernel, have_cmdline;
	struct cpu cpu;
	bool snapshot;
	bool kvm_present;
	uint64_t quirks;
	struct param *params;
	size_t n_params;
	struct unit *units;
	size_t n_units;
	struct group *groups;
	size_t n_groups;
	struct dev *devs;
	size_t n_devs;
	struct edit *edits;
	size_t n_edits;
	bool empty_iommu_class;        /* create sys/class/iommu even if no unit */
};

struct parse_ctx {
	const char *file;
	unsigned line;
	struct root_desc *rd;
	unsigned depth;
};

static int desc_error(const struct parse_ctx *ctx, const char *fmt, ...) _printf_(2, 3);
static int desc_error(const struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", ctx->file, ctx->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

/* Room for one more element. The capacity is implicit: 8, doubled each
 * time n reaches a power of two (benchmark descriptions hold thousands). */
static void *grow(void *array, size_t n, size_t elem)
{
	if (n == 0)
		return realloc(array, 8 * elem);
	if (n < 8 || (n & (n - 1)))
		return array;
	return realloc(array, 2 * n * elem);
}

#define APPEND(arr, count)                                                     \
	({                                                                     \
		__typeof__(arr) _a = grow((arr), (count), sizeof(*(arr)));    \
		if (_a) {                                                      \
			(arr) = _a;                                            \
			memset(&(arr)[(count)], 0, sizeof(*(arr)));            \
			(count)++;                                             \
		}                                                              \
		_a ? &(arr)[(count) - 1] : NULL;                               \
	})

/* ----- tokens and values ------------------------------------------------ */

/* Split a line into words; "..." quotes spaces, \n \" \\ escape inside
 * quotes, # starts a comment outside quotes. Modifies line in place. */
static int tokenize(const struct parse_ctx *ctx, char *line, char **tok, unsigned *ret_n)
{
	unsigned n = 0;
	char *r = line, *w = line;

	for (;;) {
		bool quoted = false;

		while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')
			r++;
		if (*r == '\0' || *r == '#')
			break;
		if (n == MAX_TOKENS)
			return desc_error(ctx, "more than %d words", MAX_TOKENS);
		tok[n++] = w;
		for (; *r && (quoted || !(*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n')); r++) {
			if (*r == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && *r == '\\' && r[1]) {
				r++;
				*w++ = *r == 'n' ? '\n' : *r;
				continue;
			}
			*w++ = *r;
		}
		if (quoted)
			return desc_error(ctx, "unterminated quote");
		if (*r)
			r++;
		*w++ = '\0';
	}
	*ret_n = n;
	return 0;
}

static int parse_number(const struct parse_ctx *ctx, const char *what, const char *s, uint64_t *ret)
{
	if (parse_u64(s, 0, ret) < 0)
		return desc_error(ctx, "%s: \"%s\" is not a number", what, s);
	return 0;
}

static int parse_uint(const struct parse_ctx *ctx, const char *what, const char *s,
		      uint64_t max, unsigned *ret)
{
	uint64_t v;
	int r = parse_number(ctx, what, s, &v);

	if (r < 0)
		return r;
	if (v > max)
		return desc_error(ctx, "%s: %s is larger than %" PRIu64, what, s, max);
	*ret = (unsigned) v;
	return 0;
}

static int parse_int(const struct parse_ctx *ctx, const char *what, const char *s, int *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < INT_MIN || v > INT_MAX)
		return desc_error(ctx, "%s: \"%s\" is not an integer", what, s);
	*ret = (int) v;
	return 0;
}

/* "128", "16K", "256M", "16G": a power of two in bytes. */
static int parse_size(const struct parse_ctx *ctx, const char *s, uint64_t *ret)
{
	char num[32];
	size_t len = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (len == 0 || len >= sizeof(num))
		return desc_error(ctx, "bad size \"%s\"", s);
	memcpy(num, s, len + 1);
	switch (toupper((unsigned char) num[len - 1])) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	}
	if (shift)
		num[len - 1] = '\0';
	if (parse_u64(num, 0, &v) < 0 || v == 0 || (v & (v - 1)) || v > (UINT64_C(1) << (63 - shift)))
		return desc_error(ctx, "size \"%s\" is not a power of two with an optional K/M/G/T", s);
	*ret = v << shift;
	return 0;
}

/* "8086:a780" */
static int parse_id_pair(const struct parse_ctx *ctx, const char *what, const char *s,
			 uint16_t *ret_a, uint16_t *ret_b)
{
	unsigned a, b;
	int used = 0;

	if (sscanf(s, "%4x:%4x%n", &a, &b, &used) != 2 || s[used] != '\0')
		return desc_error(ctx, "%s: \"%s\" is not VVVV:DDDD", what, s);
	*ret_a = a;
	*ret_b = b;
	return 0;
}

static int parse_bdf(const struct parse_ctx *ctx, const char *s, struct dev *d)
{
	int used = 0;

	if (sscanf(s, "%4x:%2x:%2x.%1u%n", &d->domain, &d->bus, &d->slot, &d->fn, &used) != 4 ||
	    s[used] != '\0' || d->slot > 31 || d->fn > 7 || strlen(s) != 12)
		return desc_error(ctx, "\"%s\" is not a PCI address dddd:bb:dd.f", s);
	snprintf(d->bdf, sizeof(d->bdf), "%04x:%02x:%02x.%u", d->domain, d->bus, d->slot, d->fn);
	if (strcmp(d->bdf, s) != 0)
		return desc_error(ctx, "write PCI address \"%s\" in lower case as %s", s, d->bdf);
	return 0;
}

static int copy_string(const struct parse_ctx *ctx, const char *what, const char *s,
		       char *buf, size_t size)
{
	if (strlen(s) >= size)
		return desc_error(ctx, "%s: \"%s\" is too long (max %zu)", what, s, size - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

/* Split "key=value"; value is NULL for a bare flag. */
static char *split_option(char *tok)
{
	char *eq = strchr(tok, '=');

	if (!eq)
		return NULL;
	*eq = '\0';
	return eq + 1;
}

static struct dev *find_dev(struct root_desc *rd, const char *bdf)
{
	/* Records about a device usually follow its dev line: look there first. */
	for (size_t i = rd->n_devs; i > 0; i--)
		if (streq(rd->devs[i - 1].bdf, bdf))
			return &rd->devs[i - 1];
	return NULL;
}

static const struct unit *find_unit(const struct root_desc *rd, const char *name)
{
	for (size_t i = 0; i < rd->n_units; i++)
		if (streq(rd->units[i].name, name))
			return &rd->units[i];
	return NULL;
}

static const struct group *find_group(const struct root_desc *rd, int id)
{
	for (size_t i = 0; i < rd->n_groups; i++)
		if (rd->groups[i].id == id)
			return &rd->groups[i];
	return NULL;
}

static struct dev *lookup_dev(const struct parse_ctx *ctx, const char *bdf)
{
	struct dev *d = find_dev(ctx->rd, bdf);

	if (!d)
		desc_error(ctx, "no device %s declared before this line", bdf);
	return d;
}

/* ----- records ---------------------------------------------------------- */

static int rec_kernel(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	if (n != 2)
		return desc_error(ctx, "usage: kernel RELEASE");
	ctx->rd->have_kernel = true;
	return copy_string(ctx, "kernel", tok[1], ctx->rd->kernel, sizeof(ctx->rd->kernel));
}

static int rec_cmdline(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	if (n != 2)
		return desc_error(ctx, "usage: cmdline \"TEXT\"");
	ctx->rd->have_cmdline = true;
	return copy_string(ctx, "cmdline", tok[1], ctx->rd->cmdline, sizeof(ctx->rd->cmdline));
}

static int cpu_option(const struct parse_ctx *ctx, struct cpu *c, const char *key, const char *v)
{
	if (streq(key, "vendor")) {
		if (!streq(v, "intel") && !streq(v, "amd"))
			return desc_error(ctx, "cpu vendor must be intel or amd, not \"%s\"", v);
		c->amd = streq(v, "amd");
		return 0;
	}
	if (streq(key, "family"))
		return parse_uint(ctx, key, v, 255, &c->family);
	if (streq(key, "model"))
		return parse_uint(ctx, key, v, 255, &c->model);
	if (streq(key, "stepping"))
		return parse_uint(ctx, key, v, 15, &c->stepping);
	if (streq(key, "cpus"))
		return parse_uint(ctx, key, v, 256, &c->count);
	if (streq(key, "name"))
		return copy_string(ctx, key, v, c->name, sizeof(c->name));
	if (streq(key, "flags"))
		return copy_string(ctx, key, v, c->flags, sizeof(c->flags));
	if (streq(key, "bugs"))
		return copy_string(ctx, key, v, c->bugs, sizeof(c->bugs));
	if (streq(key, "microcode"))
		return copy_string(ctx, key, v, c->microcode, sizeof(c->microcode));
	if (streq(key, "mhz"))
		return copy_string(ctx, key, v, c->mhz, sizeof(c->mhz));
	if (streq(key, "cache"))
		return copy_string(ctx, key, v, c->cache, sizeof(c->cache));
	if (streq(key, "address-sizes"))
		return copy_string(ctx, key, v, c->addr_sizes, sizeof(c->addr_sizes));
	return desc_error(ctx, "unknown cpu option \"%s\"", key);
}

static int rec_cpu(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct cpu *c = &ctx->rd->cpu;

	*c = (struct cpu) { .set = true, .count = 1 };
	strcpy(c->mhz, "2000.000");
	strcpy(c->microcode, "0x1");
	strcpy(c->cache, "1024 KB");
	strcpy(c->addr_sizes, "46 bits physical, 48 bits virtual");
	for (unsigned i = 1; i < n; i++) {
		char *v = split_option(tok[i]);
		int r;

		if (!v)
			return desc_error(ctx, "cpu: \"%s\" is not key=value", tok[i]);
		r = cpu_option(ctx, c, tok[i], v);
		if (r < 0)
			return r;
	}
	if (c->count == 0 || c->family == 0 || !c->name[0] || !c->flags[0])
		return desc_error(ctx, "cpu needs cpus>0, family, name and flags");
	return 0;
}

static int rec_param(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct param *p;
	int r;

	if (n != 4)
		return desc_error(ctx, "usage: param MODULE NAME VALUE");
	p = APPEND(ctx->rd->params, ctx->rd->n_params);
	if (!p)
		return -ENOMEM;
	r = copy_string(ctx, "module", tok[1], p->module, sizeof(p->module));
	if (r >= 0)
		r = copy_string(ctx, "parameter", tok[2], p->name, sizeof(p->name));
	if (r >= 0)
		r = copy_string(ctx, "value", tok[3], p->value, sizeof(p->value));
	return r;
}

static int rec_snapshot(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct root_desc *rd = ctx->rd;

	rd->snapshot = true;
	rd->kvm_present = true;
	rd->quirks = 0;
	for (unsigned i = 1; i < n; i++) {
		char *v = split_option(tok[i]);
		int r;

		if (v && streq(tok[i], "quirks"))
			r = parse_number(ctx, "quirks", v, &rd->quirks);
		else if (v && streq(tok[i], "present") && (streq(v, "true") || streq(v, "false"))) {
			rd->kvm_present = streq(v, "true");
			r = 0;
		} else
			r = desc_error(ctx, "snapshot takes quirks=N and present=true|false");
		if (r < 0)
			return r;
	}
	return 0;
}

static int unit_option(const struct parse_ctx *ctx, struct unit *u, const char *key, const char *v)
{
	if (streq(key, "cap"))
		return parse_number(ctx, key, v, &u->cap);
	if (streq(key, "ecap") && !u->amd)
		return parse_number(ctx, key, v, &u->ecap);
	if (streq(key, "features") && u->amd)
		return parse_number(ctx, key, v, &u->ecap);
	if (streq(key, "address") && !u->amd)
		return parse_number(ctx, key, v, &u->address);
	if (streq(key, "version") && !u->amd)
		return copy_string(ctx, key, v, u->version, sizeof(u->version));
	if (streq(key, "pci") && u->amd)
		return copy_string(ctx, key, v, u->pci, sizeof(u->pci));
	return desc_error(ctx, "unknown %s iommu option \"%s\"", u->amd ? "amd" : "intel", key);
}

static int rec_iommu(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct unit *u;
	int r;

	if (n < 3 || (!streq(tok[2], "intel") && !streq(tok[2], "amd")))
		return desc_error(ctx, "usage: iommu NAME intel|amd OPTION=VALUE...");
	if (find_unit(ctx->rd, tok[1]))
		return desc_error(ctx, "iommu %s declared twice", tok[1]);
	u = APPEND(ctx->rd->units, ctx->rd->n_units);
	if (!u)
		return -ENOMEM;
	u->amd = streq(tok[2], "amd");
	strcpy(u->version, "1:0");
	r = copy_string(ctx, "iommu name", tok[1], u->name, sizeof(u->name));
	for (unsigned i = 3; r >= 0 && i < n; i++) {
		char *v = split_option(tok[i]);

		r = v ? unit_option(ctx, u, tok[i], v) : desc_error(ctx, "iommu: \"%s\" is not key=value", tok[i]);
	}
	if (r >= 0 && u->amd && !u->pci[0])
		r = desc_error(ctx, "an AMD-Vi unit needs pci=BDF (its own PCI function)");
	return r;
}

static int rec_group(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct group *g;
	int id, r;

	if (n != 3)
		return desc_error(ctx, "usage: group N TYPE");
	r = parse_int(ctx, "group", tok[1], &id);
	if (r < 0)
		return r;
	if (id < 0 || find_group(ctx->rd, id))
		return desc_error(ctx, "group %d is negative or declared twice", id);
	g = APPEND(ctx->rd->groups, ctx->rd->n_groups);
	if (!g)
		return -ENOMEM;
	g->id = id;
	return copy_string(ctx, "group type", tok[2], g->type, sizeof(g->type));
}

static int parse_pcie_type(const struct parse_ctx *ctx, const char *v, int *ret)
{
	static const struct { const char *name; int type; } types[] = {
		{ "endpoint", PCIE_ENDPOINT }, { "legacy", PCIE_LEGACY },
		{ "rootport", PCIE_ROOT_PORT }, { "upstream", PCIE_UPSTREAM },
		{ "downstream", PCIE_DOWNSTREAM }, { "rciep", PCIE_RCIEP },
	};

	for (size_t i = 0; i < ELEMENTSOF(types); i++)
		if (streq(types[i].name, v)) {
			*ret = types[i].type;
			return 0;
		}
	return desc_error(ctx, "pcie=%s: use endpoint, legacy, rootport, upstream, downstream or rciep", v);
}

/* "GEN x WIDTH", e.g. link=4x16 */
static int parse_link(const struct parse_ctx *ctx, const char *v, struct dev *d)
{
	int used = 0;

	if (sscanf(v, "%ux%u%n", &d->link_gen, &d->link_width, &used) != 2 || v[used] ||
	    d->link_gen < 1 || d->link_gen > 5 || d->link_width < 1 || d->link_width > 32)
		return desc_error(ctx, "link=%s: expected GENxWIDTH, e.g. 4x16", v);
	return 0;
}

/* "COUNT,TABLEBIR:OFFSET,PBABIR:OFFSET" with hex offsets,
 * e.g. msix=9,0:0xb90000,0:0xbb0000 */
static int parse_msix(const struct parse_ctx *ctx, const char *v, struct msix *m)
{
	int used = 0;

	if (sscanf(v, "%u,%u:%" SCNx32 ",%u:%" SCNx32 "%n", &m->count, &m->table_bir, &m->table_off,
		   &m->pba_bir, &m->pba_off, &used) != 5 || v[used] || m->count < 1 || m->count > 2048 ||
	    m->table_bir > 5 || m->pba_bir > 5 || (m->table_off & 7) || (m->pba_off & 7))
		return desc_error(ctx, "msix=%s: expected COUNT,BIR:OFFSET,BIR:OFFSET (8-byte aligned offsets)", v);
	m->present = true;
	return 0;
}

static int dev_flag(const struct parse_ctx *ctx, struct dev *d, const char *flag)
{
	if (streq(flag, "msi"))
		d->msi = true;
	else if (streq(flag, "pm"))
		d->pm = true;
	else if (streq(flag, "nosnoop"))
		d->nosnoop = true;
	else if (streq(flag, "rebar"))
		d->rebar = true;
	else if (streq(flag, "ari"))
		d->ari = true;
	else
		return desc_error(ctx, "unknown device flag \"%s\"", flag);
	return 0;
}

static int dev_option(const struct parse_ctx *ctx, struct dev *d, const char *key, const char *v)
{
	if (streq(key, "id"))
		return parse_id_pair(ctx, key, v, &d->vendor, &d->device);
	if (streq(key, "subsys"))
		return parse_id_pair(ctx, key, v, &d->sub_vendor, &d->sub_device);
	if (streq(key, "class"))
		return parse_uint(ctx, key, v, 0xffffff, &d->class_code);
	if (streq(key, "rev")) {
		unsigned rev;
		int r = parse_uint(ctx, key, v, 0xff, &rev);

		d->rev = rev;
		return r;
	}
	if (streq(key, "driver"))
		return copy_string(ctx, key, v, d->driver, sizeof(d->driver));
	if (streq(key, "iommu"))
		return copy_string(ctx, key, v, d->iommu, sizeof(d->iommu));
	if (streq(key, "group"))
		return parse_int(ctx, key, v, &d->group);
	if (streq(key, "irq"))
		return parse_int(ctx, key, v, &d->irq);
	if (streq(key, "numa"))
		return parse_int(ctx, key, v, &d->numa);
	if (streq(key, "pcie"))
		return parse_pcie_type(ctx, v, &d->pcie);
	if (streq(key, "link"))
		return parse_link(ctx, v, d);
	if (streq(key, "msix"))
		return parse_msix(ctx, v, &d->msix);
	if (streq(key, "bridge")) {
		int r = parse_int(ctx, key, v, &d->secondary);

		if (r >= 0 && d->secondary < 0)
			return desc_error(ctx, "bridge=%s: a bus number is not negative", v);
		return r;
	}
	if (streq(key, "config"))
		return parse_uint(ctx, key, v, CFG_EXPRESS, &d->config_size);
	if (streq(key, "physfn")) {
		struct dev *pf = lookup_dev(ctx, v);

		if (!pf)
			return -EINVAL;
		d->physfn = (int) (pf - ctx->rd->devs);
		return 0;
	}
	return desc_error(ctx, "unknown device option \"%s\"", key);
}

static int dev_check(const struct parse_ctx *ctx, struct dev *d)
{
	if (d->vendor == 0 || d->class_code == 0)
		return desc_error(ctx, "%s needs id= and class=", d->bdf);
	if (d->config_size && d->config_size != 64 && d->config_size != CFG_CONVENTIONAL &&
	    d->config_size != CFG_EXPRESS)
		return desc_error(ctx, "config=%u: use 64, 256 or 4096", d->config_size);
	if (d->secondary >= 0 && (d->secondary > 255 || (unsigned) d->secondary <= d->bus))
		return desc_error(ctx, "bridge=%d must be a bus number above %u", d->secondary, d->bus);
	if (d->secondary >= 0 && (d->class_code >> 8) != 0x0604)
		return desc_error(ctx, "a bridge needs class=0x0604xx");
	if (d->physfn >= 0 && d->secondary >= 0)
		return desc_error(ctx, "a VF cannot be a bridge");
	return 0;
}

static int rec_dev(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct root_desc *rd = ctx->rd;
	struct dev tmp = { .group = -1, .numa = -1, .pcie = PCIE_NONE, .secondary = -1,
			   .physfn = -1, .parent = -1 };
	struct dev *d;
	int r;

	if (n < 2)
		return desc_error(ctx, "usage: dev BDF OPTION=VALUE... FLAG...");
	r = parse_bdf(ctx, tok[1], &tmp);
	if (r < 0)
		return r;
	if (find_dev(rd, tmp.bdf))
		return desc_error(ctx, "device %s declared twice", tmp.bdf);
	for (unsigned i = 2; i < n; i++) {
		char *v = split_option(tok[i]);

		r = v ? dev_option(ctx, &tmp, tok[i], v) : dev_flag(ctx, &tmp, tok[i]);
		if (r < 0)
			return r;
	}
	r = dev_check(ctx, &tmp);
	if (r < 0)
		return r;
	snprintf(tmp.where, sizeof(tmp.where), "%s:%u", ctx->file, ctx->line);
	d = APPEND(rd->devs, rd->n_devs);
	if (!d)
		return -ENOMEM;
	*d = tmp;
	return 0;
}

/* "INDEX io|mem32|mem64 [pref] SIZE [addr=A]" into bars[] */
static int parse_bar(const struct parse_ctx *ctx, char **tok, unsigned n, bool vf, struct bar *bars)
{
	unsigned idx, i = 3;
	struct bar b = { 0 };
	int r;

	if (n < 5)
		return desc_error(ctx, "usage: %s BDF INDEX io|mem32|mem64 [pref] SIZE%s",
				  vf ? "vfbar" : "bar", vf ? "" : " [addr=ADDRESS]");
	r = parse_uint(ctx, "BAR index", tok[2], NBARS - 1, &idx);
	if (r < 0)
		return r;
	if (streq(tok[3], "io") && !vf)
		b.kind = BAR_IO;
	else if (streq(tok[3], "mem32"))
		b.kind = BAR_MEM32;
	else if (streq(tok[3], "mem64"))
		b.kind = BAR_MEM64;
	else
		return desc_error(ctx, "BAR kind \"%s\": use %smem32 or mem64", tok[3], vf ? "" : "io, ");
	if (i + 1 < n && streq(tok[i + 1], "pref")) {
		if (b.kind == BAR_IO)
			return desc_error(ctx, "an I/O BAR cannot be prefetchable");
		b.pref = true;
		i++;
	}
	if (++i >= n)
		return desc_error(ctx, "BAR size missing");
	r = parse_size(ctx, tok[i], &b.size);
	if (r < 0)
		return r;
	if ((b.kind == BAR_IO && (b.size < 4 || b.size > 256)) || (b.kind != BAR_IO && b.size < 16) ||
	    (b.kind == BAR_MEM32 && b.size > (UINT64_C(1) << 31)))
		return desc_error(ctx, "BAR size %s does not fit a %s BAR", tok[i], tok[3]);
	for (i++; i < n; i++) {
		char *v = split_option(tok[i]);

		if (!v || vf || !streq(tok[i], "addr"))
			return desc_error(ctx, "unexpected \"%s\"", tok[i]);
		r = parse_number(ctx, "addr", v, &b.addr);
		if (r < 0)
			return r;
		if (b.addr & (b.size - 1))
			return desc_error(ctx, "addr=%s is not aligned to the BAR size", v);
		b.fixed = true;
	}
	if (b.kind == BAR_MEM64 && idx == NBARS - 1)
		return desc_error(ctx, "a 64-bit BAR cannot start at index 5");
	if (bars[idx].kind != BAR_NONE || (idx > 0 && bars[idx - 1].kind == BAR_MEM64) ||
	    (b.kind == BAR_MEM64 && bars[idx + 1].kind != BAR_NONE))
		return desc_error(ctx, "BAR %u overlaps another BAR", idx);
	bars[idx] = b;
	return 0;
}

static int rec_bar(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct dev *d = n > 1 ? lookup_dev(ctx, tok[1]) : NULL;

	if (n > 1 && !d)
		return -EINVAL;
	if (d && d->physfn >= 0)
		return desc_error(ctx, "a VF's BARs come from its PF's vfbar records");
	if (d && d->secondary >= 0)
		return desc_error(ctx, "bridges in fixtures have no BARs of their own");
	return parse_bar(ctx, tok, n, false, d ? d->bars : NULL);
}

static int rec_vfbar(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct dev *d = n > 1 ? lookup_dev(ctx, tok[1]) : NULL;

	if (n > 1 && !d)
		return -EINVAL;
	if (d && !d->sriov.present)
		return desc_error(ctx, "vfbar needs an sriov record for %s first", d->bdf);
	return parse_bar(ctx, tok, n, true, d ? d->sriov.vfbars : NULL);
}

static int sriov_option(const struct parse_ctx *ctx, struct sriov *s, const char *key, const char *v)
{
	if (streq(key, "total"))
		return parse_uint(ctx, key, v, 0xffff, &s->total);
	if (streq(key, "num"))
		return parse_uint(ctx, key, v, 0xffff, &s->num);
	if (streq(key, "offset"))
		return parse_uint(ctx, key, v, 0xffff, &s->offset);
	if (streq(key, "stride"))
		return parse_uint(ctx, key, v, 0xffff, &s->stride);
	if (streq(key, "vfid")) {
		unsigned id;
		int r = parse_uint(ctx, key, v, 0xffff, &id);

		s->vf_device = id;
		return r;
	}
	return desc_error(ctx, "unknown sriov option \"%s\"", key);
}

static int rec_sriov(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	struct dev *d = n > 1 ? lookup_dev(ctx, tok[1]) : NULL;
	struct sriov s = { .present = true, .stride = 1 };

	if (n < 2)
		return desc_error(ctx, "usage: sriov BDF total=N num=N offset=N stride=N vfid=DEVICE");
	if (!d)
		return -EINVAL;
	if (d->sriov.present || d->physfn >= 0)
		return desc_error(ctx, "%s already has SR-IOV or is a VF", d->bdf);
	for (unsigned i = 2; i < n; i++) {
		char *v = split_option(tok[i]);
		int r = v ? sriov_option(ctx, &s, tok[i], v) : desc_error(ctx, "sriov: \"%s\" is not key=value", tok[i]);

		if (r < 0)
			return r;
	}
	if (s.total == 0 || s.num > s.total || s.offset == 0 || s.stride == 0 || s.vf_device == 0)
		return desc_error(ctx, "sriov needs total>0, num<=total, offset>0, stride>0, vfid");
	if (d->pcie == PCIE_NONE)
		return desc_error(ctx, "SR-IOV is an extended capability: %s needs pcie=", d->bdf);
	d->sriov = s;
	return 0;
}

static int rec_edit(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	bool two = streq(tok[0], "remove");
	struct edit *e;
	int r;

	if ((two && n != 2) || (!two && n != 3))
		return desc_error(ctx, "usage: remove PATH | truncate PATH BYTES | write PATH TEXT | symlink PATH TARGET");
	if (tok[1][0] == '/' || strstr(tok[1], ".."))
		return desc_error(ctx, "edit paths are relative to the root and stay inside it");
	e = APPEND(ctx->rd->edits, ctx->rd->n_edits);
	if (!e)
		return -ENOMEM;
	strcpy(e->op, tok[0]);
	snprintf(e->where, sizeof(e->where), "%s:%u", ctx->file, ctx->line);
	r = copy_string(ctx, "path", tok[1], e->path, sizeof(e->path));
	if (r >= 0 && !two)
		r = copy_string(ctx, "argument", tok[2], e->arg, sizeof(e->arg));
	if (r >= 0 && streq(e->op, "truncate")) {
		uint64_t len;

		r = parse_number(ctx, "truncate length", e->arg, &len);
	}
	return r;
}

static int rec_iommu_class(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	if (n != 1)
		return desc_error(ctx, "usage: empty-iommu-class");
	ctx->rd->empty_iommu_class = true;
	return 0;
}

static int parse_file(const struct parse_ctx *parent, const char *file, struct root_desc *rd);

static int rec_include(const struct parse_ctx *ctx, char **tok, unsigned n)
{
	char path[PATH_MAX];
	const char *slash = strrchr(ctx->file, '/');

	if (n != 2)
		return desc_error(ctx, "usage: include FILE");
	if (tok[1][0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", tok[1]);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int) (slash - ctx->file), ctx->file, tok[1]);
	return parse_file(ctx, path, ctx->rd);
}

static const struct {
	const char *name;
	int (*parse)(const struct parse_ctx *ctx, char **tok, unsigned n);
} records[] = {
	{ "kernel", rec_kernel },
	{ "cmdline", rec_cmdline },
	{ "cpu", rec_cpu },
	{ "param", rec_param },
	{ "snapshot", rec_snapshot },
	{ "iommu", rec_iommu },
	{ "empty-iommu-class", rec_iommu_class },
	{ "group", rec_group },
	{ "dev", rec_dev },
	{ "bar", rec_bar },
	{ "sriov", rec_sriov },
	{ "vfbar", rec_vfbar },
	{ "remove", rec_edit },
	{ "truncate", rec_edit },
	{ "write", rec_edit },
	{ "symlink", rec_edit },
	{ "include", rec_include },
};

static int parse_line(const struct parse_ctx *ctx, char *line)
{
	char *tok[MAX_TOKENS];
	unsigned n = 0;
	int r = tokenize(ctx, line, tok, &n);

	if (r < 0 || n == 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(records); i++)
		if (streq(records[i].name, tok[0]))
			return records[i].parse(ctx, tok, n);
	return desc_error(ctx, "unknown record \"%s\"", tok[0]);
}

static int parse_file(const struct parse_ctx *parent, const char *file, struct root_desc *rd)
{
	struct parse_ctx ctx = { .file = file, .rd = rd, .depth = parent ? parent->depth + 1 : 0 };
	_cleanup_fclose_ FILE *f = NULL;
	char line[MAX_LINE];
	int r;

	if (ctx.depth > MAX_INCLUDE_DEPTH)
		return desc_error(parent, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
	f = fopen(file, "re");
	if (!f) {
		r = -errno;
		if (parent)
			return desc_error(parent, "cannot open %s: %s", file, strerror(-r));
		fprintf(stderr, "mkroot: cannot open %s: %s\n", file, strerror(-r));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		ctx.line++;
		if (!strchr(line, '\n') && !feof(f))
			return desc_error(&ctx, "line longer than %d bytes", MAX_LINE - 2);
		r = parse_line(&ctx, line);
		if (r < 0)
			return r;
	}
	return ferror(f) ? -EIO : 0;
}

/* ----- layout: hierarchy, VFs, addresses, bridge windows ---------------- */

static unsigned routing_id(const struct dev *d)
{
	return d->bus << 8 | d->slot << 3 | d->fn;
}

static int resolve_vf(struct root_desc *rd, struct dev *vf)
{
	struct dev *pf = &rd->devs[vf->physfn];
	unsigned first = routing_id(pf) + pf->sriov.offset;

	if (!pf->sriov.present)
		return fprintf(stderr, "%s: physfn %s has no sriov record\n", vf->where, pf->bdf), -EINVAL;
	if (vf->domain != pf->domain || routing_id(vf) < first ||
	    (routing_id(vf) - first) % pf->sriov.stride ||
	    (routing_id(vf) - first) / pf->sriov.stride >= pf->sriov.num)
		return fprintf(stderr, "%s: %s is not one of the %u enabled VFs of %s (offset %u, stride %u)\n",
			       vf->where, vf->bdf, pf->sriov.num, pf->bdf, pf->sriov.offset, pf->sriov.stride),
		       -EINVAL;
	vf->vf_index = (routing_id(vf) - first) / pf->sriov.stride;
	for (size_t i = 0; i < rd->n_devs; i++)
		if (rd->devs[i].physfn == vf->physfn && &rd->devs[i] != vf &&
		    rd->devs[i].vf_index == vf->vf_index && rd->devs[i].where[0] && &rd->devs[i] < vf)
			return fprintf(stderr, "%s: VF %u of %s declared twice\n", vf->where, vf->vf_index, pf->bdf),
			       -EINVAL;
	/* A VF is the PF's kind of function: same class, vendor and subsystem. */
	if (vf->class_code != pf->class_code || vf->vendor != pf->vendor || vf->device != pf->sriov.vf_device)
		return fprintf(stderr, "%s: VF %s must have id %04x:%04x and the class of its PF\n", vf->where,
			       vf->bdf, pf->vendor, pf->sriov.vf_device), -EINVAL;
	for (unsigned b = 0; b < NBARS; b++)
		vf->bars[b] = pf->sriov.vfbars[b];
	return 0;
}

static int find_bridge_for_bus(const struct root_desc *rd, unsigned domain, unsigned bus)
{
	for (size_t i = 0; i < rd->n_devs; i++)
		if (rd->devs[i].secondary == (int) bus && rd->devs[i].domain == domain)
			return (int) i;
	return -1;
}

/* Place each function in the sysfs device tree: under the bridge whose
 * secondary bus it is on, under a root bus otherwise; VFs beside their PF
 * (even when their bus number lies beyond the PF's bus). */
static int place_devices(struct root_desc *rd)
{
	for (size_t i = 0; i < rd->n_devs; i++) {
		struct dev *d = &rd->devs[i];
		unsigned root_bus = d->bus;
		char path[TREE_PATH_MAX];
		int n;

		if (d->physfn >= 0) {
			int r = resolve_vf(rd, d);

			if (r < 0)
				return r;
			d->parent = rd->devs[d->physfn].parent;
			root_bus = rd->devs[d->physfn].bus;
		} else
			d->parent = find_bridge_for_bus(rd, d->domain, d->bus);
		if (d->parent >= (int) i)
			return fprintf(stderr, "%s: declare bridge %s before the devices behind it\n", d->where,
				       rd->devs[d->parent].bdf), -EINVAL;
		if (d->parent >= 0)
			n = snprintf(path, sizeof(path), "%s/%s", rd->devs[d->parent].path, d->bdf);
		else
			n = snprintf(path, sizeof(path), "sys/devices/pci%04x:%02x/%s", d->domain, root_bus, d->bdf);
		if (n >= (int) sizeof(path))
			return -ENAMETOOLONG;
		memcpy(d->path, path, (size_t) n + 1);
	}
	return 0;
}

static void mark_multifunction(struct root_desc *rd)
{
	for (size_t i = 0; i < rd->n_devs; i++)
		for (size_t j = 0; j < rd->n_devs; j++) {
			struct dev *a = &rd->devs[i], *b = &rd->devs[j];

			if (i != j && a->physfn < 0 && b->physfn < 0 && a->domain == b->domain &&
			    a->bus == b->bus && a->slot == b->slot)
				a->multifunction = true;
		}
}

struct allocator {
	uint64_t next, limit;
};

static int allocate(struct allocator *a, uint64_t size, uint64_t align, uint64_t *ret)
{
	uint64_t start = (a->next + align - 1) & ~(align - 1);

	if (start < a->next || start + size > a->limit || start + size < start)
		return -ENOSPC;
	a->next = start + size;
	*ret = start;
	return 0;
}

/* Bump allocators in description order, like a firmware walking the tree:
 * functions behind one bridge get neighbouring addresses, so bridge windows
 * stay tight. Non-prefetchable BARs go below 4G (a bridge's non-prefetchable
 * window is 32-bit), prefetchable 64-bit ones above. */
struct address_space {
	struct allocator io, mem32, mem64;
};

static struct allocator *allocator_for(struct address_space *as, const struct bar *b)
{
	if (b->kind == BAR_IO)
		return &as->io;
	if (b->kind == BAR_MEM64 && b->pref)
		return &as->mem64;
	return &as->mem32;
}

/* span is the BAR size, or for VF BARs size times TotalVFs; either way
 * aligned to the (power of two) BAR size. */
static int assign_bar(struct address_space *as, struct bar *b, uint64_t span, const char *where)
{
	int r;

	if (b->kind == BAR_NONE || b->fixed)
		return 0;
	r = allocate(allocator_for(as, b), span, b->size, &b->addr);
	if (r < 0)
		fprintf(stderr, "%s: no room for a %s BAR of %" PRIu64 " bytes\n", where,
			b->kind == BAR_IO ? "I/O" : "memory", span);
	return r;
}

/* Entering or leaving a bridge's subtree starts a new window: align to the
 * bridge window granularity so that sibling windows never share a 4K I/O
 * or 1M memory block. */
static void align_for_windows(struct address_space *as)
{
	as->io.next = (as->io.next + 0xfff) & ~UINT64_C(0xfff);
	as->mem32.next = (as->mem32.next + 0xfffff) & ~UINT64_C(0xfffff);
	as->mem64.next = (as->mem64.next + 0xfffff) & ~UINT64_C(0xfffff);
}

static int assign_addresses(struct root_desc *rd)
{
	struct address_space as = {
		.io = { 0x3000, 0x10000 },
		.mem32 = { 0x80000000ULL, 0xfec00000ULL },
		.mem64 = { 0x4000000000ULL, 0x800000000000ULL },
	};
	int last_parent = -1;

	for (size_t i = 0; i < rd->n_devs; i++) {
		struct dev *d = &rd->devs[i];

		if (d->physfn >= 0)
			continue;       /* VFs live inside the PF's VF BAR regions */
		if (d->parent != last_parent)
			align_for_windows(&as);
		last_parent = d->parent;
		for (unsigned b = 0; b < NBARS; b++) {
			int r = assign_bar(&as, &d->bars[b], d->bars[b].size, d->where);

			if (r >= 0 && d->sriov.present)
				r = assign_bar(&as, &d->sriov.vfbars[b],
					       d->sriov.vfbars[b].size * d->sriov.total, d->where);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; i < rd->n_devs; i++) {
		struct dev *d = &rd->devs[i];

		if (d->physfn >= 0)
			for (unsigned b = 0; b < NBARS; b++)
				d->bars[b].addr = rd->devs[d->physfn].sriov.vfbars[b].addr +
						  (uint64_t) d->vf_index * d->bars[b].size;
	}
	return 0;
}

static void window_add(struct dev *bridge, enum window w, uint64_t lo, uint64_t hi)
{
	if (!bridge->win_used[w] || lo < bridge->win_lo[w])
		bridge->win_lo[w] = lo;
	if (!bridge->win_used[w] || hi > bridge->win_hi[w])
		bridge->win_hi[w] = hi;
	bridge->win_used[w] = true;
}

static void windows_add_bar(struct root_desc *rd, int bridge, const struct bar *b, uint64_t span)
{
	enum window w = b->kind == BAR_IO ? WIN_IO : b->pref && b->kind == BAR_MEM64 ? WIN_PREF : WIN_MEM;

	if (b->kind == BAR_NONE)
		return;
	for (; bridge >= 0; bridge = rd->devs[bridge].parent)
		window_add(&rd->devs[bridge], w, b->addr, b->addr + span - 1);
}

/* Bridge windows and bus ranges cover everything below them; windows are
 * rounded to the bridge granularity (4K I/O, 1M memory). */
static void compute_bridges(struct root_desc *rd)
{
	for (size_t i = 0; i < rd->n_devs; i++) {
		struct dev *d = &rd->devs[i];

		unsigned top = d->secondary >= 0 ? (unsigned) d->secondary : d->bus;

		if (d->secondary >= 0 && d->subordinate < top)
			d->subordinate = top;
		for (int p = d->parent; p >= 0; p = rd->devs[p].parent)
			if (rd->devs[p].subordinate < top)
				rd->devs[p].subordinate = top;
		if (d->physfn >= 0)
			continue;
		for (unsigned b = 0; b < NBARS; b++) {
			windows_add_bar(rd, d->parent, &d->bars[b], d->bars[b].size);
			if (d->sriov.present)
				windows_add_bar(rd, d->parent, &d->sriov.vfbars[b],
						d->sriov.vfbars[b].size * d->sriov.total);
		}
	}
	for (size_t i = 0; i < rd->n_devs; i++) {
		struct dev *d = &rd->devs[i];

		for (int w = 0; w < WIN_COUNT; w++) {
			uint64_t g = w == WIN_IO ? 0xfff : 0xfffff;

			d->win_lo[w] &= ~g;
			d->win_hi[w] |= g;
		}
	}
}

static bool below(const struct root_desc *rd, const struct dev *d, int bridge)
{
	for (int p = d->physfn >= 0 ? rd->devs[d->physfn].parent : d->parent; p >= 0; p = rd->devs[p].parent)
		if (p == bridge)
			return true;
	return false;
}

static bool bar_in_window(const struct dev *bridge, const struct bar *b)
{
	for (int w = 0; w < WIN_COUNT; w++)
		if (b->kind != BAR_NONE && bridge->win_used[w] && (b->kind == BAR_IO) == (w == WIN_IO) &&
		    b->addr <= bridge->win_hi[w] && b->addr + b->size - 1 >= bridge->win_lo[w])
			return true;
	return false;
}

/* A bridge window must not cover a function outside the bridge: that
 * happens when a description lists a subtree in pieces. */
static int check_windows(const struct root_desc *rd)
{
	for (size_t b = 0; b < rd->n_devs; b++) {
		const struct dev *br = &rd->devs[b];

		if (br->secondary < 0)
			continue;
		for (size_t i = 0; i < rd->n_devs; i++) {
			const struct dev *d = &rd->devs[i];

			if (i == b || below(rd, d, (int) b))
				continue;
			for (unsigned k = 0; k < NBARS; k++)
				if (bar_in_window(br, &d->bars[k]))
					return fprintf(stderr, "%s: BAR %u of %s lies in a window of bridge %s: list the "
						       "devices behind a bridge right after it\n", d->where, k, d->bdf,
						       br->bdf), -EINVAL;
		}
	}
	return 0;
}

static int check_references(struct root_desc *rd)
{
	for (size_t i = 0; i < rd->n_devs; i++) {
		const struct dev *d = &rd->devs[i];
		const struct bar *bars = d->bars;

		if (d->iommu[0] && !find_unit(rd, d->iommu))
			return fprintf(stderr, "%s: iommu %s is not declared\n", d->where, d->iommu), -EINVAL;
		if (d->group >= 0 && !find_group(rd, d->group))
			return fprintf(stderr, "%s: group %d is not declared\n", d->where, d->group), -EINVAL;
		if (d->msix.present &&
		    (bars[d->msix.table_bir].kind < BAR_MEM32 || bars[d->msix.pba_bir].kind < BAR_MEM32 ||
		     d->msix.table_off + 16ULL * d->msix.count > bars[d->msix.table_bir].size ||
		     d->msix.pba_off + 8ULL * ((d->msix.count + 63) / 64) > bars[d->msix.pba_bir].size))
			return fprintf(stderr, "%s: the MSI-X table or PBA does not fit in its memory BAR\n",
				       d->where), -EINVAL;
	}
	for (size_t i = 0; i < rd->n_units; i++)
		if (rd->units[i].amd && !find_dev(rd, rd->units[i].pci))
			return fprintf(stderr, "iommu %s: its PCI function %s is not declared\n",
				       rd->units[i].name, rd->units[i].pci), -EINVAL;
	if (!rd->have_kernel || !rd->cpu.set)
		return fprintf(stderr, "mkroot: a description needs kernel and cpu records\n"), -EINVAL;
	return 0;
}

static int layout(struct root_desc *rd)
{
	int r = place_devices(rd);

	if (r >= 0)
		r = check_references(rd);
	if (r >= 0)
		r = assign_addresses(rd);
	if (r < 0)
		return r;
	mark_multifunction(rd);
	compute_bridges(rd);
	r = check_windows(rd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rd->n_units; i++) {
		struct unit *u = &rd->units[i];

		/* VT-d units are virtual devices; an AMD-Vi unit hangs below
		 * its own PCI function (drivers/iommu/amd/init.c). */
		int n;

		if (u->amd)
			n = snprintf(u->path, sizeof(u->path), "%.900s/iommu/%s", find_dev(rd, u->pci)->path, u->name);
		else
			n = snprintf(u->path, sizeof(u->path), "sys/devices/virtual/iommu/%s", u->name);
		if (n >= (int) sizeof(u->path))
			return -ENAMETOOLONG;
	}
	return 0;
}

/* ----- writing files and links ------------------------------------------ */

struct out {
	char root[PATH_MAX];
};

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int r = -errno;

			*p = '/';
			return r;
		}
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int out_path(const struct out *o, const char *rel, char *buf)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", o->root, rel) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int out_mkdir(const struct out *o, const char *rel)
{
	char path[PATH_MAX];
	int r = out_path(o, rel, path);

	return r < 0 ? r : mkdir_p(path);
}

static int out_parent_dir(const struct out *o, const char *rel, char *path)
{
	int r = out_path(o, rel, path);
	char *slash;

	if (r < 0)
		return r;
	slash = strrchr(path, '/');
	*slash = '\0';
	r = mkdir_p(path);
	*slash = '/';
	return r;
}

static int out_write(const struct out *o, const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	int r = out_parent_dir(o, rel, path);

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (len && write(fd, data, len) != (ssize_t) len)
		return -EIO;
	return 0;
}

static int out_printf(const struct out *o, const char *rel, const char *fmt, ...) _printf_(3, 4);
static int out_printf(const struct out *o, const char *rel, const char *fmt, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return out_write(o, rel, text, (size_t) n);
}

/* A relative symlink at root/link pointing at root/target, as sysfs makes
 * them ("../../../devices/pci0000:00/..."), so the tree can be moved. */
static int out_link(const struct out *o, const char *link, const char *target)
{
	char path[PATH_MAX], rel[PATH_MAX] = "";
	size_t common = 0, len = 0;
	int r = out_parent_dir(o, link, path);

	if (r < 0)
		return r;
	for (size_t i = 0; link[i] && link[i] == target[i]; i++)
		if (link[i] == '/')
			common = i + 1;
	for (const char *p = link + common; *p; p++)
		if (*p == '/')
			len += (size_t) snprintf(rel + len, sizeof(rel) - len, "../");
	if (len + strlen(target + common) >= sizeof(rel))
		return -ENAMETOOLONG;
	strcat(rel, target + common);
	if (symlink(rel, path) < 0)
		return -errno;
	return 0;
}

static int out_devfile(const struct out *o, const struct dev *d, const char *name, const char *fmt, ...)
	_printf_(4, 5);
static int out_devfile(const struct out *o, const struct dev *d, const char *name, const char *fmt, ...)
{
	char rel[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	va_list ap;
	int n;

	if (snprintf(rel, sizeof(rel), "%s/%s", d->path, name) >= (int) sizeof(rel))
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	n = vasprintf(&text, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	return out_write(o, rel, text, (size_t) n);
}

static int out_devlink(const struct out *o, const struct dev *d, const char *name, const char *target)
{
	char rel[PATH_MAX];

	if (snprintf(rel, sizeof(rel), "%s/%s", d->path, name) >= (int) sizeof(rel))
		return -ENAMETOOLONG;
	return out_link(o, rel, target);
}

/* ----- configuration space ---------------------------------------------- */

struct cfg {
	uint8_t b[CFG_EXPRESS];
	unsigned next_cap, last_cap;
	unsigned next_ext, last_ext;
};

static void put8(struct cfg *c, unsigned off, uint8_t v)
{
	c->b[off] = v;
}

static void put16(struct cfg *c, unsigned off, uint16_t v)
{
	c->b[off] = v & 0xff;
	c->b[off + 1] = v >> 8;
}

static void put32(struct cfg *c, unsigned off, uint32_t v)
{
	put16(c, off, v & 0xffff);
	put16(c, off + 2, v >> 16);
}

static uint32_t get32(const struct cfg *c, unsigned off)
{
	return c->b[off] | (uint32_t) c->b[off + 1] << 8 | (uint32_t) c->b[off + 2] << 16 |
	       (uint32_t) c->b[off + 3] << 24;
}

static unsigned cfg_add_cap(struct cfg *c, uint8_t id, unsigned len)
{
	unsigned off = c->next_cap;

	put8(c, c->last_cap ? c->last_cap + 1 : 0x34, off);
	put8(c, off, id);
	c->last_cap = off;
	c->next_cap = (off + len + 3) & ~3u;
	c->b[0x06] |= 0x10;             /* Status: capabilities list */
	return off;
}

static unsigned cfg_add_ext(struct cfg *c, uint16_t id, uint8_t version, unsigned len)
{
	unsigned off = c->next_ext;

	if (c->last_ext)                /* next pointer: header bits 31:20 */
		put32(c, c->last_ext, get32(c, c->last_ext) | (uint32_t) off << 20);
	put32(c, off, id | (uint32_t) version << 16);
	c->last_ext = off;
	c->next_ext = (off + len + 3) & ~3u;
	return off;
}

static uint32_t bar_low_bits(const struct bar *b)
{
	if (b->kind == BAR_IO)
		return 0x1;
	return (b->kind == BAR_MEM64 ? 0x4 : 0x0) | (b->pref ? 0x8 : 0x0);
}

static void cfg_bars(struct cfg *c, const struct bar *bars, unsigned base)
{
	for (unsigned i = 0; i < NBARS; i++) {
		const struct bar *b = &bars[i];

		if (b->kind == BAR_NONE)
			continue;
		put32(c, base + 4 * i, (uint32_t) b->addr | bar_low_bits(b));
		if (b->kind == BAR_MEM64)
			put32(c, base + 4 * (i + 1), (uint32_t) (b->addr >> 32));
	}
}

static bool has_bar(const struct dev *d, bool io)
{
	for (unsigned i = 0; i < NBARS; i++)
		if (d->bars[i].kind != BAR_NONE && (d->bars[i].kind == BAR_IO) == io)
			return true;
	return false;
}

static void cfg_header(struct cfg *c, const struct dev *d)
{
	bool vf = d->physfn >= 0, bound = d->driver[0] != '\0';
	bool vfio = streq(d->driver, "vfio-pci");
	uint16_t cmd = 0;

	/* VFs read all-ones IDs and zero BARs: the kernel takes the IDs from
	 * the PF and the BARs from its VF BAR registers (PCIe SR-IOV spec). */
	put16(c, 0x00, vf ? 0xffff : d->vendor);
	put16(c, 0x02, vf ? 0xffff : d->device);
	if ((has_bar(d, true) || d->win_used[WIN_IO]) && !vf)
		cmd |= 0x1;
	if ((has_bar(d, false) || d->secondary >= 0) && !vf)
		cmd |= 0x2;
	if (bound && !vfio)
		cmd |= 0x4;             /* drivers enable bus mastering */
	if (bound && !vfio && (d->msi || d->msix.present))
		cmd |= 0x400;           /* INTx off while MSI(-X) is used */
	put16(c, 0x04, cmd);
	put8(c, 0x08, d->rev);
	put8(c, 0x09, d->class_code & 0xff);
	put16(c, 0x0a, d->class_code >> 8);
	put8(c, 0x0c, vf ? 0 : 0x10);   /* cache line: 64 bytes */
	put8(c, 0x0e, (d->secondary >= 0 ? 0x01 : 0x00) | (d->multifunction ? 0x80 : 0));
	if (d->secondary < 0) {
		if (!vf)
			cfg_bars(c, d->bars, 0x10);
		put16(c, 0x2c, d->sub_vendor);
		put16(c, 0x2e, d->sub_device);
	}
	put8(c, 0x3c, vf ? 0 : (uint8_t) d->irq);
	put8(c, 0x3d, vf ? 0 : 1);      /* INTA# */
}

static void cfg_bridge(struct cfg *c, const struct dev *d)
{
	put8(c, 0x18, d->bus);
	put8(c, 0x19, d->secondary);
	put8(c, 0x1a, d->subordinate);
	/* 16-bit I/O windows; base above limit closes a window */
	put8(c, 0x1c, d->win_used[WIN_IO] ? (d->win_lo[WIN_IO] >> 8) & 0xf0 : 0xf0);
	put8(c, 0x1d, d->win_used[WIN_IO] ? (d->win_hi[WIN_IO] >> 8) & 0xf0 : 0x00);
	if (d->win_used[WIN_MEM]) {
		put16(c, 0x20, (d->win_lo[WIN_MEM] >> 16) & 0xfff0);
		put16(c, 0x22, (d->win_hi[WIN_MEM] >> 16) & 0xfff0);
	} else {
		put16(c, 0x20, 0xfff0);
		put16(c, 0x22, 0x0000);
	}
	if (d->win_used[WIN_PREF]) {
		put16(c, 0x24, ((d->win_lo[WIN_PREF] >> 16) & 0xfff0) | 0x1);
		put16(c, 0x26, ((d->win_hi[WIN_PREF] >> 16) & 0xfff0) | 0x1);
		put32(c, 0x28, (uint32_t) (d->win_lo[WIN_PREF] >> 32));
		put32(c, 0x2c, (uint32_t) (d->win_hi[WIN_PREF] >> 32));
	} else {
		put16(c, 0x24, 0xfff1);
		put16(c, 0x26, 0x0001);
	}
	put16(c, 0x3e, 0x0002);         /* Bridge Control: SERR# forwarding */
}

static void cap_pm(struct cfg *c)
{
	unsigned off = cfg_add_cap(c, 0x01, 8);

	put16(c, off + 2, 0x0003);      /* PM spec 1.2, no PME */
	put16(c, off + 4, 0x0008);      /* D0, No_Soft_Reset */
}

static void cap_msi(struct cfg *c, const struct dev *d, bool enabled)
{
	unsigned off = cfg_add_cap(c, 0x05, 0x18);

	/* 64-bit, per-vector masking, one vector */
	put16(c, off + 2, 0x0180 | (enabled ? 0x1 : 0));
	if (enabled) {
		put32(c, off + 4, 0xfee00000 | (d->irq & 0xff) << 12);
		put16(c, off + 0xc, 0x4021 + (d->irq & 0xff));
	}
}

static void cap_msix(struct cfg *c, const struct dev *d, bool enabled)
{
	unsigned off = cfg_add_cap(c, 0x11, 12);

	put16(c, off + 2, (d->msix.count - 1) | (enabled ? 0x8000 : 0));
	put32(c, off + 4, d->msix.table_off | d->msix.table_bir);
	put32(c, off + 8, d->msix.pba_off | d->msix.pba_bir);
}

static uint16_t link_speeds_vector(unsigned gen)
{
	return (uint16_t) (((1u << gen) - 1) << 1);
}

static void cap_express(struct cfg *c, const struct dev *d)
{
	unsigned off = cfg_add_cap(c, 0x10, 0x3c);
	bool port = d->pcie == PCIE_ROOT_PORT || d->pcie == PCIE_DOWNSTREAM;
	bool endpoint = d->pcie == PCIE_ENDPOINT || d->pcie == PCIE_LEGACY || d->pcie == PCIE_RCIEP;
	uint16_t devctl = 0x0010 | 0x0020 | 0x0100 | 0x2000;

	/* DevCtl: relaxed ordering, MPS 256, extended tags, MRRS 512; No-Snoop
	 * as the description says (GPUs and NICs set it, FACTS §3). */
	if (d->nosnoop)
		devctl |= 0x0800;
	put16(c, off + 2, 0x0002 | (uint16_t) d->pcie << 4 | (port ? 0x0100 : 0));
	put32(c, off + 4, 0x00000001 | 0x20 | 0x8000 | (endpoint && d->physfn < 0 ? 0x10000000 : 0) |
		     (endpoint ? 0x0fc0 : 0));
	put16(c, off + 8, devctl);
	if (d->pcie != PCIE_RCIEP) {
		unsigned gen = d->link_gen ? d->link_gen : 3, width = d->link_width ? d->link_width : 1;

		put32(c, off + 0x0c, gen | width << 4 | 0x0c00 | 0x00400000 | (uint32_t) (d->slot + 1) << 24);
		put16(c, off + 0x10, 0x0040);   /* common clock */
		put16(c, off + 0x12, (uint16_t) (gen | width << 4 | 0x1000));
		put32(c, off + 0x2c, link_speeds_vector(gen));
		put16(c, off + 0x30, (uint16_t) gen);
	}
	/* DevCap2: completion timeout ranges, LTR, 10-bit tags; ARI
	 * forwarding on ports. */
	put32(c, off + 0x24, 0x0000001f | 0x0800 | 0x10000 | (port ? 0x20 : 0));
	put16(c, off + 0x28, port && d->ari ? 0x0020 : 0x0000);
}

static void ext_ari(struct cfg *c)
{
	cfg_add_ext(c, 0x000e, 1, 8);
}

static void ext_sriov(struct cfg *c, const struct dev *d)
{
	const struct sriov *s = &d->sriov;
	unsigned off = cfg_add_ext(c, 0x0010, 1, 0x40);

	put16(c, off + 0x08, s->num ? 0x0019 : 0x0010);   /* VF Enable, VF MSE, ARI */
	put16(c, off + 0x0c, (uint16_t) s->total);
	put16(c, off + 0x0e, (uint16_t) s->total);
	put16(c, off + 0x10, (uint16_t) s->num);
	put8(c, off + 0x12, (uint8_t) d->fn);
	put16(c, off + 0x14, (uint16_t) s->offset);
	put16(c, off + 0x16, (uint16_t) s->stride);
	put16(c, off + 0x1a, s->vf_device);
	put32(c, off + 0x1c, 0x00000553);               /* 4K..4M pages */
	put32(c, off + 0x20, 0x00000001);               /* 4K in use */
	cfg_bars(c, s->vfbars, off + 0x24);
}

/* Resizable BAR for BAR 0: every size from 256M up to the current one. */
static void ext_rebar(struct cfg *c, const struct dev *d)
{
	unsigned off = cfg_add_ext(c, 0x0015, 1, 0x0c);
	unsigned cur = 0;
	uint32_t supported = 0;

	while ((UINT64_C(1) << (cur + 20)) < d->bars[0].size)
		cur++;
	for (unsigned s = cur < 8 ? cur : 8; s <= cur; s++)
		supported |= 1u << (s + 4);
	put32(c, off + 4, supported);
	put32(c, off + 8, 0u | 1u << 5 | cur << 8);     /* BAR 0, one BAR */
}

static unsigned config_size(const struct dev *d)
{
	if (d->config_size)
		return d->config_size;
	return d->pcie == PCIE_NONE ? CFG_CONVENTIONAL : CFG_EXPRESS;
}

static void build_config(struct cfg *c, const struct dev *d)
{
	bool bound = d->driver[0] && !streq(d->driver, "vfio-pci");

	memset(c, 0, sizeof(*c));
	c->next_cap = 0x40;
	c->next_ext = 0x100;
	cfg_header(c, d);
	if (d->secondary >= 0)
		cfg_bridge(c, d);
	if (d->pm)
		cap_pm(c);
	if (d->msi)
		cap_msi(c, d, bound && !d->msix.present);
	if (d->pcie != PCIE_NONE)
		cap_express(c, d);
	if (d->msix.present)
		cap_msix(c, d, bound);
	/* On a port "ari" means ARI forwarding (DevCtl2); functions get the
	 * ARI capability, which every SR-IOV PF has. */
	if ((d->ari && d->secondary < 0) || d->sriov.present)
		ext_ari(c);
	if (d->sriov.present)
		ext_sriov(c, d);
	if (d->rebar && d->bars[0].kind != BAR_NONE)
		ext_rebar(c, d);
}

/* ----- per-device sysfs files ------------------------------------------- */

static uint64_t bar_flags(const struct bar *b)
{
	uint64_t f = RES_SIZEALIGN | bar_low_bits(b);

	if (b->kind == BAR_IO)
		return f | RES_IO;
	f |= RES_MEM;
	if (b->pref)
		f |= RES_PREFETCH;
	if (b->kind == BAR_MEM64)
		f |= RES_MEM_64;
	return f;
}

static int append_resource(char **buf, size_t *len, uint64_t start, uint64_t size, uint64_t flags)
{
	char line[80];
	int n = snprintf(line, sizeof(line), "0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64 "\n",
			 size ? start : 0, size ? start + size - 1 : 0, size ? flags : 0);
	char *p = realloc(*buf, *len + (size_t) n + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p + *len, line, (size_t) n + 1);
	*buf = p;
	*len += (size_t) n;
	return 0;
}

/* The "resource" file of a kernel with CONFIG_PCI_IOV (Debian's): 6 BARs,
 * the ROM, 6 IOV (VF BAR) resources, and for bridges 4 window lines. */
static int write_resource(const struct out *o, const struct dev *d)
{
	static const uint64_t win_flags[WIN_COUNT] = { 0x100, 0x200, 0x102201 };
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < NBARS; i++)
		r = append_resource(&buf, &len, d->bars[i].addr, d->bars[i].size, bar_flags(&d->bars[i]));
	if (r >= 0)
		r = append_resource(&buf, &len, 0, 0, 0);       /* no ROM */
	for (unsigned i = 0; r >= 0 && i < NBARS; i++) {
		const struct bar *b = &d->sriov.vfbars[i];

		r = append_resource(&buf, &len, b->addr, d->sriov.present ? b->size * d->sriov.total : 0,
				    bar_flags(b));
	}
	for (int w = 0; r >= 0 && d->secondary >= 0 && w < WIN_COUNT; w++)
		r = append_resource(&buf, &len, d->win_lo[w], d->win_used[w] ? d->win_hi[w] - d->win_lo[w] + 1 : 0,
				    win_flags[w]);
	if (r >= 0 && d->secondary >= 0)
		r = append_resource(&buf, &len, 0, 0, 0);
	if (r < 0)
		return r;
	return out_devfile(o, d, "resource", "%s", buf);
}

/* resourceN for every BAR, resourceN_wc only for prefetchable memory
 * (pci-sysfs.c, FACTS §3; PAT is on in every fixture). */
static int write_bar_files(const struct out *o, const struct dev *d)
{
	for (unsigned i = 0; i < NBARS; i++) {
		char name[32];
		int r;

		if (d->bars[i].kind == BAR_NONE)
			continue;
		snprintf(name, sizeof(name), "resource%u", i);
		r = out_devfile(o, d, name, "%s", "");
		if (r >= 0 && d->bars[i].pref) {
			snprintf(name, sizeof(name), "resource%u_wc", i);
			r = out_devfile(o, d, name, "%s", "");
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void cpu_mask(unsigned count, char *buf, size_t size)
{
	/* %*pb: 32-bit groups, most significant first, comma separated */
	unsigned groups = (count + 31) / 32;
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned g = groups; g > 0; g--) {
		unsigned bits = count - (g - 1) * 32;
		uint32_t m = bits >= 32 ? 0xffffffffu : (1u << bits) - 1;

		len += (size_t) snprintf(buf + len, size - len, g == groups ? "%x" : ",%08x", m);
	}
}

static int write_ids(const struct out *o, const struct dev *d)
{
	int r = out_devfile(o, d, "vendor", "0x%04x\n", d->vendor);

	if (r >= 0)
		r = out_devfile(o, d, "device", "0x%04x\n", d->device);
	if (r >= 0)
		r = out_devfile(o, d, "subsystem_vendor", "0x%04x\n", d->sub_vendor);
	if (r >= 0)
		r = out_devfile(o, d, "subsystem_device", "0x%04x\n", d->sub_device);
	if (r >= 0)
		r = out_devfile(o, d, "class", "0x%06x\n", d->class_code);
	if (r >= 0)
		r = out_devfile(o, d, "revision", "0x%02x\n", d->rev);
	return r;
}

static int write_modalias(const struct out *o, const struct dev *d)
{
	char alias[128];
	int r;

	snprintf(alias, sizeof(alias), "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", d->vendor, d->device,
		 d->sub_vendor, d->sub_device, d->class_code >> 16, (d->class_code >> 8) & 0xff,
		 d->class_code & 0xff);
	r = out_devfile(o, d, "modalias", "%s\n", alias);
	if (r >= 0)
		r = out_devfile(o, d, "uevent", "%s%s%sPCI_CLASS=%X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\n"
				"PCI_SLOT_NAME=%s\nMODALIAS=%s\n", d->driver[0] ? "DRIVER=" : "", d->driver,
				d->driver[0] ? "\n" : "", d->class_code, d->vendor, d->device, d->sub_vendor,
				d->sub_device, d->bdf, alias);
	return r;
}

static int write_misc(const struct out *o, const struct root_desc *rd, const struct dev *d)
{
	char mask[128];
	int r;

	cpu_mask(rd->cpu.count, mask, sizeof(mask));
	r = out_devfile(o, d, "irq", "%d\n", d->irq);
	if (r >= 0)
		r = out_devfile(o, d, "numa_node", "%d\n", d->numa);
	if (r >= 0)
		r = out_devfile(o, d, "local_cpus", "%s\n", mask);
	if (r >= 0)
		r = rd->cpu.count > 1 ? out_devfile(o, d, "local_cpulist", "0-%u\n", rd->cpu.count - 1)
				      : out_devfile(o, d, "local_cpulist", "0\n");
	if (r >= 0)
		r = out_devfile(o, d, "enable", "%d\n", d->driver[0] ? 1 : 0);
	if (r >= 0)
		r = out_devfile(o, d, "msi_bus", "1\n");
	if (r >= 0)
		r = out_devfile(o, d, "broken_parity_status", "0\n");
	if (r >= 0)
		r = out_devfile(o, d, "d3cold_allowed", "1\n");
	if (r >= 0)
		r = out_devfile(o, d, "driver_override", "(null)\n");
	if (r >= 0)
		r = out_devfile(o, d, "power_state", "D0\n");
	if (r >= 0)
		r = out_devfile(o, d, "dma_mask_bits", "%d\n", d->driver[0] ? 64 : 32);
	if (r >= 0)
		r = out_devfile(o, d, "consistent_dma_mask_bits", "%d\n", d->driver[0] ? 64 : 32);
	if (r >= 0)
		r = out_devfile(o, d, "ari_enabled", "%d\n", d->ari ? 1 : 0);
	return r;
}

static const char *link_speed_name(unsigned gen)
{
	static const char *const names[] = { "2.5 GT/s PCIe", "5.0 GT/s PCIe", "8.0 GT/s PCIe",
					     "16.0 GT/s PCIe", "32.0 GT/s PCIe" };

	return names[(gen ? gen : 3) - 1];
}

static int write_link(const struct out *o, const struct dev *d)
{
	unsigned width = d->link_width ? d->link_width : 1;
	int r;

	if (d->pcie == PCIE_NONE || d->pcie == PCIE_RCIEP)
		return 0;
	r = out_devfile(o, d, "current_link_speed", "%s\n", link_speed_name(d->link_gen));
	if (r >= 0)
		r = out_devfile(o, d, "current_link_width", "%u\n", width);
	if (r >= 0)
		r = out_devfile(o, d, "max_link_speed", "%s\n", link_speed_name(d->link_gen));
	if (r >= 0)
		r = out_devfile(o, d, "max_link_width", "%u\n", width);
	return r;
}

static int write_sriov_files(const struct out *o, const struct root_desc *rd, const struct dev *d)
{
	const struct sriov *s = &d->sriov;
	int r;

	if (d->physfn >= 0)
		return out_devlink(o, d, "physfn", rd->devs[d->physfn].path);
	if (!s->present)
		return 0;
	r = out_devfile(o, d, "sriov_totalvfs", "%u\n", s->total);
	if (r >= 0)
		r = out_devfile(o, d, "sriov_numvfs", "%u\n", s->num);
	if (r >= 0)
		r = out_devfile(o, d, "sriov_offset", "%u\n", s->offset);
	if (r >= 0)
		r = out_devfile(o, d, "sriov_stride", "%u\n", s->stride);
	if (r >= 0)
		r = out_devfile(o, d, "sriov_vf_device", "%x\n", s->vf_device);
	if (r >= 0)
		r = out_devfile(o, d, "sriov_drivers_autoprobe", "1\n");
	for (size_t i = 0; r >= 0 && i < rd->n_devs; i++)
		if (rd->devs[i].physfn == (int) (d - rd->devs)) {
			char name[32];

			snprintf(name, sizeof(name), "virtfn%u", rd->devs[i].vf_index);
			r = out_devlink(o, d, name, rd->devs[i].path);
		}
	return r;
}

static int write_dev_links(const struct out *o, const struct root_desc *rd, const struct dev *d)
{
	char target[PATH_MAX];
	int r = out_devlink(o, d, "subsystem", "sys/bus/pci");

	if (r >= 0 && d->driver[0]) {
		snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s", d->driver);
		r = out_devlink(o, d, "driver", target);
		if (r >= 0) {
			snprintf(target, sizeof(target), "sys/bus/pci/drivers/%s/%s", d->driver, d->bdf);
			r = out_link(o, target, d->path);
		}
	}
	if (r >= 0 && d->iommu[0])
		r = out_devlink(o, d, "iommu", find_unit(rd, d->iommu)->path);
	if (r >= 0 && d->group >= 0) {
		snprintf(target, sizeof(target), "sys/kernel/iommu_groups/%d", d->group);
		r = out_devlink(o, d, "iommu_group", target);
		if (r >= 0) {
			snprintf(target, sizeof(target), "sys/kernel/iommu_groups/%d/devices/%s", d->group, d->bdf);
			r = out_link(o, target, d->path);
		}
	}
	if (r >= 0) {
		snprintf(target, sizeof(target), "sys/bus/pci/devices/%s", d->bdf);
		r = out_link(o, target, d->path);
	}
	return r;
}

static int write_device(const struct out *o, const struct root_desc *rd, const struct dev *d)
{
	struct cfg *c = malloc(sizeof(*c));
	char rel[PATH_MAX];
	int r;

	if (!c)
		return -ENOMEM;
	build_config(c, d);
	snprintf(rel, sizeof(rel), "%s/config", d->path);
	r = out_write(o, rel, c->b, config_size(d));
	free(c);
	if (r >= 0)
		r = write_ids(o, d);
	if (r >= 0)
		r = write_modalias(o, d);
	if (r >= 0)
		r = write_misc(o, rd, d);
	if (r >= 0)
		r = write_link(o, d);
	if (r >= 0)
		r = write_resource(o, d);
	if (r >= 0)
		r = write_bar_files(o, d);
	if (r >= 0 && d->secondary >= 0) {
		r = out_devfile(o, d, "secondary_bus_number", "%d\n", d->secondary);
		if (r >= 0)
			r = out_devfile(o, d, "subordinate_bus_number", "%u\n", d->subordinate);
	}
	if (r >= 0)
		r = write_sriov_files(o, rd, d);
	if (r >= 0)
		r = write_dev_links(o, rd, d);
	return r;
}

/* ----- IOMMU units, groups, drivers, /proc ------------------------------ */

static int write_unit(const struct out *o, const struct root_desc *rd, const struct unit *u)
{
	char rel[PATH_MAX], target[PATH_MAX];
	int r;

	snprintf(rel, sizeof(rel), "sys/class/iommu/%s", u->name);
	r = out_link(o, rel, u->path);
	if (r < 0)
		return r;
	if (u->amd) {
		snprintf(rel, sizeof(rel), "%s/amd-iommu/cap", u->path);
		r = out_printf(o, rel, "%" PRIx64 "\n", u->cap);
		snprintf(rel, sizeof(rel), "%s/amd-iommu/features", u->path);
		/* 6.x prints EFR and EFR2 (drivers/iommu/amd/init.c) */
		if (r >= 0)
			r = out_printf(o, rel, "%" PRIx64 ":0\n", u->ecap);
	} else {
		snprintf(rel, sizeof(rel), "%s/intel-iommu/cap", u->path);
		r = out_printf(o, rel, "%" PRIx64 "\n", u->cap);
		snprintf(rel, sizeof(rel), "%s/intel-iommu/ecap", u->path);
		if (r >= 0)
			r = out_printf(o, rel, "%" PRIx64 "\n", u->ecap);
		snprintf(rel, sizeof(rel), "%s/intel-iommu/address", u->path);
		if (r >= 0)
			r = out_printf(o, rel, "%" PRIx64 "\n", u->address);
		snprintf(rel, sizeof(rel), "%s/intel-iommu/version", u->path);
		if (r >= 0)
			r = out_printf(o, rel, "%s\n", u->version);
	}
	snprintf(rel, sizeof(rel), "%s/devices", u->path);
	if (r >= 0)
		r = out_mkdir(o, rel);
	for (size_t i = 0; r >= 0 && i < rd->n_devs; i++)
		if (streq(rd->devs[i].iommu, u->name)) {
			snprintf(target, sizeof(target), "%s/devices/%s", u->path, rd->devs[i].bdf);
			r = out_link(o, target, rd->devs[i].path);
		}
	return r;
}

static int write_groups(const struct out *o, const struct root_desc *rd)
{
	bool amd = rd->cpu.amd;

	for (size_t i = 0; i < rd->n_groups; i++) {
		const struct group *g = &rd->groups[i];
		char rel[PATH_MAX];
		int r;

		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/type", g->id);
		r = out_printf(o, rel, "%s\n", g->type);
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/reserved_regions", g->id);
		if (r >= 0)
			r = out_printf(o, rel, "0x00000000fee00000 0x00000000feefffff msi\n%s",
				       amd ? "0x000000fd00000000 0x000000ffffffffff reserved\n" : "");
		snprintf(rel, sizeof(rel), "sys/kernel/iommu_groups/%d/devices", g->id);
		if (r >= 0)
			r = out_mkdir(o, rel);
		if (r < 0)
			return r;
	}
	return 0;
}

static int write_drivers(const struct out *o, const struct root_desc *rd)
{
	static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };

	for (size_t i = 0; i < rd->n_devs; i++) {
		const char *drv = rd->devs[i].driver;
		char rel[PATH_MAX];

		if (!drv[0])
			continue;
		for (size_t f = 0; f < ELEMENTSOF(files); f++) {
			int r;

			snprintf(rel, sizeof(rel), "sys/bus/pci/drivers/%s/%s", drv, files[f]);
			r = out_write(o, rel, "", 0);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int append_text(char **buf, size_t *len, const char *fmt, ...) _printf_(3, 4);
static int append_text(char **buf, size_t *len, const char *fmt, ...)
{
	_cleanup_free_ char *piece = NULL;
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&piece, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	p = realloc(*buf, *len + (size_t) n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p + *len, piece, (size_t) n + 1);
	*buf = p;
	*len += (size_t) n;
	return 0;
}

/* One /proc/cpuinfo block per CPU, in the kernel's field order
 * (arch/x86/kernel/cpu/proc.c). */
static int cpuinfo_block(char **buf, size_t *len, const struct cpu *c, unsigned i)
{
	return append_text(buf, len,
		"processor\t: %u\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\nmodel name\t: %s\n"
		"stepping\t: %u\nmicrocode\t: %s\ncpu MHz\t\t: %s\ncache size\t: %s\nphysical id\t: 0\n"
		"siblings\t: %u\ncore id\t\t: %u\ncpu cores\t: %u\napicid\t\t: %u\ninitial apicid\t: %u\n"
		"fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %u\nwp\t\t: yes\nflags\t\t: %s\n"
		"bugs\t\t:%s%s\nbogomips\t: 4000.00\n%sclflush size\t: 64\ncache_alignment\t: 64\n"
		"address sizes\t: %s\npower management:%s\n\n",
		i, c->amd ? "AuthenticAMD" : "GenuineIntel", c->family, c->model, c->name, c->stepping,
		c->microcode, c->mhz, c->cache, c->count, i, c->count, 2 * i, 2 * i, c->amd ? 16 : 32,
		c->flags, c->bugs[0] ? " " : "", c->bugs, c->amd ? "TLB size\t: 2560 4K pages\n" : "", c->addr_sizes,
		c->amd ? " ts ttp tm hwpstate cpb eff_freq_ro [13] [14]" : "");
}

static int write_proc(const struct out *o, const struct root_desc *rd)
{
	_cleanup_free_ char *info = NULL;
	size_t len = 0;
	int r = 0;

	for (unsigned i = 0; r >= 0 && i < rd->cpu.count; i++)
		r = cpuinfo_block(&info, &len, &rd->cpu, i);
	if (r >= 0)
		r = out_write(o, "proc/cpuinfo", info, len);
	if (r >= 0)
		r = out_printf(o, "proc/sys/kernel/osrelease", "%s\n", rd->kernel);
	if (r >= 0)
		r = out_printf(o, "proc/cmdline", "%s\n",
			       rd->have_cmdline ? rd->cmdline : "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet");
	return r;
}

static int write_host(const struct out *o, const struct root_desc *rd)
{
	int r = out_mkdir(o, "sys/bus/pci/devices");

	if (r >= 0)
		r = out_mkdir(o, "sys/bus/pci/drivers");
	if (r >= 0 && (rd->n_units || rd->empty_iommu_class))
		r = out_mkdir(o, "sys/class/iommu");
	if (r >= 0)
		r = write_groups(o, rd);
	if (r >= 0)
		r = write_drivers(o, rd);
	for (size_t i = 0; r >= 0 && i < rd->n_devs; i++)
		r = write_device(o, rd, &rd->devs[i]);
	for (size_t i = 0; r >= 0 && i < rd->n_units; i++)
		r = write_unit(o, rd, &rd->units[i]);
	for (size_t i = 0; r >= 0 && i < rd->n_params; i++) {
		char rel[PATH_MAX];

		snprintf(rel, sizeof(rel), "sys/module/%s/parameters/%s", rd->params[i].module, rd->params[i].name);
		r = out_printf(o, rel, "%s\n", rd->params[i].value);
	}
	if (r >= 0)
		r = write_proc(o, rd);
	if (r >= 0 && rd->snapshot)
		r = out_printf(o, "memtype-snapshot.json",
			       "{\"schema\": \"memtype.snapshot/1\", \"kvm\": {\"present\": %s, "
			       "\"supported_quirks\": %" PRIu64 "}}\n",
			       rd->kvm_present ? "true" : "false", rd->quirks);
	return r;
}

/* ----- edits for broken roots ------------------------------------------- */

static int apply_edit(const struct out *o, const struct edit *e)
{
	char path[PATH_MAX];
	int r = out_path(o, e->path, path);

	if (r < 0)
		return r;
	if (streq(e->op, "remove"))
		r = unlink(path) < 0 ? -errno : 0;
	else if (streq(e->op, "truncate")) {
		uint64_t len = 0;

		(void) parse_u64(e->arg, 0, &len);
		r = truncate(path, (off_t) len) < 0 ? -errno : 0;
	} else if (streq(e->op, "write"))
		r = out_write(o, e->path, e->arg, strlen(e->arg));
	else {
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
		r = symlink(e->arg, path) < 0 ? -errno : 0;
	}
	if (r < 0)
		fprintf(stderr, "%s: %s %s: %s\n", e->where, e->op, e->path, strerror(-r));
	return r;
}

/* ----- main ------------------------------------------------------------- */

static int prepare_outdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		if (errno != ENOENT)
			return -errno;
		return mkdir(dir, 0755) < 0 ? -errno : 0;
	}
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			closedir(d);
			return -ENOTEMPTY;
		}
	closedir(d);
	return 0;
}

static void root_desc_free(struct root_desc *rd)
{
	free(rd->params);
	free(rd->units);
	free(rd->groups);
	free(rd->devs);
	free(rd->edits);
}

int main(int argc, char **argv)
{
	struct root_desc rd = { 0 };
	struct out o;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DESCRIPTION OUTDIR\n", argv[0]);
		return 2;
	}
	r = parse_file(NULL, argv[1], &rd);
	if (r >= 0)
		r = layout(&rd);
	if (r < 0)
		goto out;
	if (strlen(argv[2]) >= sizeof(o.root) - 1) {
		r = -ENAMETOOLONG;
		fprintf(stderr, "mkroot: %s: %s\n", argv[2], strerror(-r));
		goto out;
	}
	strcpy(o.root, argv[2]);
	r = prepare_outdir(o.root);
	if (r < 0) {
		fprintf(stderr, "mkroot: %s: %s (give a new or empty directory)\n", o.root, strerror(-r));
		goto out;
	}
	r = write_host(&o, &rd);
	if (r < 0)
		fprintf(stderr, "mkroot: writing %s: %s\n", o.root, strerror(-r));
	for (size_t i = 0; r >= 0 && i < rd.n_edits; i++)
		r = apply_edit(&o, &rd.edits[i]);
out:
	root_desc_free(&rd);
	return r < 0 ? 1 : 0;
}
