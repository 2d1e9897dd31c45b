/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtypectl: command line parsing and the verbs table. The offline verbs
 * live in verb-inventory.c, verb-plan.c and verb-policy.c; the verbs that
 * ask memtyped in verb-online.c, the libvirt hook in verb-hook.c. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "daemon/varlink-client.h"
#include "memtypectl.h"

#define VERB_ANY ((unsigned)-1)

typedef int (*verb_fn)(int argc, char **argv, const struct cli_args *args);

struct verb {
	const char *name;
	unsigned min_args, max_args;   /* counting the verb itself */
	unsigned options;              /* enum cli_option bits allowed */
	verb_fn fn;
};

static int verb_help(int argc, char **argv, const struct cli_args *args);

static const struct verb verbs[] = {
	{ "inventory", 1, 1, OPT_ROOT | OPT_LSPCI_DUMP | OPT_CAPTURE, verb_inventory },
	{ "devices", 1, 1, OPT_ROOT | OPT_LSPCI_DUMP, verb_devices },
	{ "iommu", 1, 1, OPT_ROOT, verb_iommu },
	{ "plan", 1, 2, OPT_ROOT | OPT_XML | OPT_POLICY, verb_plan },
	{ "explain", 1, 2, OPT_ROOT | OPT_XML | OPT_POLICY, verb_explain },
	{ "policy", 2, VERB_ANY, 0, verb_policy },
	{ "help", 1, 1, 0, verb_help },
	/* Online verbs: they ask memtyped (plan NAME and explain NAME too). */
	{ "status", 1, 1, 0, verb_status },
	{ "vms", 1, 1, 0, verb_vms },
	{ "apply", 2, 2, 0, verb_apply },
	{ "verify", 2, 2, 0, verb_verify },
	{ "monitor", 1, 1, 0, verb_monitor },
	{ "register", 2, 2, OPT_PID, verb_register },
	{ "unregister", 2, 2, 0, verb_unregister },
	{ "reload", 1, 1, 0, verb_reload },
	/* libvirt passes NAME PHASE SUBPHASE EXTRA; be lenient about the tail. */
	{ "libvirt-hook", 3, 5, 0, verb_libvirt_hook },
	/* Run by the hook (as root) when memtyped does not answer. */
	{ "hook-offline", 3, 3, OPT_XML | OPT_ROOT | OPT_POLICY, verb_hook_offline },
};

static const struct {
	enum cli_option bit;
	const char *name;
} option_names[] = {
	{ OPT_ROOT, "--root" },
	{ OPT_LSPCI_DUMP, "--lspci-dump" },
	{ OPT_CAPTURE, "--capture" },
	{ OPT_XML, "--xml" },
	{ OPT_POLICY, "--policy" },
	{ OPT_PID, "--pid" },
};

static void print_help(FILE *f)
{
	fprintf(f,
		"memtypectl [OPTIONS...] VERB [ARGS...]\n"
		"\n"
		"Plan the memory-type (caching) policy of KVM virtual machines.\n"
		"\n"
		"Offline verbs:\n"
		"  inventory [--root DIR | --lspci-dump FILE] [--capture DIR]\n"
		"                          Show the host: CPU, KVM, IOMMU, PCI functions\n"
		"  devices [--root DIR | --lspci-dump FILE]\n"
		"                          One line per PCI function\n"
		"  iommu [--root DIR]      IOMMU units and their snoop control\n"
		"  plan [--root DIR] --xml FILE [--policy FILE]\n"
		"                          Plan a libvirt domain on the host\n"
		"  explain [--root DIR] --xml FILE [--policy FILE]\n"
		"                          Explain that plan rule by rule\n"
		"  policy check FILE...    Validate policy files, show the result\n"
		"  help                    Show this help\n"
		"\n"
		"Verbs that ask the memtyped daemon:\n"
		"  status                  The daemon, host, policy, libvirt and applier\n"
		"  vms                     The VMs memtyped has a record of\n"
		"  plan NAME               The plan of a VM memtyped or libvirt knows\n"
		"  explain NAME            That plan explained rule by rule\n"
		"  apply NAME              Re-plan a recorded VM and apply it now\n"
		"  verify NAME             Compare the record with what is in force\n"
		"  monitor                 Print memtyped's events as they happen\n"
		"  register FILE [--pid PID]\n"
		"                          Record a VM that libvirt does not run\n"
		"  unregister NAME         Forget a registered VM\n"
		"  reload                  Make memtyped re-read the policy\n"
		"  libvirt-hook NAME PHASE SUBPHASE EXTRA\n"
		"                          libvirt's QEMU hook (domain XML on stdin)\n"
		"  --xml FILE hook-offline NAME PHASE\n"
		"                          what the hook runs when memtyped is down: plan\n"
		"                          here and hand the plan to memtype.ko (root)\n"
		"\n"
		"Options:\n"
		"  -h --help               Show this help\n"
		"     --version            Show the version\n"
		"  -j --json[=pretty|short] JSON output (-p: pretty)\n"
		"     --no-pager           Accepted; memtypectl never starts a pager\n"
		"     --root DIR           Host root to read instead of / (the live host)\n"
		"     --lspci-dump FILE    Read PCI from an lspci -xxxx dump\n"
		"     --capture DIR        Write the live host as a host root to DIR\n"
		"     --xml FILE           libvirt domain XML\n"
		"     --policy FILE        Use only this policy file\n"
		"     --socket PATH        memtyped's socket (default $MEMTYPE_SOCKET or\n"
		"                          " MEMTYPE_SOCKET_DEFAULT ")\n"
		"     --pid PID            register: the pid of the VM's VMM\n"
		"\n"
		"Exit status:\n"
		"  0 success, 1 operation failed, 2 usage error, 3 bad input,\n"
		"  4 the plan has errors, 5 partial inventory refused,\n"
		"  6 verify found drift, 7 memtyped not available\n"
		"\n"
		"See memtypectl(8) and memtype(7).\n");
}

static int verb_help(int argc, char **argv, const struct cli_args *args)
{
	print_help(stdout);
	return MT_EXIT_SUCCESS;
}

enum {
	ARG_VERSION = 0x100,
	ARG_NO_PAGER,
	ARG_ROOT,
	ARG_LSPCI_DUMP,
	ARG_CAPTURE,
	ARG_XML,
	ARG_POLICY,
	ARG_SOCKET,
	ARG_PID,
};

static int parse_json_mode(const char *s, enum json_mode *ret)
{
	if (!s || streq(s, "short"))
		*ret = JSON_PLAIN;
	else if (streq(s, "pretty"))
		*ret = JSON_PRETTY;
	else
		return cli_error(MT_EXIT_USAGE, "--json: unknown mode '%s' (use 'pretty' or 'short')", s);
	return 0;
}

static void set_path_option(struct cli_args *a, int opt, const char *value)
{
	switch (opt) {
	case ARG_ROOT:
		a->root = value;
		a->given |= OPT_ROOT;
		break;
	case ARG_LSPCI_DUMP:
		a->lspci_dump = value;
		a->given |= OPT_LSPCI_DUMP;
		break;
	case ARG_CAPTURE:
		a->capture = value;
		a->given |= OPT_CAPTURE;
		break;
	case ARG_XML:
		a->xml = value;
		a->given |= OPT_XML;
		break;
	case ARG_POLICY:
		a->policy = value;
		a->given |= OPT_POLICY;
		break;
	case ARG_PID:
		a->pid = value;
		a->given |= OPT_PID;
		break;
	case ARG_SOCKET:
		/* Every verb takes it: the offline ones do not use it. */
		a->socket = value;
		break;
	}
}

/* Returns 0 to go on, -1 when --help/--version was handled, or an exit
 * code. */
static int parse_argv(int argc, char **argv, struct cli_args *a)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "json", optional_argument, NULL, 'j' },
		{ "no-pager", no_argument, NULL, ARG_NO_PAGER },
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "lspci-dump", required_argument, NULL, ARG_LSPCI_DUMP },
		{ "capture", required_argument, NULL, ARG_CAPTURE },
		{ "xml", required_argument, NULL, ARG_XML },
		{ "policy", required_argument, NULL, ARG_POLICY },
		{ "socket", required_argument, NULL, ARG_SOCKET },
		{ "pid", required_argument, NULL, ARG_PID },
		{}
	};
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hjp", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			print_help(stdout);
			return -1;
		case ARG_VERSION:
			printf("memtypectl %s\n", PACKAGE_VERSION);
			return -1;
		case 'j':
			r = parse_json_mode(optarg, &a->json);
			if (r != 0)
				return r;
			break;
		case 'p':
			a->json = JSON_PRETTY;
			break;
		case ARG_NO_PAGER:
			break;
		case ARG_ROOT: case ARG_LSPCI_DUMP: case ARG_CAPTURE:
		case ARG_XML: case ARG_POLICY: case ARG_SOCKET: case ARG_PID:
			if (optarg[0] == '\0')
				return cli_error(MT_EXIT_USAGE, "%s needs a non-empty argument",
						 argv[optind - 1]);
			set_path_option(a, c, optarg);
			break;
		case ':':
			return cli_error(MT_EXIT_USAGE, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 0x100)
				return cli_error(MT_EXIT_USAGE, "unknown option '-%c' (see --help)", optopt);
			return cli_error(MT_EXIT_USAGE, "unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	return 0;
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static int check_verb_options(const struct verb *v, const struct cli_args *a)
{
	unsigned bad = a->given & ~v->options;

	for (size_t i = 0; i < ELEMENTSOF(option_names); i++)
		if (bad & option_names[i].bit)
			return cli_error(MT_EXIT_USAGE, "option %s does not apply to '%s'",
					 option_names[i].name, v->name);
	return 0;
}

static int dispatch_verb(int argc, char **argv, const struct cli_args *a)
{
	const struct verb *v;
	unsigned n = (unsigned)argc;
	int r;

	if (argc <= 0)
		return cli_error(MT_EXIT_USAGE, "missing verb (see --help)");
	v = find_verb(argv[0]);
	if (!v)
		return cli_error(MT_EXIT_USAGE, "unknown verb '%s' (see --help)", argv[0]);
	if (n < v->min_args)
		return cli_error(MT_EXIT_USAGE, "too few arguments for '%s' (see --help)", v->name);
	if (v->max_args != VERB_ANY && n > v->max_args)
		return cli_error(MT_EXIT_USAGE, "too many arguments for '%s' (see --help)", v->name);
	r = check_verb_options(v, a);
	if (r != 0)
		return r;
	return v->fn(argc, argv, a);
}

int main(int argc, char **argv)
{
	struct cli_args args = {};
	int r;

	r = parse_argv(argc, argv, &args);
	if (r < 0)
		return MT_EXIT_SUCCESS;
	if (r > 0)
		return r;
	r = dispatch_verb(argc - optind, argv + optind, &args);
	if (fflush(stdout) != 0 && r == MT_EXIT_SUCCESS)
		return cli_error(MT_EXIT_FAILURE, "failed to write output: %m");
	return r;
}
