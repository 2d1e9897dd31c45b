/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* memtyped: the memtype daemon. Parses its command line (memtyped(8)),
 * builds the Manager and runs it until SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "config/config.h"
#include "daemon/log.h"
#include "daemon/manager.h"

enum {
	ARG_ROOT = 0x100,
	ARG_POLICY,
	ARG_POLICY_DIR,
	ARG_STATE,
	ARG_SOCKET,
	ARG_LIBVIRT_URI,
	ARG_NO_LIBVIRT,
	ARG_LIBVIRT_RUN_DIR,
	ARG_GROUP,
	ARG_PENDING_TTL,
	ARG_NO_UDEV,
	ARG_NO_MODULE,
	ARG_VMM_USER,
	ARG_LOG_LEVEL,
	ARG_VERSION,
};

static void print_help(FILE *f)
{
	fprintf(f,
		"memtyped [OPTIONS...]\n"
		"\n"
		"Decide and record the memory-type (caching) policy of the KVM virtual\n"
		"machines of this host, and serve it over varlink (io.memtype.Manager).\n"
		"\n"
		"  --root DIR             host root to inventory (default /)\n"
		"  --policy FILE          main policy file (default %s)\n"
		"  --policy-dir DIR       policy drop-in directory, repeatable; later ones\n"
		"                         mask earlier ones (default %s, then %s)\n"
		"  --state FILE           state file (default %s)\n"
		"  --socket PATH          listen here unless socket-activated\n"
		"                         (default %s)\n"
		"  --libvirt-uri URI      libvirt connection (default %s)\n"
		"  --no-libvirt           do not connect to libvirt\n"
		"  --libvirt-run-dir DIR  where libvirt keeps NAME.pid (default %s)\n"
		"  --group NAME           group allowed to change things besides root\n"
		"                         (default %s)\n"
		"  --pending-ttl SEC      pending plans expire after this (default %d)\n"
		"  --no-udev              do not watch PCI hot-plug\n"
		"  --no-module            do not use memtype.ko (plans are only recorded)\n"
		"  --vmm-user USER        the user QEMU runs as, whom memtype.ko trusts to\n"
		"                         create a VM (a name, a uid or \"any\"; default:\n"
		"                         user in /etc/libvirt/qemu.conf, else libvirt-qemu)\n"
		"  --log-level LEVEL      err, warning, notice, info or debug (default info)\n"
		"  -h --help              show this help\n"
		"     --version           show the version\n",
		POLICY_MAIN_FILE, POLICY_VENDOR_DROPIN_DIR, POLICY_DROPIN_DIR, STATE_PATH_DEFAULT,
		MANAGER_SOCKET_DEFAULT, MANAGER_LIBVIRT_URI_DEFAULT,
		MANAGER_LIBVIRT_RUN_DIR_DEFAULT, MANAGER_GROUP_DEFAULT,
		MANAGER_PENDING_TTL_DEFAULT_SEC);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "memtyped: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'memtyped --help'.\n");
	return -EINVAL;
}

static int add_policy_dir(struct manager_options *o, unsigned *n, const char *dir)
{
	if (*n >= MANAGER_POLICY_DIRS_MAX)
		return usage_error("too many --policy-dir (at most 16): %s", dir);
	o->policy_dirs[(*n)++] = dir;
	o->policy_dirs[*n] = NULL;
	return 0;
}

static int parse_ttl(const char *s, uint64_t *ret)
{
	uint64_t sec;

	/* At most a day: a pending plan is for a VM that is starting now. */
	if (parse_u64(s, 10, &sec) < 0 || sec == 0 || sec > 86400)
		return usage_error("--pending-ttl wants seconds between 1 and 86400, not '%s'", s);
	*ret = sec * 1000000;
	return 0;
}

static int parse_log_level(const char *s)
{
	int prio = mt_log_parse_level(s);

	if (prio < 0)
		return usage_error("unknown log level '%s' (err, warning, notice, info, debug)", s);
	mt_log_set_max_level(prio);
	return 0;
}

/* Returns 1 to run, 0 to exit successfully (--help, --version), or -EINVAL. */
static int parse_argv(int argc, char **argv, struct manager_options *o)
{
	static const struct option options[] = {
		{ "root", required_argument, NULL, ARG_ROOT },
		{ "policy", required_argument, NULL, ARG_POLICY },
		{ "policy-dir", required_argument, NULL, ARG_POLICY_DIR },
		{ "state", required_argument, NULL, ARG_STATE },
		{ "socket", required_argument, NULL, ARG_SOCKET },
		{ "libvirt-uri", required_argument, NULL, ARG_LIBVIRT_URI },
		{ "no-libvirt", no_argument, NULL, ARG_NO_LIBVIRT },
		{ "libvirt-run-dir", required_argument, NULL, ARG_LIBVIRT_RUN_DIR },
		{ "group", required_argument, NULL, ARG_GROUP },
		{ "pending-ttl", required_argument, NULL, ARG_PENDING_TTL },
		{ "no-udev", no_argument, NULL, ARG_NO_UDEV },
		{ "no-module", no_argument, NULL, ARG_NO_MODULE },
		{ "vmm-user", required_argument, NULL, ARG_VMM_USER },
		{ "log-level", required_argument, NULL, ARG_LOG_LEVEL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	unsigned n_dirs = 0;
	int c, r = 0;

	while (r >= 0 && (c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case ARG_ROOT: o->root = optarg; break;
		case ARG_POLICY: o->policy_file = optarg; break;
		case ARG_POLICY_DIR: r = add_policy_dir(o, &n_dirs, optarg); break;
		case ARG_STATE: o->state_path = optarg; break;
		case ARG_SOCKET: o->socket_path = optarg; break;
		case ARG_LIBVIRT_URI: o->libvirt_uri = optarg; break;
		case ARG_NO_LIBVIRT: o->libvirt_enabled = false; break;
		case ARG_LIBVIRT_RUN_DIR: o->libvirt_run_dir = optarg; break;
		case ARG_GROUP: o->group = optarg; break;
		case ARG_PENDING_TTL: r = parse_ttl(optarg, &o->pending_ttl_usec); break;
		case ARG_NO_UDEV: o->udev_enabled = false; break;
		case ARG_NO_MODULE: o->module_enabled = false; break;
		case ARG_VMM_USER: o->vmm_user = optarg; break;
		case ARG_LOG_LEVEL: r = parse_log_level(optarg); break;
		case 'h': print_help(stdout); return 0;
		case ARG_VERSION: printf("memtyped %s\n", PACKAGE_VERSION); return 0;
		default: return -EINVAL;
		}
	}
	if (r < 0)
		return r;
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->root[0] || !o->state_path[0] || !o->socket_path[0])
		return usage_error("%s", "--root, --state and --socket must not be empty");
	return 1;
}

int main(int argc, char **argv)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	struct manager_options opts;
	int r;

	manager_options_init(&opts);
	mt_log_open();
	r = parse_argv(argc, argv, &opts);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	r = manager_new(&opts, &m);
	if (r < 0) {
		log_error_errno(r, "cannot create the manager");
		return 1;
	}
	r = manager_startup(m);
	if (r < 0)
		return 1;
	r = manager_run(m);
	return r < 0 ? 1 : 0;
}
