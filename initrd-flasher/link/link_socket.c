/* SPDX-License-Identifier: MIT */
/* The link over a socket (native tests, QEMU's chardev): unix:PATH and tcp:HOST:PORT. */
#include "link_transport.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "error.h"
#include "link_io.h"

static int socket_connect_unix(const char *path)
{
	struct sockaddr_un sa;
	if (link_unix_address(path, &sa) != 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(fd);
		return err_set("connect to %s: %s", path, strerror(e));
	}
	return fd;
}

static int socket_connect_tcp(const char *hostport)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof(host) || !colon[1])
		return err_set("tcp link '%s': expected HOST:PORT", hostport);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		return err_set("tcp link %s: %s", hostport, gai_strerror(rc));
	int fd = -1, e = 0;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd >= 0 ? fd : err_set("connect to %s: %s", hostport, strerror(e));
}

/* A dropped connection is not resumed: a new one says HELLO again. */
static int socket_open_with(struct link_transport *t, int (*connect_to)(const char *))
{
	link_transport_close_fd(t);
	int fd = connect_to(t->arg);
	if (fd < 0)
		return -1;
	t->rfd = t->wfd = fd;
	return 0;
}

static int socket_open_unix(struct link_transport *t)
{
	return socket_open_with(t, socket_connect_unix);
}

static int socket_open_tcp(struct link_transport *t)
{
	return socket_open_with(t, socket_connect_tcp);
}

/* send(), not write(): a host that went away must not kill the board with SIGPIPE */
static int socket_write(struct link_transport *t, const void *p, size_t n)
{
	return link_write_all(t->wfd, 1, p, n);
}

const struct link_transport_ops link_unix_ops = {
	.open = socket_open_unix,
	.read = link_transport_read_fd,
	.write = socket_write,
	.close = link_transport_close_fd,
	.retry_ms = 0,
};

const struct link_transport_ops link_tcp_ops = {
	.open = socket_open_tcp,
	.read = link_transport_read_fd,
	.write = socket_write,
	.close = link_transport_close_fd,
	.retry_ms = 0,
};
