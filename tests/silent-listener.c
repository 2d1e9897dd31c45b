/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* silent-listener PATH: a stand-in for a hung memtyped, for the hook's
 * timeout test. It listens on the AF_UNIX socket PATH, accepts every
 * connection, reads and drops what the peer sends and never answers, until
 * it is killed. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PEERS 64

static int listen_on(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(un.sun_path)) {
		fprintf(stderr, "silent-listener: path too long: %s\n", path);
		return -1;
	}
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "silent-listener: cannot listen on %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd fds[MAX_PEERS + 1];
	nfds_t n = 1;
	char buf[65536];

	if (argc != 2) {
		fprintf(stderr, "usage: silent-listener PATH\n");
		return 2;
	}
	fds[0] = (struct pollfd){ .fd = listen_on(argv[1]), .events = POLLIN };
	if (fds[0].fd < 0)
		return 1;
	for (;;) {
		if (poll(fds, n, -1) < 0 && errno != EINTR)
			return 1;
		if ((fds[0].revents & POLLIN) && n <= MAX_PEERS) {
			int c = accept4(fds[0].fd, NULL, NULL, SOCK_CLOEXEC);

			if (c >= 0)
				fds[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
		}
		for (nfds_t i = 1; i < n; i++) {
			if (!fds[i].revents || read(fds[i].fd, buf, sizeof(buf)) > 0)
				continue;
			/* The peer is gone: drop it. */
			close(fds[i].fd);
			fds[i--] = fds[--n];
		}
	}
}
