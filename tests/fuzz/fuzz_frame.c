/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the link's frame decoder and message decoders: the input is a byte
 * stream as it could arrive on the link, fed in pieces whose sizes come from the input itself.
 * Every frame that comes out must lie inside the buffer and respect the payload limit; every
 * payload goes through the decoder its type names.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "link_msg.h"

static uint8_t buf[FRAME_OVERHEAD + 65536];

static void decode_payload(const struct frame *f)
{
	union {
		struct link_hello h;
		struct link_welcome w;
		struct link_read r;
		struct link_progress p;
		struct link_result res;
	} m;
	char text[LINK_TEXT_MAX + 1];
	switch (f->type) {
	case FRAME_HELLO: (void)link_hello_decode(f->payload, f->len, &m.h); break;
	case FRAME_WELCOME: (void)link_welcome_decode(f->payload, f->len, &m.w); break;
	case FRAME_READ: (void)link_read_decode(f->payload, f->len, &m.r); break;
	case FRAME_PROGRESS: (void)link_progress_decode(f->payload, f->len, &m.p); break;
	case FRAME_RESULT: (void)link_result_decode(f->payload, f->len, &m.res); break;
	default: link_msg_printable(f->payload, f->len, text, sizeof(text)); break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_decoder d;
	if (size < 1 || frame_decoder_init(&d, buf, sizeof(buf), 65536) != 0)
		return 0;
	/* the first byte picks the piece size: 1..256 bytes per read() */
	size_t piece = (size_t)data[0] + 1, at = 1;
	while (at < size) {
		size_t n = size - at < piece ? size - at : piece;
		size_t took = frame_decoder_feed(&d, data + at, n);
		at += took;
		struct frame f;
		int got;
		while ((got = frame_decoder_next(&d, &f)) != 0) {
			if (got < 0)
				continue;
			if (f.len > d.max_payload || f.payload < buf ||
			    f.payload + f.len > buf + sizeof(buf))
				abort();
			decode_payload(&f);
		}
		if (took == 0 && n > 0)
			abort(); /* a full buffer with no frame in it would stall the link */
	}
	return 0;
}
