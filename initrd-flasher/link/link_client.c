/* SPDX-License-Identifier: MIT */
/* The board's end of the link: its public calls (open, expect, read, pin, result, close). */
#include "link_client.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"
#include "error.h"
#include "le.h"
#include "link_internal.h"

#define DEFAULT_MAX_PAYLOAD (256u << 10)
#define DEFAULT_WINDOW (4u << 20)
#define DEFAULT_IDLE_MS 10000u
#define DEFAULT_RECONNECT_MS 600000u
#define RESULT_WAIT_MS 15000
#define RESULT_RESEND_MS 2000
/* getrandom(2) flag (Linux 5.6): whatever is there now, without waiting for the pool */
#ifndef GRND_INSECURE
#define LINK_GRND_INSECURE 0x0004
#else
#define LINK_GRND_INSECURE GRND_INSECURE
#endif

/* A session number that survives reconnects, so the host keeps one log per board. */
static uint64_t client_make_session(void)
{
	uint64_t session = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^ timing_now_ms() << 16;
	/* not /dev/urandom: early in boot it first gathers entropy (over a second under QEMU);
	 * a session number needs to be unique, not secret */
	uint8_t b[8];
	if (getrandom(b, sizeof(b), GRND_NONBLOCK | LINK_GRND_INSECURE) == (ssize_t)sizeof(b))
		session ^= le64_load(b);
	return session;
}

/* Options with their defaults filled in; the gadget inherits the console and idle timeout. */
static void client_set_options(struct link_client *lc, const struct link_client_opts *o)
{
	lc->o = *o;
	if (!lc->o.max_payload)
		lc->o.max_payload = DEFAULT_MAX_PAYLOAD;
	if (!lc->o.window)
		lc->o.window = DEFAULT_WINDOW;
	if (!lc->o.idle_timeout_ms)
		lc->o.idle_timeout_ms = DEFAULT_IDLE_MS;
	if (!lc->o.reconnect_ms)
		lc->o.reconnect_ms = DEFAULT_RECONNECT_MS;
	struct usb_gadget_opts *u = &lc->transport.usb_opts;
	*u = lc->o.usb;
	if (!u->console)
		u->console = lc->o.console;
	if (!u->write_timeout_ms) /* a host that takes nothing is as lost as one that sends nothing */
		u->write_timeout_ms = lc->o.idle_timeout_ms;
}

int link_client_open(struct link_client *lc, const struct link_client_opts *o)
{
	memset(lc, 0, sizeof(*lc));
	snprintf(lc->spec, sizeof(lc->spec), "%s", o->spec);
	/* a bad spec does not get better by waiting */
	if (link_transport_init(&lc->transport, lc->spec, o->console) != 0)
		return -1;
	client_set_options(lc, o);
	snprintf(lc->board, sizeof(lc->board), "%s", o->board ? o->board : "board");
	pthread_mutex_init(&lc->rx_lock, NULL);
	pthread_mutex_init(&lc->tx_lock, NULL);
	pthread_mutex_init(&lc->stop_lock, NULL);
	timing_cond_init(&lc->stop_cond); /* the keepalive waits on it with a monotonic time */
	size_t rx_size = FRAME_OVERHEAD + (size_t)lc->o.max_payload;
	lc->rx = malloc(rx_size);
	if (!lc->rx || frame_decoder_init(&lc->dec, lc->rx, rx_size, lc->o.max_payload) != 0) {
		if (!lc->rx)
			err_set("out of memory for the link buffers");
		link_client_close(lc);
		return -1;
	}
	lc->session = client_make_session();
	atomic_store(&lc->down, 1);
	link_console_say(lc->o.console, "waiting for the host on %s", lc->spec);
	pthread_mutex_lock(&lc->rx_lock);
	int rc = link_connect_host(lc, timing_now_ms() + lc->o.reconnect_ms);
	pthread_mutex_unlock(&lc->rx_lock);
	if (rc < 0)
		err_prefix("no host on %s within %u s", lc->spec, lc->o.reconnect_ms / 1000);
	if (rc != 0) {
		link_client_close(lc);
		return -1;
	}
	atomic_store(&lc->down, 0);
	link_console_say(lc->o.console, "host serves %s (%" PRIu64 " bytes), frames up to %" PRIu32
			 " bytes", lc->package, lc->package_size, lc->max_payload);
	link_keepalive_start(lc);
	return 0;
}

uint64_t link_client_package_size(const struct link_client *lc)
{
	return lc->package_size;
}

int link_client_pin(struct link_client *lc, uint64_t len)
{
	if (len > lc->package_size || len > LINK_READ_MAX)
		return err_set("cannot pin %" PRIu64 " bytes", len);
	uint8_t *buf = malloc((size_t)len ? (size_t)len : 1);
	if (!buf)
		return err_set("out of memory");
	int rc = link_client_read(lc, 0, buf, (size_t)len);
	if (rc == 0) {
		pthread_mutex_lock(&lc->rx_lock);
		sha256_buffer(buf, (size_t)len, lc->pin_hash);
		lc->pin_len = len;
		pthread_mutex_unlock(&lc->rx_lock);
	}
	free(buf);
	return rc;
}

int link_client_expect(struct link_client *lc, uint64_t off, uint32_t len)
{
	pthread_mutex_lock(&lc->rx_lock);
	int rc = 0, queued = 0;
	for (unsigned i = 0; i < lc->count && !queued; i++)
		queued = link_queue_at(lc, i)->offset == off && link_queue_at(lc, i)->length == len;
	if (!queued)
		rc = lc->count < LINK_QUEUE ? link_queue_push(lc, off, len) : 0;
	if (rc == 0 && !queued && !atomic_load(&lc->down))
		link_queue_send(lc); /* a failure shows up, and is dealt with, in the next read */
	pthread_mutex_unlock(&lc->rx_lock);
	return rc;
}

int link_client_read(struct link_client *lc, uint64_t off, void *buf, size_t len)
{
	pthread_mutex_lock(&lc->rx_lock);
	int rc = link_read_range(lc, off, buf, len);
	pthread_mutex_unlock(&lc->rx_lock);
	return rc;
}

/* Waits up to RESULT_RESEND_MS for RESULT_ACK (lc->acked); a link that fails meanwhile is
 * marked down, for the caller to reconnect. */
static void client_wait_ack(struct link_client *lc)
{
	uint64_t resend = timing_now_ms() + RESULT_RESEND_MS;
	while (!lc->acked && timing_now_ms() < resend) {
		if (link_wire_receive(lc, 200) < 0) {
			atomic_store(&lc->down, 1);
			return;
		}
		struct frame f;
		int got;
		while ((got = frame_decoder_next(&lc->dec, &f)) != 0)
			if (got > 0 && f.type == FRAME_RESULT_ACK)
				lc->acked = 1;
	}
}

int link_client_result(struct link_client *lc, int32_t status, const char *message)
{
	struct link_result res = { .status = status };
	snprintf(res.message, sizeof(res.message), "%s", message);
	uint8_t payload[4 + LINK_TEXT_MAX];
	uint32_t len = (uint32_t)link_result_encode(&res, payload);
	pthread_mutex_lock(&lc->rx_lock);
	link_queue_cancel(lc);
	lc->acked = 0;
	uint64_t deadline = timing_now_ms() + RESULT_WAIT_MS;
	int rc = -1;
	while (rc != 0 && timing_now_ms() < deadline && !atomic_load(&lc->stop)) {
		if (atomic_load(&lc->down) && link_read_reconnect(lc, "before the result") != 0)
			break;
		uint32_t seq = ++lc->seq;
		if (link_wire_send(lc, FRAME_RESULT, seq, payload, len) != 0)
			continue;
		client_wait_ack(lc);
		if (lc->acked)
			rc = 0;
	}
	pthread_mutex_unlock(&lc->rx_lock);
	if (rc != 0)
		link_console_say(lc->o.console, "the host did not confirm the result");
	return rc;
}

void link_client_close(struct link_client *lc)
{
	const struct link_transport_ops *ops = lc->transport.ops;
	/* first: a keepalive blocked writing to a USB host that stopped reading returns */
	if (ops->interrupt)
		ops->interrupt(&lc->transport);
	link_keepalive_stop(lc);
	ops->close(&lc->transport);
	if (ops->release)
		ops->release(&lc->transport);
	free(lc->rx);
	lc->rx = NULL;
	pthread_mutex_destroy(&lc->rx_lock);
	pthread_mutex_destroy(&lc->tx_lock);
	pthread_mutex_destroy(&lc->stop_lock);
	pthread_cond_destroy(&lc->stop_cond);
}
