/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU vendor, model and the flags memtype cares about (pat, ss) from
 * /proc/cpuinfo; kernel release; architecture. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/fileio.h"
#include "common/macro.h"
#include "inventory-internal.h"

/* The first processor block is all we parse; it is a few KiB even with
 * every AVX-512 flag. Reading only a prefix spares the kernel formatting
 * hundreds of CPUs on big hosts. */
#define CPUINFO_PREFIX 32768

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n) {
		bool starts = p == list || *(p - 1) == ' ' || *(p - 1) == '\t';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\t';

		if (starts && ends)
			return true;
	}
	return false;
}

/* Split "key\t: value" into key and value (both trimmed, in place). */
static bool split_cpuinfo_line(char *line, char **ret_key, char **ret_value)
{
	char *colon = strchr(line, ':');
	char *end;

	if (!colon)
		return false;
	*colon = '\0';
	for (end = colon; end > line && (end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	*ret_key = line;
	*ret_value = colon + 1 + strspn(colon + 1, " \t");
	return true;
}

static void cpuinfo_apply(struct host_cpu *cpu, bool *x86, bool *arm, bool *lm,
			  const char *key, const char *value)
{
	if (streq(key, "vendor_id")) {
		*x86 = true;
		if (streq(value, "GenuineIntel"))
			cpu->vendor = CPU_VENDOR_INTEL;
		else if (streq(value, "AuthenticAMD"))
			cpu->vendor = CPU_VENDOR_AMD;
	} else if (streq(key, "CPU implementer")) {
		*arm = true;
		cpu->vendor = CPU_VENDOR_ARM64;
	} else if (streq(key, "cpu family"))
		cpu->family = (unsigned)strtoul(value, NULL, 10);
	else if (streq(key, "model"))
		cpu->model = (unsigned)strtoul(value, NULL, 10);
	else if (streq(key, "model name"))
		snprintf(cpu->model_name, sizeof(cpu->model_name), "%s", value);
	else if (streq(key, "flags")) {
		*x86 = true;
		cpu->pat = has_word(value, "pat");
		cpu->self_snoop = has_word(value, "ss");
		*lm = has_word(value, "lm");
	}
}

int cpuinfo_parse(const char *text, struct host_cpu *ret_cpu, char ret_arch[16])
{
	_cleanup_free_ char *copy = NULL;
	struct host_cpu cpu = {};
	bool x86 = false, arm = false, lm = false, seen = false;

	if (!text)
		return -EINVAL;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	/* strtok_r would merge the blank line ending the first block away. */
	for (char *line = copy, *next; line; line = next) {
		char *key, *value;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line && seen)
			break;
		if (!split_cpuinfo_line(line, &key, &value))
			continue;
		seen = true;
		cpuinfo_apply(&cpu, &x86, &arm, &lm, key, value);
	}
	if (!seen)
		return -EINVAL;
	snprintf(ret_arch, 16, "%s", arm ? "aarch64" : x86 ? (lm ? "x86_64" : "i686") : "");
	*ret_cpu = cpu;
	return 0;
}

static int read_prefix(const char *path, size_t size, char **ret_buf)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	while (len < size) {
		ssize_t n = read(fd, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	return 0;
}

int inventory_read_cpu(const char *root, struct host *h)
{
	_cleanup_free_ char *text = NULL;
	char path[4096];
	int r;

	r = root_path(root, "/proc/cpuinfo", path, sizeof(path));
	if (r < 0)
		return r;
	r = read_prefix(path, CPUINFO_PREFIX, &text);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return host_add_partial_note(h, "cannot read %s: %s: CPU vendor and flags unknown",
					     path, strerror(-r));
	r = cpuinfo_parse(text, &h->cpu, h->arch);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return host_add_partial_note(h, "%s has no processor entries: CPU vendor and flags unknown",
					     path);
	if (root_is_live(root)) {
		struct utsname u;

		/* The live host tells its architecture directly; a copied root
		 * only through its cpuinfo. */
		if (uname(&u) == 0)
			copy_truncated(h->arch, sizeof(h->arch), u.machine);
	}
	return 0;
}

int inventory_read_kernel(const char *root, struct host *h)
{
	char path[4096];
	int r;

	r = root_path(root, "/proc/sys/kernel/osrelease", path, sizeof(path));
	if (r < 0)
		return r;
	r = read_one_line(path, h->kernel_release, sizeof(h->kernel_release));
	if (r < 0) {
		h->kernel_release[0] = '\0';
		return host_add_partial_note(h, "cannot read %s: %s: kernel version unknown",
					     path, strerror(-r));
	}
	if (kernel_version_parse(h->kernel_release, &h->kernel) < 0)
		return host_add_partial_note(h, "%s: cannot parse kernel release \"%s\": kernel version unknown",
					     path, h->kernel_release);
	return 0;
}
