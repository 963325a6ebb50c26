/* SPDX-License-Identifier: MIT */
/*
 * zstd chunks: a round trip through pkg_chunk_unpack, and every hostile frame the board must
 * refuse (truncated, trailing bytes, a second frame, a wrong content size, a skippable or
 * dictionary frame, a window larger than the chunk, a corrupt block), each by its message.
 */
#include <stdlib.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader, to find the first block */
#include <zstd.h>

#include "check.h"
#include "chunk.h"
#include "crc32.h"
#include "error.h"
#include "sha256.h"

#define RAW 100000

static uint8_t raw[RAW], out[RAW], frame[2 * RAW];
static size_t frame_len;

/* text-like bytes: compressible, and different everywhere (no run decodes by accident) */
static void setup(void)
{
	uint32_t x = 12345;
	for (size_t i = 0; i < RAW; i++) {
		x = x * 1103515245u + 12345u;
		raw[i] = (uint8_t)("abcdefgh ij\n"[(x >> 16) % 12]);
	}
	frame_len = ZSTD_compress(frame, sizeof(frame), raw, RAW, 3);
	if (ZSTD_isError(frame_len) || frame_len >= RAW)
		abort();
}

/* Unpacks `stored` as a zstd chunk that must give raw[0, raw_size): its CRC and SHA-256 set
 * to match, so only the frame itself can fail. 0, or -1 with err_msg(). */
static int unpack(const uint8_t *stored, size_t stored_size, uint32_t raw_size)
{
	struct pkg_chunk c = { .raw_size = raw_size, .stored_size = (uint32_t)stored_size,
			       .compression = PKG_COMP_ZSTD };
	c.stored_crc32 = crc32_update(0, stored, stored_size);
	sha256_buffer(raw, raw_size, c.sha256);
	return pkg_chunk_unpack(&c, stored, out);
}

static void check_refused(const uint8_t *stored, size_t len, uint32_t raw_size, const char *want)
{
	if (unpack(stored, len, raw_size) == 0 || !strstr(err_msg(), want)) {
		fprintf(stderr, "  expected an error with \"%s\", got \"%s\"\n", want, err_msg());
		check_case_failed = 1;
	}
}

static void test_round_trip(void)
{
	memset(out, 0, sizeof(out));
	CHECK(unpack(frame, frame_len, RAW) == 0);
	CHECK(memcmp(out, raw, RAW) == 0);
	/* again on the same thread: the reused context starts clean */
	CHECK(unpack(frame, frame_len, RAW) == 0);
}

static void test_truncated_frame(void)
{
	check_refused(frame, frame_len - 1, RAW, "zstd frame is truncated");
	check_refused(frame, 3, RAW, "zstd frame is truncated");
}

static void test_bytes_after_the_frame(void)
{
	uint8_t buf[2 * RAW];
	memcpy(buf, frame, frame_len);
	buf[frame_len] = 0;
	check_refused(buf, frame_len + 1, RAW, "zstd frame is followed by 1 more bytes");
	/* a second, valid frame after the first is refused the same way, not decoded */
	memcpy(buf + frame_len, frame, frame_len);
	check_refused(buf, 2 * frame_len, RAW, "zstd frame is followed by");
}

static void test_wrong_content_size(void)
{
	/* the frame says RAW bytes; the chunk says fewer */
	check_refused(frame, frame_len, RAW - 1, "zstd frame declares 100000 bytes, expected 99999");
}

static void test_no_content_size_wrong_length(void)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	CHECK(cc != NULL);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
	uint8_t f[RAW];
	size_t n = ZSTD_compress2(cc, f, sizeof(f), raw, 5000);
	ZSTD_freeCCtx(cc);
	CHECK(!ZSTD_isError(n));
	check_refused(f, n, 6000, "zstd frame decodes to 5000 bytes, expected 6000");
	check_refused(f, n, 4500, "zstd frame decodes to more than 4500 bytes");
	/* 5000 bytes need an 8 KiB window: more than a 4 KiB chunk may ask for */
	check_refused(f, n, 4096, "zstd frame needs a window of 8192 bytes (at most 4096)");
	CHECK(unpack(f, n, 5000) == 0); /* without a content size, the exact length is fine */
}

static void test_skippable_frame(void)
{
	/* magic 0x184D2A50, 4 bytes of user data */
	static const uint8_t skip[] = { 0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4 };
	check_refused(skip, sizeof(skip), 1000, "zstd skippable frame");
}

/* magic, frame header descriptor fhd, then `rest`; returns the length */
static size_t frame_by_hand(uint8_t *f, uint8_t fhd, const uint8_t *rest, size_t n)
{
	static const uint8_t magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
	memcpy(f, magic, 4);
	f[4] = fhd;
	memcpy(f + 5, rest, n);
	return 5 + n;
}

static void test_dictionary_frame(void)
{
	/* fhd 0x01: a 1-byte dictionary ID; window 1 KiB; dict 5; an empty last raw block */
	static const uint8_t rest[] = { 0x00, 5, 0x01, 0x00, 0x00 };
	uint8_t f[16];
	check_refused(f, frame_by_hand(f, 0x01, rest, sizeof(rest)), 1000,
		      "zstd frame needs dictionary 5");
}

static void test_huge_window(void)
{
	/* window descriptor 0x68: exponent 13, a window of 2^23 bytes, for a 1000-byte chunk */
	static const uint8_t rest[] = { 0x68, 0x01, 0x00, 0x00 };
	uint8_t f[16];
	check_refused(f, frame_by_hand(f, 0x00, rest, sizeof(rest)), 1000,
		      "zstd frame needs a window of 8388608 bytes (at most 1024)");
	/* the largest window a frame may declare (2^41 on 64-bit) */
	static const uint8_t rest_max[] = { 0xff, 0x01, 0x00, 0x00 };
	check_refused(f, frame_by_hand(f, 0x00, rest_max, sizeof(rest_max)), 1000,
		      "zstd frame needs a window of");
}

static void test_corrupt_block(void)
{
	/* block type 3 (reserved) in the first block header */
	uint8_t f[2 * RAW];
	memcpy(f, frame, frame_len);
	ZSTD_frameHeader fh;
	CHECK(ZSTD_getFrameHeader(&fh, f, frame_len) == 0);
	f[fh.headerSize] |= 0x06;
	check_refused(f, frame_len, RAW, "zstd frame is corrupt");
	/* a flipped byte inside the compressed data: refused, whichever check sees it first */
	memcpy(f, frame, frame_len);
	f[frame_len / 2] ^= 0x40;
	CHECK(unpack(f, frame_len, RAW) != 0);
	CHECK(strstr(err_msg(), "zstd frame") || strstr(err_msg(), "SHA-256 mismatch"));
}

int main(void)
{
	setup();
	RUN(test_round_trip);
	RUN(test_truncated_frame);
	RUN(test_bytes_after_the_frame);
	RUN(test_wrong_content_size);
	RUN(test_no_content_size_wrong_length);
	RUN(test_skippable_frame);
	RUN(test_dictionary_frame);
	RUN(test_huge_window);
	RUN(test_corrupt_block);
	return CHECK_EXIT();
}
