/* SPDX-License-Identifier: MIT */
/* Frame encoding and the streaming decoder that resynchronises on the magic. */
#include "frame.h"

#include <inttypes.h>
#include <string.h>

#include "crc32.h"
#include "error.h"
#include "le.h"

const char *frame_type_name(uint8_t type)
{
	switch (type) {
	case FRAME_HELLO: return "HELLO";
	case FRAME_WELCOME: return "WELCOME";
	case FRAME_READ: return "READ";
	case FRAME_DATA: return "DATA";
	case FRAME_FAIL: return "FAIL";
	case FRAME_PROGRESS: return "PROGRESS";
	case FRAME_LOG: return "LOG";
	case FRAME_RESULT: return "RESULT";
	case FRAME_RESULT_ACK: return "RESULT_ACK";
	case FRAME_KEEPALIVE: return "KEEPALIVE";
	}
	return NULL;
}

int frame_decoder_init(struct frame_decoder *d, uint8_t *buf, size_t buf_size,
		       uint32_t max_payload)
{
	memset(d, 0, sizeof(*d));
	if (max_payload < FRAME_MIN_PAYLOAD || max_payload > FRAME_MAX_PAYLOAD)
		return err_set("frame payload limit %" PRIu32 " outside %u..%u", max_payload,
			       FRAME_MIN_PAYLOAD, FRAME_MAX_PAYLOAD);
	if (buf_size < (size_t)FRAME_OVERHEAD + max_payload)
		return err_set("frame buffer of %zu bytes cannot hold a %" PRIu32 "-byte payload",
			       buf_size, max_payload);
	d->buf = buf;
	d->cap = buf_size;
	d->max_payload = max_payload;
	return 0;
}

void frame_decoder_set_max_payload(struct frame_decoder *d, uint32_t max_payload)
{
	if (max_payload >= FRAME_MIN_PAYLOAD && (size_t)FRAME_OVERHEAD + max_payload <= d->cap)
		d->max_payload = max_payload;
}

void frame_decoder_reset(struct frame_decoder *d)
{
	d->start = d->end = 0;
}

uint8_t *frame_decoder_space(struct frame_decoder *d, size_t *room)
{
	if (d->end == d->cap || (d->start > 0 && d->start == d->end)) {
		memmove(d->buf, d->buf + d->start, d->end - d->start);
		d->end -= d->start;
		d->start = 0;
	}
	*room = d->cap - d->end;
	return d->buf + d->end;
}

void frame_decoder_commit(struct frame_decoder *d, size_t n)
{
	d->end += n <= d->cap - d->end ? n : d->cap - d->end;
}

size_t frame_decoder_feed(struct frame_decoder *d, const uint8_t *data, size_t len)
{
	size_t room;
	uint8_t *to = frame_decoder_space(d, &room);
	size_t n = len < room ? len : room;
	memcpy(to, data, n);
	frame_decoder_commit(d, n);
	return n;
}

/* Drops n bytes from the front, counting them. */
static void drop(struct frame_decoder *d, size_t n)
{
	d->start += n;
	d->bytes_dropped += n;
}

/* Offset of the next possible magic at or after `from` (a partial magic at the end counts). */
static size_t find_magic(const struct frame_decoder *d, size_t from)
{
	static const uint8_t magic[4] = { 'S', 'F', 'L', 'K' };
	for (size_t i = from; i < d->end; i++) {
		size_t n = d->end - i < 4 ? d->end - i : 4;
		if (memcmp(d->buf + i, magic, n) == 0)
			return i;
	}
	return d->end;
}

int frame_decoder_next(struct frame_decoder *d, struct frame *f)
{
	size_t at = find_magic(d, d->start);
	if (at > d->start) {
		size_t skipped = at - d->start;
		drop(d, skipped);
		return err_set("dropped %zu bytes of garbage before a frame", skipped);
	}
	size_t have = d->end - d->start;
	if (have < FRAME_HEADER_SIZE)
		return 0;
	const uint8_t *h = d->buf + d->start;
	uint8_t type = h[4];
	uint32_t len = le32_load(h + 12);
	if (h[5] != 0 || le16_load(h + 6) != 0) {
		drop(d, 1);
		d->frames_rejected++;
		return err_set("frame header with flags 0x%02x, reserved 0x%04x (both must be 0)",
			       h[5], le16_load(h + 6));
	}
	if (len > d->max_payload) {
		drop(d, 1);
		d->frames_rejected++;
		return err_set("frame announces a %" PRIu32 "-byte payload, the limit is %" PRIu32,
			       len, d->max_payload);
	}
	uint64_t total = (uint64_t)FRAME_OVERHEAD + len;
	if (have < total)
		return 0;
	uint32_t want = le32_load(h + FRAME_HEADER_SIZE + len);
	uint32_t got = crc32_update(0, h, (size_t)FRAME_HEADER_SIZE + len);
	if (want != got) {
		/* the length itself may be what was corrupted: resynchronise byte by byte */
		drop(d, 1);
		d->frames_rejected++;
		return err_set("frame (type 0x%02x, %" PRIu32 " bytes) has CRC 0x%08" PRIx32
			       ", its bytes give 0x%08" PRIx32, type, len, want, got);
	}
	if (!frame_type_name(type)) {
		drop(d, (size_t)total);
		d->frames_rejected++;
		return err_set("frame of unknown type 0x%02x (%" PRIu32 " bytes) ignored", type, len);
	}
	f->type = type;
	f->seq = le32_load(h + 8);
	f->len = len;
	f->payload = h + FRAME_HEADER_SIZE;
	d->start += (size_t)total;
	return 1;
}

size_t frame_encode(uint8_t *out, uint8_t type, uint32_t seq, uint32_t len)
{
	le32_store(out, FRAME_MAGIC);
	out[4] = type;
	out[5] = 0;
	le16_store(out + 6, 0);
	le32_store(out + 8, seq);
	le32_store(out + 12, len);
	uint32_t crc = crc32_update(0, out, (size_t)FRAME_HEADER_SIZE + len);
	le32_store(out + FRAME_HEADER_SIZE + len, crc);
	return (size_t)FRAME_OVERHEAD + len;
}

size_t frame_encode_copy(uint8_t *out, uint8_t type, uint32_t seq, const void *payload,
			 uint32_t len)
{
	if (len)
		memcpy(out + FRAME_HEADER_SIZE, payload, len);
	return frame_encode(out, type, seq, len);
}
