/* SPDX-License-Identifier: MIT */
/* Getting the board's link to a host: open the transport, HELLO, WELCOME; retried until a deadline. */
#include "link_internal.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <string.h>

#include "timing.h"
#include "error.h"

#define HELLO_WAIT_MS 3000

/* Whether WELCOME w is acceptable to this board; 0, or 1 (fatal) with err_msg() set. */
static int connect_check_welcome(const struct link_client *lc, const struct link_welcome *w)
{
	if (w->version < LINK_VERSION_MIN || w->version > LINK_VERSION_MAX) {
		err_set("host chose protocol version %u, this flasher speaks %u..%u", w->version,
			LINK_VERSION_MIN, LINK_VERSION_MAX);
		return 1;
	}
	if (w->max_payload < FRAME_MIN_PAYLOAD || w->max_payload > lc->o.max_payload) {
		err_set("host asks for %" PRIu32 "-byte frames, this board takes %u..%" PRIu32,
			w->max_payload, FRAME_MIN_PAYLOAD, lc->o.max_payload);
		return 1;
	}
	/* a host restarted with another package must not resume this flash */
	if (lc->package_size && w->package_size != lc->package_size) {
		err_set("the host now serves a %" PRIu64 "-byte package, it was %" PRIu64,
			w->package_size, lc->package_size);
		return 1;
	}
	return 0;
}

/* HELLO, then WELCOME with the same sequence number; 1 fatal refusal, 0 ok, -1 retry. */
static int connect_say_hello(struct link_client *lc)
{
	uint8_t p[LINK_HELLO_SIZE];
	struct link_hello h = { LINK_VERSION_MIN, LINK_VERSION_MAX, lc->o.max_payload, lc->session,
				"" };
	snprintf(h.board, sizeof(h.board), "%s", lc->board);
	link_hello_encode(&h, p);
	uint32_t seq = ++lc->seq;
	frame_decoder_reset(&lc->dec);
	frame_decoder_set_max_payload(&lc->dec, lc->o.max_payload);
	if (link_wire_send(lc, FRAME_HELLO, seq, p, sizeof(p)) != 0)
		return -1;
	uint64_t deadline = timing_now_ms() + HELLO_WAIT_MS;
	for (uint64_t left; (left = timing_ms_left(deadline)) != 0;) {
		if (link_wire_receive(lc, (int)left) < 0)
			return -1;
		struct frame f;
		int got;
		while ((got = frame_decoder_next(&lc->dec, &f)) != 0) {
			if (got < 0 || f.seq != seq)
				continue;
			if (f.type == FRAME_FAIL) {
				char text[LINK_TEXT_MAX + 1];
				link_msg_printable(f.payload, f.len, text, sizeof(text));
				err_set("host refuses this board: %s", text);
				return 1;
			}
			if (f.type != FRAME_WELCOME)
				continue;
			struct link_welcome w;
			if (link_welcome_decode(f.payload, f.len, &w) != 0)
				return -1;
			if (connect_check_welcome(lc, &w) != 0)
				return 1;
			lc->max_payload = w.max_payload;
			lc->package_size = w.package_size;
			memcpy(lc->package, w.package, sizeof(lc->package));
			frame_decoder_set_max_payload(&lc->dec, w.max_payload);
			return 0;
		}
	}
	err_set("no WELCOME from the host within %d ms", HELLO_WAIT_MS);
	return -1;
}

int link_connect_host(struct link_client *lc, uint64_t deadline)
{
	const struct link_transport_ops *ops = lc->transport.ops;
	unsigned delay = 100;
	for (;;) {
		if (atomic_load(&lc->stop)) {
			err_set("link closed while reconnecting");
			return 1;
		}
		pthread_mutex_lock(&lc->tx_lock);
		int rc = ops->open(&lc->transport);
		pthread_mutex_unlock(&lc->tx_lock);
		if (rc > 0)
			return 1; /* the transport cannot work here; err_msg() says why */
		if (rc == 0) {
			rc = connect_say_hello(lc);
			if (rc >= 0)
				return rc;
		}
		if (timing_now_ms() >= deadline)
			return -1;
		timing_sleep_ms(delay);
		delay = ops->retry_ms ? ops->retry_ms : delay < 1000 ? delay * 2 : 1000;
	}
}
