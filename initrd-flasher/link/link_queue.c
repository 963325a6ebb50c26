/* SPDX-License-Identifier: MIT */
/* The ranges the board asked for: kept within the read-ahead window, answered by DATA in order. */
#include "link_internal.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "le.h"

struct link_request *link_queue_at(struct link_client *lc, unsigned i)
{
	return &lc->queue[(lc->head + i) % LINK_QUEUE];
}

/* What was asked for and not yet received is asked for again (a later request counts it). */
static void queue_count_again(struct link_client *lc, const struct link_request *r)
{
	if (r->sent)
		lc->bytes_requested_again += r->length - r->received;
}

static uint64_t queue_bytes_in_flight(struct link_client *lc)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = link_queue_at(lc, i);
		if (r->sent)
			n += r->length - r->received;
	}
	return n;
}

int link_queue_send(struct link_client *lc)
{
	uint64_t flying = queue_bytes_in_flight(lc);
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = link_queue_at(lc, i);
		if (r->sent)
			continue;
		uint64_t want = r->length - r->received;
		if (i > 0 && flying + want > lc->o.window)
			break;
		r->seq = ++lc->seq;
		uint8_t p[LINK_READ_SIZE];
		struct link_read m = { r->offset + r->received, (uint32_t)want };
		link_read_encode(&m, p);
		if (link_wire_send(lc, FRAME_READ, r->seq, p, LINK_READ_SIZE) != 0)
			return -1;
		r->sent = 1;
		flying += want;
	}
	return 0;
}

int link_queue_push(struct link_client *lc, uint64_t off, uint32_t len)
{
	if (lc->count == LINK_QUEUE)
		return err_set("link: more than %d ranges expected at once", LINK_QUEUE);
	if (off > lc->package_size || len > lc->package_size - off)
		return err_set("package range %" PRIu64 "+%" PRIu32 " is past its end (%" PRIu64
			       " bytes)", off, len, lc->package_size);
	if (len == 0 || len > LINK_READ_MAX)
		return err_set("package range of %" PRIu32 " bytes (1..%u allowed)", len,
			       LINK_READ_MAX);
	*link_queue_at(lc, lc->count++) = (struct link_request){ .offset = off, .length = len };
	return 0;
}

void link_queue_pop(struct link_client *lc, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		queue_count_again(lc, link_queue_at(lc, i));
	lc->head = (lc->head + n) % LINK_QUEUE;
	lc->count -= n;
}

void link_queue_cancel(struct link_client *lc)
{
	for (unsigned i = 0; i < lc->count; i++)
		queue_count_again(lc, link_queue_at(lc, i));
	lc->head = lc->count = 0;
}

void link_queue_unsend(struct link_client *lc)
{
	for (unsigned i = 0; i < lc->count; i++) {
		struct link_request *r = link_queue_at(lc, i);
		queue_count_again(lc, r);
		r->sent = 0;
	}
}

/* DATA for the head request: copied to lc->dest; a wrong range is asked for again. */
static void queue_take_data(struct link_client *lc, struct link_request *r, const struct frame *f)
{
	if (!r || !r->sent || f->seq != r->seq) {
		lc->frames_dropped++; /* an answer to a request given up on */
		return;
	}
	if (f->len < LINK_DATA_HEADER) {
		link_console_say(lc->o.console, "DATA frame of %" PRIu32 " bytes has no offset: ignored",
				 f->len);
		lc->frames_dropped++;
		return;
	}
	uint64_t off = le64_load(f->payload);
	uint32_t n = f->len - LINK_DATA_HEADER;
	uint64_t want = r->offset + r->received;
	if (off != want || n > r->length - r->received) {
		/* the host answered with the wrong range: ask again from where we are */
		link_console_say(lc->o.console, "host sent %" PRIu32 " bytes at %" PRIu64
				 " for a request at %" PRIu64 " (%" PRIu32 " bytes left): asking again",
				 n, off, want, r->length - r->received);
		lc->frames_dropped++;
		queue_count_again(lc, r);
		r->sent = 0;
		return;
	}
	memcpy(lc->dest + r->received, f->payload + LINK_DATA_HEADER, n);
	r->received += n;
}

/*
 * One received frame while reading. Returns 0, or -1 for a fatal answer (FAIL) with err_msg()
 * set; protocol noise is logged and ignored.
 */
static int queue_dispatch(struct link_client *lc, const struct frame *f)
{
	struct link_request *r = lc->count ? link_queue_at(lc, 0) : NULL;
	switch (f->type) {
	case FRAME_DATA:
		queue_take_data(lc, r, f);
		return 0;
	case FRAME_FAIL:
		if (r && r->sent && f->seq == r->seq) {
			char text[LINK_TEXT_MAX + 1];
			link_msg_printable(f->payload, f->len, text, sizeof(text));
			return err_set("host cannot serve %" PRIu64 "+%" PRIu32 ": %s", r->offset,
				       r->length, text);
		}
		lc->frames_dropped++;
		return 0;
	case FRAME_RESULT_ACK:
		lc->acked = 1;
		return 0;
	case FRAME_KEEPALIVE:
	case FRAME_WELCOME: /* a late answer to an earlier HELLO */
		return 0;
	default:
		link_console_say(lc->o.console, "unexpected %s frame from the host: ignored",
				 frame_type_name(f->type));
		lc->frames_dropped++;
		return 0;
	}
}

int link_queue_drain(struct link_client *lc, int *head_done)
{
	struct frame f;
	for (;;) {
		struct link_request *r = lc->count ? link_queue_at(lc, 0) : NULL;
		if (r && r->received == r->length) {
			*head_done = 1;
			return 0;
		}
		int got = frame_decoder_next(&lc->dec, &f);
		if (got == 0)
			return 0;
		if (got < 0) {
			link_console_say(lc->o.console, "%s", err_msg());
			continue;
		}
		if (queue_dispatch(lc, &f) != 0)
			return -1;
	}
}
