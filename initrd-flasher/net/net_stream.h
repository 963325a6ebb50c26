/* SPDX-License-Identifier: MIT */
/*
 * A byte stream to a server: plain TCP (net_tcp.c) or TLS over it (tls.c). The HTTP client
 * (http.c) reads and writes through these ops and does not know which one it has.
 */
#ifndef SELFFLASH_NET_STREAM_H
#define SELFFLASH_NET_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct net_stream;

struct net_stream_ops {
	/* Up to len bytes (at least 1), 0 at the peer's orderly end, -1 with err_msg() (a
	 * timeout says so). */
	ssize_t (*read)(struct net_stream *s, void *buf, size_t len);
	/* All len bytes, pushed out; 0 or -1 with err_msg(). */
	int (*write)(struct net_stream *s, const void *buf, size_t len);
	void (*close)(struct net_stream *s);
};

struct net_stream {
	const struct net_stream_ops *ops;
	void *priv;
	int fd;              /* the TCP socket underneath */
	unsigned timeout_ms; /* each read or write waits at most this long */
	char peer[300];      /* "HOST:PORT", for messages */
	/*
	 * A request's clock (the HTTP client sets it per request; 0: none). Every read and write
	 * fails once deadline_ms (timing_now_ms) has passed, so a peer that trickles cannot stretch
	 * a request without end: with min_rate, each byte read moves the deadline 1/min_rate s
	 * later, never more than stall_ms past now. An answer slower than min_rate bytes a second,
	 * or silent for stall_ms, fails. The TCP reads under TLS keep it too (same struct).
	 */
	uint64_t deadline_ms;
	unsigned min_rate, stall_ms;
	uint64_t rate_credit; /* bytes x 1000 not yet turned into milliseconds of deadline */
	/* the run's end (timing_now_ms; 0: none): no request deadline is set or moved past it,
	 * so bytes that keep coming at the minimum rate cannot outlast the run */
	uint64_t end_ms;
};

/* Sets s's request clock (see deadline_ms above): min_rate 0 keeps the deadline fixed. Never
 * past s->end_ms. */
static inline void net_stream_set_deadline(struct net_stream *s, uint64_t deadline_ms,
					   unsigned min_rate, unsigned stall_ms)
{
	if (s->end_ms && (!deadline_ms || deadline_ms > s->end_ms))
		deadline_ms = s->end_ms;
	s->deadline_ms = deadline_ms;
	s->min_rate = min_rate;
	s->stall_ms = stall_ms;
	s->rate_credit = 0;
}

/*
 * Connects to host:port over TCP within timeout_ms, and sets that timeout for every later
 * read and write. Each failure is told apart in err_msg(): the name does not resolve (DNS),
 * the connection is refused, the host is unreachable, or it timed out. 0 or -1.
 */
int net_connect_tcp(struct net_stream *s, const char *host, const char *port,
		    unsigned timeout_ms);

static inline void net_stream_close(struct net_stream *s)
{
	if (s->ops)
		s->ops->close(s);
	s->ops = NULL;
}

#endif
