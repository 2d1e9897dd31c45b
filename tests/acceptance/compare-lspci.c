/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* compare-lspci: check that what memtypectl's inventory reads from an lspci
 * dump (libpci's dump method) agrees with lspci itself, the oracle, for the
 * same dump:
 *
 *   compare-lspci INVENTORY.json LSPCI.txt
 *
 * INVENTORY.json is `memtypectl --json inventory --lspci-dump FILE`,
 * LSPCI.txt is `lspci -F FILE -vvv -n -D`. Compared per function: the set of
 * addresses, vendor:device, class with prog-if, subsystem (when both give
 * one), the prefetchable memory BARs and the DevCtl No-Snoop bit. Prints one
 * line per disagreement; exit 0 when none, 1 when some, 2 on bad input. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define MAX_FUNCTIONS 4096

struct lspci_function {
	char bdf[16];
	unsigned vendor, device, class_code;   /* class_code: 0xCCSSPP */
	bool has_subsystem;
	unsigned subsystem_vendor, subsystem_device;
	unsigned prefetchable_bars;            /* bit N: Region N is prefetchable memory */
	int nosnoop;                           /* -1 when lspci shows no DevCtl */
	bool express;                          /* has a PCI Express capability */
	bool matched;
};

struct lspci_state {
	struct lspci_function *f;
	size_t n;
	bool in_devctl;
};

static int parse_header_line(const char *line, struct lspci_function *f)
{
	const char *progif;
	unsigned cls, p = 0;

	memset(f, 0, sizeof(*f));
	f->nosnoop = -1;
	if (sscanf(line, "%15s %x: %x:%x", f->bdf, &cls, &f->vendor, &f->device) != 4)
		return -EINVAL;
	progif = strstr(line, "(prog-if ");
	if (progif && sscanf(progif, "(prog-if %x", &p) != 1)
		return -EINVAL;
	f->class_code = cls << 8 | p;
	return 0;
}

static void parse_detail_line(const char *line, struct lspci_state *s)
{
	struct lspci_function *f = &s->f[s->n - 1];
	const char *t = line + strspn(line, "\t ");
	const char *ns;
	unsigned idx;

	if (strncmp(t, "Capabilities: [", 15) == 0 && strstr(t, "] Express"))
		f->express = true;
	if (strncmp(t, "DevCtl:", 7) == 0)
		s->in_devctl = true;
	else if (strncmp(t, "DevSta:", 7) == 0 || strncmp(t, "Capabilities:", 13) == 0)
		s->in_devctl = false;
	if (s->in_devctl && (ns = strstr(t, "NoSnoop")) && (ns[7] == '+' || ns[7] == '-')) {
		f->nosnoop = ns[7] == '+';
		s->in_devctl = false;
	}
	if (sscanf(t, "Region %u: Memory at", &idx) == 1 && idx < 6 &&
	    strstr(t, ", prefetchable)"))
		f->prefetchable_bars |= 1u << idx;
	if (strncmp(line, "\tSubsystem: ", 12) == 0 &&
	    sscanf(line + 12, "%x:%x", &f->subsystem_vendor, &f->subsystem_device) == 2)
		f->has_subsystem = true;
}

static int read_lspci(const char *path, struct lspci_state *s)
{
	char line[4096];
	FILE *in;
	int r = 0;

	in = fopen(path, "re");
	if (!in)
		return -errno;
	while (fgets(line, sizeof(line), in)) {
		if (line[0] == '\n' || line[0] == '\0')
			continue;
		if (line[0] != '\t' && line[0] != ' ') {
			if (s->n == MAX_FUNCTIONS) {
				r = -E2BIG;
				break;
			}
			r = parse_header_line(line, &s->f[s->n]);
			if (r < 0)
				break;
			s->n++;
			s->in_devctl = false;
		} else if (s->n > 0) {
			parse_detail_line(line, s);
		}
	}
	fclose(in);
	return r;
}

static struct lspci_function *find_lspci(struct lspci_state *s, const char *bdf)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->f[i].bdf, bdf) == 0)
			return &s->f[i];
	return NULL;
}

#define MISMATCH(bdf, fmt, ...) \
	(printf("  %s: " fmt "\n", bdf, __VA_ARGS__), 1)

static const char *get_string(struct json_object *o, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_string))
		return NULL;
	return json_object_get_string(m);
}

static unsigned get_hex(struct json_object *o, const char *key)
{
	const char *s = get_string(o, key);

	return s ? (unsigned)strtoul(s, NULL, 16) : ~0u;
}

static unsigned inventory_prefetchable_bars(struct json_object *dev)
{
	struct json_object *bars, *b, *m;
	unsigned mask = 0;

	if (!json_object_object_get_ex(dev, "bars", &bars) ||
	    !json_object_is_type(bars, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(bars); i++) {
		const char *type;

		b = json_object_array_get_idx(bars, i);
		type = get_string(b, "type");
		if (!type || strcmp(type, "mem") != 0)
			continue;
		if (json_object_object_get_ex(b, "prefetchable", &m) && json_object_get_boolean(m) &&
		    json_object_object_get_ex(b, "index", &m))
			mask |= 1u << (json_object_get_int(m) & 7);
	}
	return mask;
}

static int get_tristate(struct json_object *o, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !m)
		return -1;
	return json_object_get_boolean(m);
}

/* A function without a PCIe capability cannot enable No-Snoop: lspci shows
 * no DevCtl, the inventory may say false or unknown. */
static int compare_pcie(const char *bdf, struct json_object *dev, const struct lspci_function *f)
{
	int ns = get_tristate(dev, "nosnoop_enabled"), pcie = get_tristate(dev, "pcie");
	int bad = 0;

	if (get_tristate(dev, "config_partial") != 1 && pcie != f->express)
		bad += MISMATCH(bdf, "pcie %d, lspci says %d", pcie, f->express);
	if (f->nosnoop < 0 ? ns == 1 : ns != f->nosnoop)
		bad += MISMATCH(bdf, "No-Snoop %d, lspci says %d (-1: no DevCtl)", ns, f->nosnoop);
	return bad;
}


static int compare_ids(const char *bdf, struct json_object *dev, const struct lspci_function *f)
{
	unsigned v = get_hex(dev, "vendor_id"), d = get_hex(dev, "device_id");
	unsigned c = get_hex(dev, "class");
	const char *sub = get_string(dev, "subsystem");
	unsigned sv, sd;
	int bad = 0;

	if (v != f->vendor || d != f->device)
		bad += MISMATCH(bdf, "id %04x:%04x, lspci says %04x:%04x", v, d, f->vendor, f->device);
	if (c != f->class_code)
		bad += MISMATCH(bdf, "class %06x, lspci says %06x", c, f->class_code);
	if (sub && f->has_subsystem && sscanf(sub, "%x:%x", &sv, &sd) == 2 &&
	    (sv != f->subsystem_vendor || sd != f->subsystem_device))
		bad += MISMATCH(bdf, "subsystem %s, lspci says %04x:%04x", sub,
				f->subsystem_vendor, f->subsystem_device);
	return bad;
}

static int compare_function(struct json_object *dev, struct lspci_state *s)
{
	const char *bdf = get_string(dev, "bdf");
	struct lspci_function *f;
	unsigned pf;
	int bad;

	if (!bdf)
		return MISMATCH("?", "%s", "device without a bdf");
	f = find_lspci(s, bdf);
	if (!f)
		return MISMATCH(bdf, "%s", "not listed by lspci");
	f->matched = true;
	bad = compare_ids(bdf, dev, f);
	pf = inventory_prefetchable_bars(dev);
	if (pf != f->prefetchable_bars)
		bad += MISMATCH(bdf, "prefetchable BARs mask 0x%02x, lspci says 0x%02x", pf,
				f->prefetchable_bars);
	return bad + compare_pcie(bdf, dev, f);
}

static int compare(struct json_object *inv, struct lspci_state *s)
{
	struct json_object *devices;
	int bad = 0;

	if (!json_object_object_get_ex(inv, "devices", &devices) ||
	    !json_object_is_type(devices, json_type_array)) {
		printf("  inventory JSON has no \"devices\" array\n");
		return 1;
	}
	for (size_t i = 0; i < json_object_array_length(devices); i++)
		bad += compare_function(json_object_array_get_idx(devices, i), s);
	for (size_t i = 0; i < s->n; i++)
		if (!s->f[i].matched)
			bad += MISMATCH(s->f[i].bdf, "%s", "listed by lspci, missing from the inventory");
	return bad;
}

int main(int argc, char **argv)
{
	struct lspci_state s = {};
	struct json_object *inv;
	int r, bad;

	if (argc != 3) {
		fprintf(stderr, "usage: compare-lspci INVENTORY.json LSPCI.txt\n");
		return 2;
	}
	inv = json_object_from_file(argv[1]);
	if (!inv) {
		fprintf(stderr, "compare-lspci: %s: %s\n", argv[1], json_util_get_last_err());
		return 2;
	}
	s.f = calloc(MAX_FUNCTIONS, sizeof(*s.f));
	if (!s.f)
		return 2;
	r = read_lspci(argv[2], &s);
	if (r < 0) {
		fprintf(stderr, "compare-lspci: %s: %s\n", argv[2], strerror(-r));
		return 2;
	}
	bad = compare(inv, &s);
	json_object_put(inv);
	free(s.f);
	return bad ? 1 : 0;
}
