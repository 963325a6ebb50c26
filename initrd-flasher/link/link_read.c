/* SPDX-License-Identifier: MIT */
/* Reads of package ranges that survive link drops: wait, reconnect, re-ask, re-check the pin. */
#include "link_internal.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "timing.h"
#include "error.h"

/*
 * After a reconnect the host may be another process: bytes [0, pin_len) must still hash to
 * what was verified. The queue is set aside: the pin is read first, on its own.
 */
static int read_check_pin(struct link_client *lc)
{
	if (!lc->pin_len)
		return 0;
	struct link_request saved[LINK_QUEUE];
	unsigned count = lc->count;
	for (unsigned i = 0; i < count; i++)
		saved[i] = *link_queue_at(lc, i);
	uint8_t *dest = lc->dest;
	uint64_t pin_len = lc->pin_len;
	lc->pin_len = 0; /* a drop while checking retries the check, it does not recurse */
	lc->head = lc->count = 0;
	/* once per reconnect, not per read: the write loop allocates nothing */
	uint8_t *buf = malloc((size_t)pin_len);
	int rc = buf ? 0 : err_set("out of memory for a %" PRIu64 "-byte check", pin_len);
	if (rc == 0)
		rc = link_read_range(lc, 0, buf, (size_t)pin_len);
	if (rc == 0) {
		uint8_t digest[SHA256_LEN];
		sha256_buffer(buf, (size_t)pin_len, digest);
		if (memcmp(digest, lc->pin_hash, SHA256_LEN) != 0)
			rc = err_set("after reconnecting, the host serves a different package");
	}
	free(buf);
	lc->pin_len = pin_len;
	lc->head = 0;
	lc->count = count;
	for (unsigned i = 0; i < count; i++)
		lc->queue[i] = saved[i];
	lc->dest = dest;
	return rc;
}

int link_read_reconnect(struct link_client *lc, const char *why)
{
	link_console_say(lc->o.console, "lost (%s); reconnecting", why);
	atomic_store(&lc->down, 1);
	int rc = link_connect_host(lc, timing_now_ms() + lc->o.reconnect_ms);
	if (rc < 0)
		return err_set("link did not come back within %u s: %s", lc->o.reconnect_ms / 1000,
			       err_msg()[0] ? err_msg() : "no host");
	if (rc > 0)
		return -1;
	lc->reconnects++;
	atomic_store(&lc->down, 0);
	link_console_say(lc->o.console, "back (reconnect %u)", lc->reconnects);
	link_queue_unsend(lc);
	if (read_check_pin(lc) != 0)
		return -1;
	link_wire_flush_backlog(lc);
	return 0;
}

/* Why the link counts as lost after a failed write (said by the writer, maybe another thread). */
static void read_take_write_error(struct link_client *lc, char *reason, size_t size)
{
	pthread_mutex_lock(&lc->tx_lock);
	snprintf(reason, size, "write failed%s%s", lc->write_error[0] ? ": " : "", lc->write_error);
	lc->write_error[0] = '\0';
	pthread_mutex_unlock(&lc->tx_lock);
}

/* After a failed write: read what arrived for at most so long, waiting so long for each piece. */
#define LINK_DRAIN_MS 2000
#define LINK_DRAIN_WAIT_MS 50

/* Waits until the head request is complete, reconnecting on the way; 0 or -1. */
static int read_complete_head(struct link_client *lc)
{
	uint64_t idle_since = timing_now_ms();
	uint64_t drain_since = 0; /* when a write failed and the reader began taking what is left */
	for (;;) {
		if (atomic_load(&lc->stop))
			return err_set("link closed");
		int done = 0;
		if (link_queue_drain(lc, &done) != 0)
			return -1;
		if (done)
			return 0;
		const char *why = NULL;
		char reason[ERR_MSG_MAX + 16];
		if (atomic_load(&lc->down) || link_queue_send(lc) != 0) {
			/*
			 * A write failed, but what the host sent before it went away may still
			 * be waiting to be read (a socket keeps it past the close): take it
			 * first, or it is asked for and sent again after the reconnect.
			 */
			if (drain_since == 0)
				drain_since = timing_now_ms();
			if (timing_now_ms() - drain_since < LINK_DRAIN_MS &&
			    link_wire_receive(lc, LINK_DRAIN_WAIT_MS) > 0)
				continue;
			read_take_write_error(lc, reason, sizeof(reason));
			why = reason;
		} else {
			int r = link_wire_receive(lc, 200);
			if (r > 0)
				idle_since = timing_now_ms();
			if (r < 0) {
				snprintf(reason, sizeof(reason), "%s", err_msg());
				why = reason;
			} else if (timing_now_ms() - idle_since > lc->o.idle_timeout_ms) {
				snprintf(reason, sizeof(reason), "no data for %u ms",
					 lc->o.idle_timeout_ms);
				why = reason;
			}
		}
		if (why) {
			drain_since = 0;
			if (link_read_reconnect(lc, why) != 0)
				return -1;
			idle_since = timing_now_ms();
		}
	}
}

int link_read_range(struct link_client *lc, uint64_t off, void *buf, size_t len)
{
	if (len > LINK_READ_MAX)
		return err_set("link read of %zu bytes (at most %u)", len, LINK_READ_MAX);
	/* ranges expected before this one will not be read: forget them (their answers are
	 * dropped by sequence number); a range never expected starts a new queue */
	unsigned at = 0;
	while (at < lc->count && !(link_queue_at(lc, at)->offset == off &&
				   link_queue_at(lc, at)->length == len &&
				   link_queue_at(lc, at)->received == 0))
		at++;
	if (at == lc->count) {
		link_queue_cancel(lc);
		if (link_queue_push(lc, off, (uint32_t)len) != 0)
			return -1;
	} else {
		link_queue_pop(lc, at);
	}
	lc->dest = buf;
	int rc = read_complete_head(lc);
	lc->dest = NULL;
	if (rc == 0) {
		link_queue_pop(lc, 1);
		if (!atomic_load(&lc->down))
			link_queue_send(lc); /* keep the window full while the caller works */
	} else {
		link_queue_cancel(lc);
	}
	return rc;
}
