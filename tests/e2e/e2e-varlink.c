/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* e2e-varlink: a second varlink client for the end-to-end tests, written on
 * raw AF_UNIX sockets and json-c rather than daemon/varlink-client.c, so the
 * daemon's wire protocol is checked by code that does not share its bugs.
 *
 *   e2e-varlink call SOCKET METHOD [PARAMETERS] [KEY@FILE...]   one call;
 *       KEY@FILE adds the string parameter KEY with FILE's contents (domain
 *       XML); prints the reply parameters (or {"error": NAME, "parameters":
 *       {...}}) as one JSON line; exit 0 reply, 1 error reply, 2 transport
 *       failure
 *   e2e-varlink monitor SOCKET    io.memtype.Manager.Monitor with "more": one
 *       JSON line per event until the daemon closes the stream
 *   e2e-varlink flood SOCKET N    N connections of malformed, truncated,
 *       oversize and abandoned traffic, plus connections held open at once */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define CALL_TIMEOUT_MS 10000
#define REPLY_MAX (64u << 20)
#define SEND_TIMEOUT_S 3

/* Connect; a send timeout also bounds connect(2) on AF_UNIX (a full
 * backlog) and every later write, so a daemon that stops reading cannot
 * hang the tool. */
static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = SEND_TIMEOUT_S };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Write all of buf; MSG_NOSIGNAL because the daemon may hang up first. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_message(int fd, struct json_object *msg)
{
	const char *s = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);

	return send_all(fd, s, strlen(s) + 1);
}

/* Bytes received but not yet returned as a message, per connection. */
struct inbuf {
	char *data;
	size_t len, size;
};

static int streq_safe(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int fill(int fd, struct inbuf *in, long long deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int timeout = deadline_ms < 0 ? -1 : (int)(deadline_ms - now_ms());

	if (deadline_ms >= 0 && timeout <= 0)
		return -ETIMEDOUT;
	if (poll(&p, 1, timeout) == 0)
		return -ETIMEDOUT;
	if (in->size - in->len < 65536) {
		if (in->size >= REPLY_MAX)
			return -EMSGSIZE;
		in->size = in->size ? in->size * 2 : 65536;
		in->data = realloc(in->data, in->size);
		if (!in->data)
			return -ENOMEM;
	}
	n = read(fd, in->data + in->len, in->size - in->len);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	in->len += (size_t)n;
	return 0;
}

/* The next NUL-terminated message, parsed; deadline_ms < 0: wait forever. */
static int recv_message(int fd, struct inbuf *in, long long deadline_ms,
			struct json_object **ret)
{
	char *nul;
	int r;

	while (!in->len || !(nul = memchr(in->data, '\0', in->len))) {
		r = fill(fd, in, deadline_ms);
		if (r < 0)
			return r;
	}
	*ret = json_tokener_parse(in->data);
	memmove(in->data, nul + 1, in->len - (size_t)(nul + 1 - in->data));
	in->len -= (size_t)(nul + 1 - in->data);
	return *ret ? 0 : -EBADMSG;
}

static struct json_object *make_call(const char *method, struct json_object *params, bool more)
{
	struct json_object *msg = json_object_new_object();

	json_object_object_add(msg, "method", json_object_new_string(method));
	if (params)
		json_object_object_add(msg, "parameters", params);
	if (more)
		json_object_object_add(msg, "more", json_object_new_boolean(true));
	return msg;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

/* PARAMETERS (a JSON object or nothing) plus KEY@FILE string parameters.
 * Exits on a bad argument: this is a test tool. */
static struct json_object *make_parameters(int argc, char **argv)
{
	struct json_object *p = NULL;
	int i = 0;

	if (argc > 0 && argv[0][0] == '{') {
		p = json_tokener_parse(argv[0]);
		if (!p || !json_object_is_type(p, json_type_object)) {
			fprintf(stderr, "e2e-varlink: parameters are not a JSON object: %s\n", argv[0]);
			exit(2);
		}
		i = 1;
	}
	for (; i < argc; i++) {
		char *at = strchr(argv[i], '@'), *text;
		if (!at) {
			fprintf(stderr, "e2e-varlink: expected KEY@FILE, got %s\n", argv[i]);
			exit(2);
		}
		text = read_file(at + 1);
		if (!text) {
			fprintf(stderr, "e2e-varlink: %s: %s\n", at + 1, strerror(errno));
			exit(2);
		}
		if (!p)
			p = json_object_new_object();
		*at = '\0';
		json_object_object_add(p, argv[i], json_object_new_string(text));
		free(text);
	}
	return p;
}

/* Print one reply as a JSON line; 1 when it is an error reply. */
static int print_reply(struct json_object *reply)
{
	struct json_object *error, *params, *out;
	int is_error = json_object_object_get_ex(reply, "error", &error);

	if (!json_object_object_get_ex(reply, "parameters", &params))
		params = NULL;
	if (is_error) {
		out = json_object_new_object();
		json_object_object_add(out, "error", json_object_get(error));
		json_object_object_add(out, "parameters",
				       params ? json_object_get(params) : json_object_new_object());
	} else {
		out = params ? json_object_get(params) : json_object_new_object();
	}
	puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(out);
	return is_error;
}

static int fail_transport(const char *sock, const char *what, int r)
{
	fprintf(stderr, "e2e-varlink: %s %s: %s\n", what, sock, strerror(-r));
	return 2;
}

static int cmd_call(const char *sock, const char *method, struct json_object *params)
{
	struct json_object *msg = make_call(method, params, false), *reply;
	struct inbuf in = { 0 };
	int fd, r;

	fd = connect_unix(sock);
	if (fd < 0)
		return fail_transport(sock, "connect", fd);
	r = send_message(fd, msg);
	json_object_put(msg);
	if (r < 0)
		return fail_transport(sock, "send to", r);
	r = recv_message(fd, &in, now_ms() + CALL_TIMEOUT_MS, &reply);
	if (r < 0)
		return fail_transport(sock, "reply from", r);
	r = print_reply(reply);
	json_object_put(reply);
	free(in.data);
	close(fd);
	return r;
}

static int cmd_monitor(const char *sock)
{
	struct json_object *msg = make_call("io.memtype.Manager.Monitor", NULL, true), *reply;
	struct inbuf in = { 0 };
	int fd, r;

	fd = connect_unix(sock);
	if (fd < 0)
		return fail_transport(sock, "connect", fd);
	r = send_message(fd, msg);
	json_object_put(msg);
	if (r < 0)
		return fail_transport(sock, "send to", r);
	for (;;) {
		r = recv_message(fd, &in, -1, &reply);
		if (r == -ECONNRESET)
			return 0;
		if (r < 0)
			return fail_transport(sock, "event from", r);
		r = print_reply(reply);
		json_object_put(reply);
		if (r)
			return 1;
	}
}

/* ---- flood ---- */

enum flood_kind {
	FLOOD_GARBAGE,          /* random bytes with NULs among them */
	FLOOD_HALF,             /* a call cut off before its NUL */
	FLOOD_BAD_JSON,
	FLOOD_BAD_UTF8,
	FLOOD_NOT_OBJECT,
	FLOOD_UNKNOWN_METHOD,
	FLOOD_WRONG_TYPES,
	FLOOD_HANG_UP_EARLY,    /* a valid call, gone before the reply */
	FLOOD_DEEP,             /* nesting far beyond any parser's depth */
	FLOOD_PIPELINED,        /* many calls in one write, then gone */
	_FLOOD_KINDS,
};

static const char *const flood_messages[_FLOOD_KINDS] = {
	[FLOOD_HALF] = "{\"method\":\"io.memtype.Manager.GetStatus\",\"param",
	[FLOOD_BAD_JSON] = "{\"method\":io.memtype.Manager.GetStatus}",
	[FLOOD_BAD_UTF8] = "{\"method\":\"io.memtype.Manager.Plan\",\"parameters\":{\"name\":\"\xc3\x28\xff\"}}",
	[FLOOD_NOT_OBJECT] = "[\"io.memtype.Manager.GetStatus\"]",
	[FLOOD_UNKNOWN_METHOD] = "{\"method\":\"io.memtype.Manager.SelfDestruct\"}",
	[FLOOD_WRONG_TYPES] = "{\"method\":\"io.memtype.Manager.Plan\",\"parameters\":{\"xml\":42,\"name\":[]}}",
	[FLOOD_HANG_UP_EARLY] = "{\"method\":\"io.memtype.Manager.ListVMs\",\"parameters\":{\"full\":true}}",
};

static void flood_garbage(int fd, unsigned seed)
{
	unsigned char buf[4096];

	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (unsigned char)(seed >> 16);
	}
	(void)send_all(fd, buf, sizeof(buf));
}

static void flood_deep(int fd)
{
	size_t depth = 100000;
	char *buf = malloc(2 * depth + 1);

	if (!buf)
		return;
	memset(buf, '[', depth);
	memset(buf + depth, ']', depth);
	buf[2 * depth] = '\0';
	(void)send_all(fd, buf, 2 * depth + 1);
	free(buf);
}

static void flood_pipelined(int fd)
{
	static const char call[] = "{\"method\":\"io.memtype.Manager.GetStatus\"}";

	for (int i = 0; i < 64; i++)
		if (send_all(fd, call, sizeof(call)) < 0)
			return;
}

static void flood_one(int fd, enum flood_kind kind, unsigned seed)
{
	const char *m = flood_messages[kind];

	switch (kind) {
	case FLOOD_GARBAGE:
		flood_garbage(fd, seed);
		break;
	case FLOOD_DEEP:
		flood_deep(fd);
		break;
	case FLOOD_PIPELINED:
		flood_pipelined(fd);
		break;
	case FLOOD_HALF:
		(void)send_all(fd, m, strlen(m));
		break;
	default:
		(void)send_all(fd, m, strlen(m) + 1);
		break;
	}
}

/* Send a message that never ends until the daemon hangs up (or stops
 * reading), at most cap bytes. Prints what happened. */
static void flood_oversize(const char *sock, size_t cap)
{
	static const char head[] = "{\"method\":\"io.memtype.Manager.Plan\",\"parameters\":{\"xml\":\"";
	static char chunk[1 << 16];
	size_t sent = 0;
	int fd = connect_unix(sock), r = 0;

	if (fd < 0) {
		printf("flood: oversize: connect: %s\n", strerror(-fd));
		return;
	}
	memset(chunk, 'a', sizeof(chunk));
	(void)send_all(fd, head, sizeof(head) - 1);
	while (sent < cap && r == 0) {
		r = send_all(fd, chunk, sizeof(chunk));
		if (r == 0)
			sent += sizeof(chunk);
	}
	close(fd);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		printf("flood: oversize message: daemon stopped reading after %zu bytes\n", sent);
	else if (r < 0)
		printf("flood: oversize message: cut off after %zu bytes (%s)\n", sent, strerror(-r));
	else
		printf("flood: oversize message: %zu bytes sent and not cut off\n", sent);
}

/* Open n connections at once, each with a partial call, then let go. */
static int flood_held_open(const char *sock, int n)
{
	int *fds = calloc((size_t)n, sizeof(int)), opened = 0;

	if (!fds)
		return 0;
	for (int i = 0; i < n; i++) {
		fds[i] = connect_unix(sock);
		if (fds[i] >= 0) {
			opened++;
			(void)send_all(fds[i], "{\"meth", 6);
		}
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return opened;
}

/* For the calls that are well-formed varlink but wrong (unknown method,
 * wrong parameter types), wait for the daemon's error reply: proof that it
 * parsed them rather than dropping the connection unread. Returns 1 when
 * the expected error came. */
static int flood_expect_error(int fd, const char *want)
{
	struct inbuf in = { 0 };
	struct json_object *reply = NULL, *error;
	int ok = 0;

	if (recv_message(fd, &in, now_ms() + CALL_TIMEOUT_MS, &reply) == 0 &&
	    json_object_object_get_ex(reply, "error", &error))
		ok = streq_safe(json_object_get_string(error), want);
	json_object_put(reply);
	free(in.data);
	return ok;
}

static int cmd_flood(const char *sock, int n)
{
	int refused = 0, expected_errors = 0, answered = 0;

	for (int i = 0; i < n; i++) {
		enum flood_kind kind = (enum flood_kind)(i % _FLOOD_KINDS);
		int fd = connect_unix(sock);

		if (fd < 0) {
			refused++;
			continue;
		}
		flood_one(fd, kind, (unsigned)i);
		if (kind == FLOOD_UNKNOWN_METHOD || kind == FLOOD_WRONG_TYPES) {
			expected_errors++;
			answered += flood_expect_error(fd, kind == FLOOD_UNKNOWN_METHOD ?
						       "org.varlink.service.MethodNotFound" :
						       "org.varlink.service.InvalidParameter");
		}
		close(fd);
	}
	printf("flood: %d connections of %d kinds, %d refused\n", n, _FLOOD_KINDS, refused);
	printf("flood: %d of %d wrong calls answered with MethodNotFound/InvalidParameter\n",
	       answered, expected_errors);
	flood_oversize(sock, 64u << 20);
	printf("flood: held open at once: %d of 600\n", flood_held_open(sock, 600));
	/* A connection refused now and then is a limit at work; every one
	 * refused, or wrong calls left unanswered, is not. */
	return refused == n || answered < expected_errors ? 1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: e2e-varlink call SOCKET METHOD [PARAMETERS] [KEY@FILE...]\n"
			"       e2e-varlink monitor SOCKET\n"
			"       e2e-varlink flood SOCKET N\n");
	return 2;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && !strcmp(argv[1], "call"))
		return cmd_call(argv[2], argv[3], make_parameters(argc - 4, argv + 4));
	if (argc == 3 && !strcmp(argv[1], "monitor"))
		return cmd_monitor(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "flood") && atoi(argv[3]) > 0)
		return cmd_flood(argv[2], atoi(argv[3]));
	return usage();
}
