/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer harnesses for the inventory's parsers of outside input: a host
 * root, and above all a captured one, may come from anywhere. Two targets
 * from this one file:
 *
 *   fuzz-inventory     the first byte picks a text parser (memtype-snapshot.json,
 *                      a sysfs "resource" file, /proc/cpuinfo, an IOMMU
 *                      register file, the kernel release, /proc/cmdline, a
 *                      PCI address, a kernel boolean), the rest is its text;
 *   fuzz-lspci-dump    (-DFUZZ_LSPCI_DUMP) the input is an lspci -xxxx dump,
 *                      read through inventory_read() and libpci's dump method.
 *
 * Every input must give a result that keeps the parser's promises, or an
 * error; never a crash, a leak, undefined behaviour or output. Not built by
 * default; tests/fuzz/run-fuzzers builds and runs both. By hand, from a
 * configured build directory (for config.h), SRC being the source tree:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined [-DFUZZ_LSPCI_DUMP] \
 *     -include config.h -I$SRC $(pkg-config --cflags json-c libpci) \
 *     $SRC/tests/fuzz/fuzz-inventory.c \
 *     $SRC/inventory/{inventory,cpu,kvm,iommu,pci,capture,host-json}.c \
 *     $SRC/policy/{model,quirks}.c $SRC/common/{error,fileio,json-util}.c \
 *     $(pkg-config --libs json-c libpci) -o fuzz-inventory
 *   ./fuzz-inventory -max_total_time=60 -max_len=8192 CORPUS
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inventory/inventory-internal.h"
#include "inventory/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define check(cond) ((cond) ? (void)0 : abort())

#ifndef FUZZ_LSPCI_DUMP
/* ----- the text parsers ------------------------------------------------- */

static void fuzz_snapshot(char *text)
{
	struct host_kvm kvm, before;
	struct mt_error err = {};
	int r;

	memset(&kvm, 0x5a, sizeof(kvm));
	before = kvm;
	r = snapshot_parse(text, "fuzz.json", &kvm, &err);
	if (r < 0) {
		/* a failure names the file and leaves the output alone */
		check(err.code == r && strncmp(err.message, "fuzz.json: ", 11) == 0);
		check(memcmp(&kvm, &before, sizeof(kvm)) == 0);
		return;
	}
	check(kvm.present == MT_YES || kvm.present == MT_NO || kvm.present == MT_UNKNOWN);
	check(!kvm.quirks_known || kvm.supported_quirks <= UINT32_MAX);
}

/* Each line as read_bars() gives it to the parser. */
static void fuzz_resource(char *text)
{
	for (char *line = text, *next; line; line = next) {
		struct pci_bar bar;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (resource_line_parse(line, &bar) < 0 || !bar.present)
			continue;
		/* a BAR is a non-empty range that does not wrap */
		check(bar.size > 0 && bar.start + (bar.size - 1) >= bar.start);
	}
}

static void fuzz_cpuinfo(char *text)
{
	struct host_cpu cpu;
	char arch[16] = "unset";

	if (cpuinfo_parse(text, &cpu, arch) < 0) {
		check(streq(arch, "unset"));
		return;
	}
	check(streq(arch, "") || streq(arch, "x86_64") || streq(arch, "i686") || streq(arch, "aarch64"));
	check(strnlen(cpu.model_name, sizeof(cpu.model_name)) < sizeof(cpu.model_name));
}

static void fuzz_register(char *text)
{
	uint64_t v, w;

	if (register_text_parse(text, false, &v) == 0)
		/* one word parses the same whether a second one may follow */
		check(register_text_parse(text, true, &w) < 0 || w == v);
	(void)parse_hex_register(text, &v);
}

static void fuzz_kernel_release(char *text)
{
	struct kernel_version k;

	if (kernel_version_parse(text, &k) == 0)
		check(k.major > 0 && kernel_version_cmp(&k, k.major, k.minor) == 0);
}

static void fuzz_cmdline(char *text)
{
	if (cmdline_has_amd_v2(text))
		check(strstr(text, "amd_iommu=") && strstr(text, "pgtbl_v2"));
}

static void fuzz_bdf(char *text)
{
	char bdf[MT_BDF_MAX], again[MT_BDF_MAX];

	if (bdf_normalize(text, bdf) < 0)
		return;
	/* the canonical form is its own canonical form */
	check(bdf_normalize(bdf, again) == 0 && streq(bdf, again));
	check(strlen(bdf) == 12 || strlen(bdf) == 13);
}

static void fuzz_kernel_bool(char *text)
{
	bool b;

	if (parse_kernel_bool(text, &b) == 0)
		check(strlen(text) == 1);
}

static void (*const parsers[])(char *text) = {
	fuzz_snapshot,
	fuzz_resource,
	fuzz_cpuinfo,
	fuzz_register,
	fuzz_kernel_release,
	fuzz_cmdline,
	fuzz_bdf,
	fuzz_kernel_bool,
};

static int fuzz_text_parsers(const uint8_t *data, size_t size)
{
	char *text;

	if (size == 0)
		return 0;
	/* the inventory reads files as NUL-terminated text */
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	parsers[data[0] % ELEMENTSOF(parsers)](text);
	free(text);
	return 0;
}

#else
/* ----- lspci dumps ---------------------------------------------------------- */

static void check_dump_host(const struct host *h)
{
	struct json_object *json = NULL;

	check(h->n_functions > 0 && streq(h->source, "lspci-dump"));
	for (size_t i = 0; i < h->n_functions; i++) {
		char bdf[MT_BDF_MAX];

		check(bdf_normalize(h->functions[i].bdf, bdf) == 0 && streq(bdf, h->functions[i].bdf));
		/* sorted, each address once: the policy engine bisects */
		check(i == 0 || strcmp(h->functions[i - 1].bdf, h->functions[i].bdf) < 0);
		check(host_find_function(h, bdf) == &h->functions[i]);
	}
	check(host_to_json(h, &json) == 0);
	json_object_put(json);
}

static char path[4096];

static void remove_dump(void)
{
	unlink(path);
}

static int fuzz_lspci_dump(const uint8_t *data, size_t size)
{
	struct inventory_options o = { .lspci_dump = path };
	struct mt_error err = {};
	struct host *h = NULL;
	FILE *f;
	int r;

	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		int fd;

		snprintf(path, sizeof(path), "%s/fuzz-lspci-dump-XXXXXX", tmp ? tmp : "/tmp");
		fd = mkstemp(path);
		check(fd >= 0);
		close(fd);
		atexit(remove_dump);
	}
	f = fopen(path, "we");
	check(f && fwrite(data, 1, size, f) == size && fclose(f) == 0);
	r = inventory_read(&o, &h, &err);
	if (r < 0) {
		check(!h && err.code == r && err.message[0]);
		return 0;
	}
	check_dump_host(h);
	host_free(h);
	return 0;
}

#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#ifdef FUZZ_LSPCI_DUMP
	return fuzz_lspci_dump(data, size);
#else
	return fuzz_text_parsers(data, size);
#endif
}
