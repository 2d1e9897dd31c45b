/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt QEMU hook (FACTS §5): NAME PHASE SUBPHASE EXTRA, the domain
 * XML on stdin. Run as `memtypectl libvirt-hook` and as the small
 * memtype-hook binary that qemu.d/50-memtype links to, which loads only
 * libc and json-c so that a VM start does not pay for loading libxml2,
 * libpci and libsystemd five times. libvirt runs it synchronously, with
 * no timeout and with the domain locked, on every VM start, so it stays
 * small: drain the
 * domain XML from stdin, make one varlink call to memtyped with a short
 * deadline, never call libvirt, never read the host. It fails open: when
 * memtyped is down, slow or broken the VM starts with KVM's defaults (which
 * are safe) and the hook says so; only a strict-mode plan refusal from
 * memtyped fails a start, and nothing ever fails `reconnect`, because
 * libvirt kills a running VM whose reconnect hook fails. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "cli/hook.h"
#include "cli/online-error.h"
#include "cli/output.h"
#include "common/fileio.h"
#include "common/json-util.h"
#include "common/macro.h"
#include "daemon/varlink-client.h"

#define HOOK_METHOD	  "io.memtype.Manager.Hook"
#define HOOK_PLAN_REFUSED "io.memtype.Manager.PlanRefused"
/* What the domain XML parser takes (VM_XML_MAX_BYTES) and memtyped accepts
 * from root; far above any real domain. Beyond, it is drained and
 * dropped, and the hook says so. */
#define HOOK_XML_MAX		  (4u << 20)
#define HOOK_TIMEOUT_DEFAULT_MSEC 3000
#define HOOK_TIMEOUT_MAX_MSEC	  600000
#define LIBVIRT_RUN_DIR_DEFAULT	  "/run/libvirt/qemu"
#define JOURNAL_SOCKET		  "/run/systemd/journal/socket"
#define USEC_PER_MSEC		  UINT64_C(1000)

/* A phase memtyped is told about. */
struct hook_phase {
	const char *name;
	bool send_xml;	  /* with the domain XML */
	bool may_refuse;  /* a strict-mode refusal fails the hook: before QEMU exists */
	bool read_pid;	  /* QEMU runs: pass its pid */
	bool vm_starting; /* failing open leaves the VM with KVM's defaults */
};

/* migrate and restore are XML filters whose empty output means "unchanged";
 * attach and phases of newer libvirt are none of memtype's business. The
 * XML of stopped/release is not needed: memtyped knows the VM by name. */
static const struct hook_phase hook_phases[] = {
	{ .name = "prepare", .send_xml = true, .may_refuse = true, .vm_starting = true },
	{ .name = "start", .send_xml = true, .may_refuse = true, .vm_starting = true },
	{ .name = "started", .send_xml = true, .read_pid = true },
	{ .name = "stopped" },
	{ .name = "release" },
	{ .name = "reconnect", .send_xml = true },
};

static const struct hook_phase *find_phase(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(hook_phases); i++)
		if (streq(hook_phases[i].name, name))
			return &hook_phases[i];
	return NULL;
}

struct hook {
	const char *vm;
	const char *phase_name;
	const char *subphase;
	const char *extra;
	const struct hook_phase *phase; /* NULL: not forwarded */
	char *xml;			/* NULL: none, or too large */
	int64_t pid;			/* 0: unknown */
};

/* ----- input ------------------------------------------------------------------ */

/* Read all of stdin, so that libvirt's writer never meets a closed pipe,
 * keeping at most HOOK_XML_MAX bytes. Returns the text, or NULL when there
 * is none, it was too large (*ret_too_large), held a NUL or could not be
 * read. */
static char *drain_stdin(bool *ret_too_large)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, alloc = 0;
	bool overflow = false;

	*ret_too_large = false;
	if (isatty(STDIN_FILENO))
		return NULL;
	for (;;) {
		char scratch[65536], *dst = scratch;
		size_t room = sizeof(scratch);
		ssize_t n;

		if (!overflow && alloc - len < sizeof(scratch) && alloc < HOOK_XML_MAX + 1) {
			size_t grow = alloc ? alloc * 2 : sizeof(scratch);
			char *p;

			if (grow > HOOK_XML_MAX + 1)
				grow = HOOK_XML_MAX + 1;
			p = realloc(buf, grow);
			if (p) {
				buf = p;
				alloc = grow;
			} else {
				overflow = true; /* keep draining, send no XML */
			}
		}
		if (!overflow && alloc - len > 1) {
			dst = buf + len;
			room = alloc - len - 1;
		}
		n = read(STDIN_FILENO, dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != scratch)
			len += (size_t)n;
		else
			overflow = true;
	}
	*ret_too_large = overflow && len >= HOOK_XML_MAX;
	if (overflow || !buf || len == 0)
		return NULL;
	buf[len] = '\0';
	if (strlen(buf) != len)
		return NULL;
	return TAKE_PTR(buf);
}

/* QEMU's pid as libvirt wrote it: RUN_DIR/NAME.pid. 0 when unknown. */
static int64_t read_qemu_pid(const char *vm)
{
	const char *dir = getenv("MEMTYPE_LIBVIRT_RUN_DIR");
	char path[4096], line[32];
	uint64_t pid;

	if (!dir || !*dir)
		dir = LIBVIRT_RUN_DIR_DEFAULT;
	/* A domain name never holds '/', but the argument is not libvirt's word. */
	if (strchr(vm, '/') || streq(vm, ".") || streq(vm, ".."))
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.pid", dir, vm) >= sizeof(path))
		return 0;
	if (read_one_line(path, line, sizeof(line)) < 0 || parse_u64(line, 10, &pid) < 0 ||
	    pid == 0 || pid > INT32_MAX)
		return 0;
	return (int64_t)pid;
}

static uint64_t hook_timeout_usec(void)
{
	const char *s = getenv("MEMTYPE_HOOK_TIMEOUT");
	uint64_t ms;

	if (!s || !*s)
		return HOOK_TIMEOUT_DEFAULT_MSEC * USEC_PER_MSEC;
	if (parse_u64(s, 10, &ms) < 0 || ms == 0 || ms > HOOK_TIMEOUT_MAX_MSEC) {
		fprintf(stderr, "memtype hook: ignoring MEMTYPE_HOOK_TIMEOUT=%s (want 1..%u ms)\n",
			s, HOOK_TIMEOUT_MAX_MSEC);
		return HOOK_TIMEOUT_DEFAULT_MSEC * USEC_PER_MSEC;
	}
	return ms * USEC_PER_MSEC;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ----- output: nothing on stdout, ever -------------------------------------- */

/* One entry in the journal through its native protocol (one datagram of
 * KEY=VALUE lines), so that the hook needs no libsystemd. Values never
 * hold a newline here: they are replaced by blanks. Best effort. */
static void journal_line(const char *const *fields, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	char buf[4096];
	size_t len = 0;
	int fd;

	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%s\n", fields[i]);

		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return;
		for (size_t k = len; k < len + (size_t)w - 1; k++)
			if (buf[k] == '\n')
				buf[k] = ' ';
		len += (size_t)w;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
}

/* memtyped could not be asked, or failed: the VM goes on with KVM's
 * defaults (a reconnecting VM with what it has). One line
 * on stderr (libvirt logs a hook's stderr) and, where there is a journal,
 * a structured entry an operator can search for. */
static int fail_open(const struct hook *h, const char *what, const char *why)
{
	char msg[1280], f_msg[1300], f_vm[300], f_phase[64];

	snprintf(msg, sizeof(msg), "memtype hook: %s %s: %s (%s)%s", h->phase_name, h->vm, what,
		 why, h->phase->vm_starting ? "; VM starts with KVM's defaults" : "");
	fprintf(stderr, "%s\n", msg);
	snprintf(f_msg, sizeof(f_msg), "MESSAGE=%s", msg);
	snprintf(f_vm, sizeof(f_vm), "MEMTYPE_VM=%s", h->vm);
	snprintf(f_phase, sizeof(f_phase), "MEMTYPE_PHASE=%s", h->phase_name);
	journal_line((const char *const[]){ f_msg, "PRIORITY=4", "SYSLOG_IDENTIFIER=memtype-hook",
					    f_vm, "MEMTYPE_ACTION=hook-fail-open", f_phase },
		     6);
	return MT_EXIT_SUCCESS;
}

static int refuse(const struct hook *h, struct json_object *parameters)
{
	struct json_object *errors = json_field_array(parameters, "errors");
	size_t n = errors ? json_object_array_length(errors) : 0;

	fprintf(stderr, "memtype hook: %s %s refused: %s\n", h->phase_name, h->vm,
		json_field_string(parameters, "message", "the plan has errors (strict mode)"));
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "memtype hook:   %s\n",
			json_object_get_string(json_object_array_get_idx(errors, i)));
	return MT_EXIT_FAILURE;
}

/* ----- the call --------------------------------------------------------------- */

static struct json_object *hook_parameters(const struct hook *h)
{
	_cleanup_json_ struct json_object *p = json_object_new_object();

	if (!p || mt_json_add_string(p, "name", h->vm) < 0 ||
	    mt_json_add_string(p, "phase", h->phase_name) < 0 ||
	    (h->subphase && mt_json_add_string(p, "subphase", h->subphase) < 0) ||
	    (h->extra && mt_json_add_string(p, "extra", h->extra) < 0) ||
	    (h->xml && mt_json_add_string(p, "xml", h->xml) < 0) ||
	    (h->pid > 0 && mt_json_add(p, "pid", json_object_new_int64(h->pid)) < 0))
		return NULL;
	return TAKE_PTR(p);
}

/* Returns 0 with *reply filled (an error reply or not), or a negative
 * errno with why in buf. One deadline covers connect and call. */
static int call_daemon(const struct hook *h, const char *socket, struct varlink_client_reply *reply,
		       char *why, size_t why_size)
{
	_cleanup_(varlink_client_freep) struct varlink_client *c = NULL;
	_cleanup_json_ struct json_object *p = NULL;
	uint64_t timeout = hook_timeout_usec(), deadline = now_usec() + timeout, now;
	struct mt_error err = {};
	int r;

	p = hook_parameters(h);
	if (!p) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	r = varlink_client_connect(socket, timeout, &c, &err);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		snprintf(why, why_size, "not running, no socket at %s", socket);
		return r;
	}
	now = now_usec();
	if (r >= 0 && now >= deadline)
		r = -ETIMEDOUT;
	if (r >= 0)
		r = varlink_client_call(c, HOOK_METHOD, p, deadline - now, reply, &err);
	if (r == -ETIMEDOUT) {
		snprintf(why, why_size, "no answer within %" PRIu64 " ms", timeout / USEC_PER_MSEC);
		return r;
	}
	if (r < 0) {
		snprintf(why, why_size, "%s", mt_error_message(&err, r));
		return r;
	}
	return 0;
}

/* ----- memtyped is down: plan offline --------------------------------------- */

static const char *memtypectl_path(void)
{
	const char *e = secure_getenv("MEMTYPECTL");

	return e && *e ? e : MEMTYPECTL_PATH;
}

/* Worth trying only before QEMU exists, as root (the module takes policies
 * from CAP_SYS_ADMIN only), with the module loaded and the XML at hand. */
static bool offline_possible(const struct hook *h)
{
	const char *dev = secure_getenv("MEMTYPE_DEVICE");

	return h->phase->may_refuse && h->xml && geteuid() == 0 &&
	       access(dev && *dev ? dev : "/dev/memtype", F_OK) == 0 &&
	       access(memtypectl_path(), X_OK) == 0;
}

/* memtypectl --xml /proc/self/fd/0 hook-offline -- NAME PHASE, the XML on
 * a pipe (/dev/stdin needs udev), within the hook's deadline. Its exit
 * status 1 refuses the start (it said why); anything else fails open. */
static int run_offline(const struct hook *h, const char *why_down)
{
	uint64_t deadline = now_usec() + hook_timeout_usec();
	int fds[2], status = 0;
	pid_t pid, w;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return fail_open(h, "memtyped unavailable", why_down);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return fail_open(h, "memtyped unavailable", why_down);
	}
	if (pid == 0) {
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(127);
		execl(memtypectl_path(), "memtypectl", "--xml", "/proc/self/fd/0", "hook-offline", "--",
		      h->vm, h->phase_name, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	(void)write_all(fds[1], h->xml, strlen(h->xml));
	close(fds[1]);
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_usec() < deadline)
		usleep(2000);
	if (w == 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		return fail_open(h, "memtyped unavailable and the offline plan took too long",
				 why_down);
	}
	if (w < 0 || !WIFEXITED(status))
		return fail_open(h, "memtyped unavailable and the offline plan failed", why_down);
	if (WEXITSTATUS(status) == MT_EXIT_FAILURE)
		return MT_EXIT_FAILURE;
	if (WEXITSTATUS(status) != MT_EXIT_SUCCESS)
		return fail_open(h, "memtyped unavailable and the offline plan failed", why_down);
	return MT_EXIT_SUCCESS;
}

static int run_hook(const struct hook *h, const char *socket)
{
	struct varlink_client_reply reply = {};
	char why[1024];
	int r;

	r = call_daemon(h, socket, &reply, why, sizeof(why));
	/* Down (not hung: a hung daemon has used the deadline): plan here. */
	if ((r == -ENOENT || r == -ECONNREFUSED) && offline_possible(h))
		return run_offline(h, why);
	if (r < 0)
		return fail_open(h, "memtyped unavailable", why);
	if (!reply.error)
		r = MT_EXIT_SUCCESS;
	else if (streq(reply.error, HOOK_PLAN_REFUSED) && h->phase->may_refuse)
		r = refuse(h, reply.parameters);
	else {
		online_error_message(HOOK_METHOD, reply.error, reply.parameters, why, sizeof(why));
		r = fail_open(h, "memtyped answered with an error", why);
	}
	varlink_client_reply_done(&reply);
	return r;
}

int hook_main(int argc, char **argv, const char *socket)
{
	_cleanup_free_ char *xml = NULL;
	bool too_large;
	struct hook h = {
		.vm = argv[0],
		.phase_name = argv[1],
		.subphase = argc > 2 ? argv[2] : NULL,
		.extra = argc > 3 ? argv[3] : NULL,
		.phase = find_phase(argv[1]),
	};

	/* A daemon that closes on us must not kill the hook mid-write. */
	signal(SIGPIPE, SIG_IGN);
	xml = drain_stdin(&too_large);
	if (!h.phase)
		return MT_EXIT_SUCCESS;
	if (h.phase->send_xml && too_large)
		return fail_open(&h, "domain XML not read",
				 "larger than 4 MiB, more than memtype plans");
	if (h.phase->send_xml)
		h.xml = xml;
	if (h.phase->read_pid)
		h.pid = read_qemu_pid(h.vm);
	return run_hook(&h, socket ? socket : varlink_client_default_path());
}
