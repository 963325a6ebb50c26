/* SPDX-License-Identifier: MIT */
/* TCP streams with a timeout on every step, and failures told apart (net_stream.h). */
#include "net_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"
#include "timing.h"

/* The request's deadline has passed (the caller words it: it knows what was asked). */
static int past_deadline(const struct net_stream *s, const char *what)
{
	if (s->end_ms && !timing_ms_left(s->end_ms))
		return err_set("%s: the run's deadline passed while %s (timed out)", s->peer, what);
	return s->deadline_ms && !timing_ms_left(s->deadline_ms)
		       ? err_set("%s: the request's deadline passed while %s (timed out)", s->peer,
				 what)
		       : 0;
}

/* Waits until fd is readable (events POLLIN) or writable (POLLOUT); 0, or -1 on a timeout
 * (the stream's own, or the request's deadline, whichever comes first). */
static int wait_for(struct net_stream *s, short events, const char *what)
{
	struct pollfd p = { .fd = s->fd, .events = events };
	int rc;
	do {
		if (past_deadline(s, what) != 0)
			return -1;
		uint64_t wait = s->timeout_ms;
		if (s->deadline_ms && timing_ms_left(s->deadline_ms) < wait)
			wait = timing_ms_left(s->deadline_ms);
		if (s->end_ms && timing_ms_left(s->end_ms) < wait)
			wait = timing_ms_left(s->end_ms);
		rc = poll(&p, 1, (int)wait);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return err_set("%s: poll: %s", s->peer, strerror(errno));
	if (rc == 0)
		return past_deadline(s, what) != 0
			       ? -1
			       : err_set("%s: no answer for %u s while %s (timed out)", s->peer,
					 s->timeout_ms / 1000, what);
	return 0;
}

/* n bytes arrived: with a minimum rate, they buy time (at most stall_ms from now). */
static void credit_bytes(struct net_stream *s, size_t n)
{
	if (!s->deadline_ms || !s->min_rate)
		return;
	s->rate_credit += (uint64_t)n * 1000;
	s->deadline_ms += s->rate_credit / s->min_rate;
	s->rate_credit %= s->min_rate;
	uint64_t cap = timing_now_ms() + s->stall_ms;
	if (s->end_ms && s->end_ms < cap)
		cap = s->end_ms;
	if (s->deadline_ms > cap)
		s->deadline_ms = cap;
}

static ssize_t tcp_read(struct net_stream *s, void *buf, size_t len)
{
	for (;;) {
		/* bytes that keep coming, however slowly, must not outlast the deadline */
		if (past_deadline(s, "receiving") != 0)
			return -1;
		ssize_t n = recv(s->fd, buf, len, 0);
		if (n >= 0) {
			credit_bytes(s, (size_t)n);
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set("%s: receive: %s", s->peer, strerror(errno));
		if (wait_for(s, POLLIN, "receiving") != 0)
			return -1;
	}
}

static int tcp_write(struct net_stream *s, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		if (past_deadline(s, "sending") != 0)
			return -1;
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set("%s: send: %s", s->peer, strerror(errno));
		if (wait_for(s, POLLOUT, "sending") != 0)
			return -1;
	}
	return 0;
}

static void tcp_close(struct net_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static const struct net_stream_ops tcp_ops = { .read = tcp_read, .write = tcp_write,
					       .close = tcp_close };

/* One address, connected without blocking past the timeout; the socket, or -1 (errno). */
static int connect_one(const struct addrinfo *a, unsigned timeout_ms)
{
	int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			a->ai_protocol);
	if (fd < 0)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int rc;
	do
		rc = poll(&p, 1, (int)timeout_ms);
	while (rc < 0 && errno == EINTR);
	int err = 0;
	socklen_t len = sizeof(err);
	if (rc == 0)
		err = ETIMEDOUT;
	else if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int net_connect_tcp(struct net_stream *s, const char *host, const char *port,
		    unsigned timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->timeout_ms = timeout_ms ? timeout_ms : 30000;
	snprintf(s->peer, sizeof(s->peer), "%.255s:%.16s", host, port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0)
		return err_set("%s: the name does not resolve (DNS): %s", s->peer, gai_strerror(rc));
	int fd = -1, e = 0;
	for (const struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = connect_one(a, s->timeout_ms);
		if (fd < 0)
			e = errno;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		if (e == ECONNREFUSED)
			return err_set("%s: connection refused (no server listening there)", s->peer);
		if (e == ETIMEDOUT)
			return err_set("%s: no answer for %u s while connecting (timed out)", s->peer,
				       s->timeout_ms / 1000);
		if (e == EHOSTUNREACH || e == ENETUNREACH)
			return err_set("%s: unreachable: %s", s->peer, strerror(e));
		return err_set("%s: connect: %s", s->peer, strerror(e));
	}
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->fd = fd;
	s->ops = &tcp_ops;
	return 0;
}
