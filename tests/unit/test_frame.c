/* SPDX-License-Identifier: MIT */
/* The frame codec and message payloads: known bytes, resynchronisation, hostile headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "check.h"
#include "error.h"
#include "frame.h"
#include "le.h"
#include "link_msg.h"

static uint8_t dec_buf[FRAME_OVERHEAD + 8192];

static void decoder(struct frame_decoder *d)
{
	frame_decoder_init(d, dec_buf, sizeof(dec_buf), 8192);
}

/* Known answer: a KEEPALIVE with sequence 7 has a fixed encoding (CRC-32 of its 16 bytes). */
static void test_known_encoding(void)
{
	uint8_t out[FRAME_OVERHEAD];
	CHECK(frame_encode(out, FRAME_KEEPALIVE, 7, 0) == FRAME_OVERHEAD);
	static const uint8_t want_header[16] = { 'S', 'F', 'L', 'K', 0x0a, 0, 0, 0,
						 7, 0, 0, 0, 0, 0, 0, 0 };
	CHECK(memcmp(out, want_header, 16) == 0);
	/* crc32 of those 16 bytes, computed independently (python zlib.crc32) */
	CHECK(le32_load(out + 16) == 0x34d131e0u);
}

static void test_roundtrip_in_pieces(void)
{
	struct frame_decoder d;
	decoder(&d);
	uint8_t stream[3 * (FRAME_OVERHEAD + 100)];
	size_t n = 0;
	for (uint32_t i = 0; i < 3; i++) {
		uint8_t payload[100];
		memset(payload, (int)i + 1, sizeof(payload));
		n += frame_encode_copy(stream + n, FRAME_LOG, i, payload, 100 - i);
	}
	/* fed one byte at a time: the frames still come out whole and in order */
	uint32_t seen = 0;
	for (size_t i = 0; i < n; i++) {
		CHECK(frame_decoder_feed(&d, stream + i, 1) == 1);
		struct frame f;
		int got = frame_decoder_next(&d, &f);
		CHECK(got >= 0);
		if (got == 1) {
			CHECK(f.type == FRAME_LOG && f.seq == seen && f.len == 100 - seen);
			CHECK(f.payload[0] == seen + 1 && f.payload[f.len - 1] == seen + 1);
			seen++;
		}
	}
	CHECK(seen == 3);
	CHECK(d.bytes_dropped == 0);
}

/* Decodes everything in buf; returns frames found, counts errors. */
static int decode_all(const uint8_t *buf, size_t len, int *errors, struct frame *last)
{
	struct frame_decoder d;
	decoder(&d);
	int frames = 0;
	*errors = 0;
	size_t at = 0;
	for (;;) {
		at += frame_decoder_feed(&d, buf + at, len - at);
		struct frame f;
		int got = frame_decoder_next(&d, &f);
		if (got == 1) {
			frames++;
			*last = f;
		} else if (got < 0) {
			(*errors)++;
		} else if (at == len) {
			break;
		}
	}
	return frames;
}

static void test_garbage_before_frame(void)
{
	uint8_t buf[64 + FRAME_OVERHEAD + 4];
	memset(buf, 'S', 64); /* even bytes that start like the magic */
	frame_encode_copy(buf + 64, FRAME_DATA, 9, "abcd", 4);
	int errors;
	struct frame f;
	CHECK(decode_all(buf, sizeof(buf), &errors, &f) == 1);
	CHECK(errors >= 1);
	CHECK(f.type == FRAME_DATA && f.seq == 9 && f.len == 4 && memcmp(f.payload, "abcd", 4) == 0);
}

static void test_bad_crc_dropped_next_frame_kept(void)
{
	uint8_t buf[2 * (FRAME_OVERHEAD + 4)];
	size_t n = frame_encode_copy(buf, FRAME_DATA, 1, "abcd", 4);
	frame_encode_copy(buf + n, FRAME_DATA, 2, "efgh", 4);
	buf[FRAME_HEADER_SIZE + 1] ^= 0x40; /* one flipped bit in the first payload */
	int errors;
	struct frame f;
	CHECK(decode_all(buf, sizeof(buf), &errors, &f) == 1);
	CHECK(f.seq == 2);
	CHECK(errors >= 1);
}

static void test_oversized_length_rejected_before_waiting(void)
{
	struct frame_decoder d;
	decoder(&d);
	uint8_t hdr[FRAME_HEADER_SIZE];
	frame_encode(dec_buf, FRAME_DATA, 1, 0); /* scratch: build a header, then lie in it */
	memcpy(hdr, dec_buf, sizeof(hdr));
	le32_store(hdr + 12, 0x7fffffffu);
	frame_decoder_init(&d, dec_buf, sizeof(dec_buf), 8192);
	frame_decoder_feed(&d, hdr, sizeof(hdr));
	struct frame f;
	err_clear();
	CHECK(frame_decoder_next(&d, &f) == -1);
	CHECK(strstr(err_msg(), "2147483647-byte payload") != NULL);
	CHECK(d.frames_rejected == 1);
}

static void test_unknown_type_and_reserved_bits(void)
{
	uint8_t buf[FRAME_OVERHEAD];
	frame_encode(buf, 0x77, 1, 0);
	int errors;
	struct frame f;
	CHECK(decode_all(buf, sizeof(buf), &errors, &f) == 0);
	CHECK(errors == 1);
	CHECK(strstr(err_msg(), "unknown type 0x77") != NULL);
	frame_encode(buf, FRAME_LOG, 1, 0);
	buf[5] = 1; /* flags must be zero; the CRC is redone so only the flag is wrong */
	/* recompute the trailer the way an attacker would */
	le32_store(buf + FRAME_HEADER_SIZE, (uint32_t)crc32(0L, buf, FRAME_HEADER_SIZE));
	CHECK(decode_all(buf, sizeof(buf), &errors, &f) == 0);
	CHECK(errors >= 1);
}

static void test_truncated_frame_waits(void)
{
	uint8_t buf[FRAME_OVERHEAD + 10];
	frame_encode_copy(buf, FRAME_LOG, 3, "0123456789", 10);
	struct frame_decoder d;
	decoder(&d);
	frame_decoder_feed(&d, buf, sizeof(buf) - 1);
	struct frame f;
	CHECK(frame_decoder_next(&d, &f) == 0); /* not an error: the rest may come */
	frame_decoder_reset(&d);                 /* the link dropped: start over */
	frame_decoder_feed(&d, buf, sizeof(buf));
	CHECK(frame_decoder_next(&d, &f) == 1 && f.seq == 3);
}

static void test_decoder_limits(void)
{
	struct frame_decoder d;
	CHECK(frame_decoder_init(&d, dec_buf, 100, 8192) == -1);
	CHECK(frame_decoder_init(&d, dec_buf, sizeof(dec_buf), FRAME_MAX_PAYLOAD + 1) == -1);
	CHECK(frame_decoder_init(&d, dec_buf, sizeof(dec_buf), 100) == -1);
}

static void test_messages_roundtrip(void)
{
	uint8_t p[256];
	struct link_hello h = { 1, 3, 65536, 0x1122334455667788ull, "1424321012345" }, h2;
	CHECK(link_hello_encode(&h, p) == LINK_HELLO_SIZE);
	CHECK(link_hello_decode(p, LINK_HELLO_SIZE, &h2) == 0);
	CHECK(h2.version_min == 1 && h2.version_max == 3 && h2.max_payload == 65536);
	CHECK(h2.session == h.session);
	CHECK_STR_EQ(h2.board, "1424321012345");
	CHECK(link_hello_decode(p, LINK_HELLO_SIZE - 1, &h2) == -1);

	struct link_read r = { 1ull << 40, 4096 }, r2;
	link_read_encode(&r, p);
	CHECK(link_read_decode(p, LINK_READ_SIZE, &r2) == 0 && r2.offset == r.offset);
	le32_store(p + 8, 0);
	CHECK(link_read_decode(p, LINK_READ_SIZE, &r2) == -1);
	le32_store(p + 8, LINK_READ_MAX + 1);
	CHECK(link_read_decode(p, LINK_READ_SIZE, &r2) == -1);

	struct link_progress pr = { LINK_PHASE_WRITE, 5, 10, "A_cpu-bootloader" }, pr2;
	link_progress_encode(&pr, p);
	CHECK(link_progress_decode(p, LINK_PROGRESS_SIZE, &pr2) == 0);
	CHECK(pr2.phase == LINK_PHASE_WRITE && pr2.done == 5 && pr2.total == 10);
	CHECK_STR_EQ(pr2.partition, "A_cpu-bootloader");
	le64_store(p + 8, 11); /* done > total */
	CHECK(link_progress_decode(p, LINK_PROGRESS_SIZE, &pr2) == -1);
	le64_store(p + 8, 5);
	p[0] = 200;
	CHECK(link_progress_decode(p, LINK_PROGRESS_SIZE, &pr2) == -1);
}

static void test_unterminated_text_rejected(void)
{
	uint8_t p[LINK_HELLO_SIZE];
	struct link_hello h = { 1, 1, 65536, 1, "" }, h2;
	link_hello_encode(&h, p);
	memset(p + 16, 'A', LINK_NAME_MAX);
	CHECK(link_hello_decode(p, LINK_HELLO_SIZE, &h2) == -1);
	CHECK(strstr(err_msg(), "not terminated") != NULL);
}

static void test_printable_strips_control_bytes(void)
{
	char out[16];
	link_msg_printable((const uint8_t *)"a\033[2Jb\n", 7, out, sizeof(out));
	CHECK_STR_EQ(out, "a?[2Jb");
	link_msg_printable((const uint8_t *)"0123456789abcdefXYZ", 19, out, 8);
	CHECK_STR_EQ(out, "0123456");
}

int main(void)
{
	RUN(test_known_encoding);
	RUN(test_roundtrip_in_pieces);
	RUN(test_garbage_before_frame);
	RUN(test_bad_crc_dropped_next_frame_kept);
	RUN(test_oversized_length_rejected_before_waiting);
	RUN(test_unknown_type_and_reserved_bits);
	RUN(test_truncated_frame_waits);
	RUN(test_decoder_limits);
	RUN(test_messages_roundtrip);
	RUN(test_unterminated_text_rejected);
	RUN(test_printable_strips_control_bytes);
	return CHECK_EXIT();
}
