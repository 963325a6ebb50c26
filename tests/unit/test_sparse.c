/* SPDX-License-Identifier: MIT */
/*
 * The Android sparse reader (mkflashpkg/sparse.c) on images made here byte by byte: every chunk
 * type, larger headers, checksums, the expanded bytes and which ranges are holes; and every
 * hostile shape refused with a message naming the chunk, the expectation and the finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "../../common/error.h"
#include "../../common/le.h"
#include "../../mkflashpkg/sparse.h"
#include "check.h"

#define BS 4096u

/* An image under construction: a header, then chunks appended one by one. */
struct img {
	uint8_t buf[1 << 18];
	size_t len;
	uint16_t file_hdr, chunk_hdr;
};

static int mem_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	const struct img *w = ctx;
	if (off > w->len || len > w->len - off)
		return err_set("memory source: %zu bytes at %llu past its %zu", len,
			       (unsigned long long)off, w->len);
	memcpy(buf, w->buf + off, len);
	return 0;
}

static struct sparse_source source_of(struct img *w)
{
	return (struct sparse_source){ .read = mem_read, .ctx = w, .size = w->len };
}

/* Header fields; the counts are patched by img_finish(). */
static void img_start(struct img *w, uint16_t file_hdr, uint16_t chunk_hdr, uint32_t block_size)
{
	memset(w, 0, sizeof(*w));
	w->file_hdr = file_hdr;
	w->chunk_hdr = chunk_hdr;
	le32_store(w->buf, SPARSE_MAGIC);
	le16_store(w->buf + 4, 1);
	le16_store(w->buf + 8, file_hdr);
	le16_store(w->buf + 10, chunk_hdr);
	le32_store(w->buf + 12, block_size);
	/* bytes of a larger header are filled with junk: the reader must skip, not read them */
	for (size_t i = 28; i < file_hdr; i++)
		w->buf[i] = 0xA5;
	w->len = file_hdr;
}

/* Appends a chunk: header (junk in the extra bytes), then `data_len` bytes of `data`. */
static void img_chunk(struct img *w, uint16_t type, uint32_t blocks, const void *data,
		      uint32_t data_len)
{
	uint8_t *h = w->buf + w->len;
	le16_store(h, type);
	le16_store(h + 2, 0);
	le32_store(h + 4, blocks);
	le32_store(h + 8, w->chunk_hdr + data_len);
	for (size_t i = 12; i < w->chunk_hdr; i++)
		h[i] = 0x5A;
	w->len += w->chunk_hdr;
	if (data_len)
		memcpy(w->buf + w->len, data, data_len);
	w->len += data_len;
	le32_store(w->buf + 20, le32_load(w->buf + 20) + 1);
}

static void img_set_totals(struct img *w, uint32_t blocks, uint32_t chunks)
{
	le32_store(w->buf + 16, blocks);
	le32_store(w->buf + 20, chunks);
}

static uint8_t raw_a[2 * BS], raw_b[BS];
static const uint8_t pattern[4] = { 0xDE, 0xAD, 0xBE, 0xEF }, zero4[4];

/* RAW 2, FILL 1, DONT_CARE 3, FILL-of-zeros 2, RAW 1: nine blocks. */
static void img_every_type(struct img *w, uint16_t file_hdr, uint16_t chunk_hdr)
{
	for (size_t i = 0; i < sizeof(raw_a); i++)
		raw_a[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(raw_b); i++)
		raw_b[i] = (uint8_t)(i * 13 + 5);
	img_start(w, file_hdr, chunk_hdr, BS);
	img_chunk(w, SPARSE_CHUNK_RAW, 2, raw_a, sizeof(raw_a));
	img_chunk(w, SPARSE_CHUNK_FILL, 1, pattern, 4);
	img_chunk(w, SPARSE_CHUNK_DONT_CARE, 3, NULL, 0);
	img_chunk(w, SPARSE_CHUNK_FILL, 2, zero4, 4);
	img_chunk(w, SPARSE_CHUNK_RAW, 1, raw_b, sizeof(raw_b));
	img_set_totals(w, 9, 5);
}

/* What img_every_type() expands to. */
static void expected_every_type(uint8_t *out)
{
	memset(out, 0, 9 * BS);
	memcpy(out, raw_a, sizeof(raw_a));
	for (size_t i = 0; i < BS; i++)
		out[2 * BS + i] = pattern[i % 4];
	memcpy(out + 8 * BS, raw_b, sizeof(raw_b));
}

static struct img m;
static uint8_t want[9 * BS], got[9 * BS];

static void test_detect_magic(void)
{
	img_every_type(&m, 28, 12);
	struct sparse_source s = source_of(&m);
	CHECK(sparse_detect_image(&s) == 1);
	m.buf[0] ^= 1;
	CHECK(sparse_detect_image(&s) == 0);
	m.len = 3;
	s = source_of(&m);
	CHECK(sparse_detect_image(&s) == 0);
}

static void check_every_type(uint16_t file_hdr, uint16_t chunk_hdr)
{
	img_every_type(&m, file_hdr, chunk_hdr);
	struct sparse_source s = source_of(&m);
	struct sparse_image im;
	CHECK(sparse_parse_image(&s, &im) == 0);
	CHECK(im.block_size == BS && im.total_blocks == 9 && im.size == 9 * BS);
	/* DONT_CARE and the zero FILL merge into one hole */
	CHECK(im.count == 4);
	CHECK(im.extents[0].kind == SPARSE_EXTENT_DATA && im.extents[0].length == 2 * BS);
	CHECK(im.extents[0].file_offset == (uint64_t)file_hdr + chunk_hdr);
	CHECK(im.extents[1].kind == SPARSE_EXTENT_FILL && memcmp(im.extents[1].fill, pattern, 4) == 0);
	CHECK(im.extents[2].kind == SPARSE_EXTENT_HOLE && im.extents[2].offset == 3 * BS &&
	      im.extents[2].length == 5 * BS);
	CHECK(im.extents[3].kind == SPARSE_EXTENT_DATA && im.extents[3].offset == 8 * BS);
	expected_every_type(want);
	memset(got, 0x77, sizeof(got));
	CHECK(sparse_read_range(&im, &s, 0, got, sizeof(got)) == 0);
	CHECK(memcmp(got, want, sizeof(want)) == 0);
	/* ranges at odd offsets and lengths, across extent boundaries */
	static const uint32_t cuts[][2] = { { 1, 3 }, { 2 * BS - 3, 10 }, { 2 * BS + 1, BS },
					    { 3 * BS - 2, 5 }, { 8 * BS - 1, 2 }, { 9 * BS - 1, 1 } };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		memset(got, 0x77, sizeof(got));
		CHECK(sparse_read_range(&im, &s, cuts[i][0], got, cuts[i][1]) == 0);
		CHECK(memcmp(got, want + cuts[i][0], cuts[i][1]) == 0);
	}
	/* a range wholly inside the hole is reported as one and not touched */
	memset(got, 0x77, 16);
	CHECK(sparse_read_range(&im, &s, 3 * BS + 5, got, 5 * BS - 5) == 1);
	CHECK(got[0] == 0x77);
	CHECK(sparse_read_range(&im, &s, 9 * BS, got, 0) == 1);
	CHECK(sparse_read_range(&im, &s, 8 * BS, got, BS + 1) == -1);
	CHECK(strstr(err_msg(), "run past the sparse image's 36864") != NULL);
	sparse_free_image(&im);
}

static void test_every_chunk_type(void)
{
	check_every_type(28, 12);
}

static void test_larger_headers_are_skipped(void)
{
	check_every_type(40, 20);
}

static void test_checksums_are_checked(void)
{
	img_every_type(&m, 28, 12);
	expected_every_type(want);
	uint32_t crc2 = (uint32_t)crc32(0, want, 2 * BS), crc9 = (uint32_t)crc32(0, want, 9 * BS);
	/* rebuilt with CRC32 chunks after the first RAW and at the end, and the header's CRC */
	img_start(&m, 28, 12, BS);
	uint8_t c[4];
	img_chunk(&m, SPARSE_CHUNK_RAW, 2, raw_a, sizeof(raw_a));
	le32_store(c, crc2);
	img_chunk(&m, SPARSE_CHUNK_CRC32, 0, c, 4);
	img_chunk(&m, SPARSE_CHUNK_FILL, 1, pattern, 4);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 3, NULL, 0);
	img_chunk(&m, SPARSE_CHUNK_FILL, 2, zero4, 4);
	img_chunk(&m, SPARSE_CHUNK_RAW, 1, raw_b, sizeof(raw_b));
	le32_store(c, crc9);
	img_chunk(&m, SPARSE_CHUNK_CRC32, 0, c, 4);
	img_set_totals(&m, 9, 7);
	le32_store(m.buf + 24, crc9);
	struct sparse_source s = source_of(&m);
	struct sparse_image im;
	CHECK(sparse_parse_image(&s, &im) == 0);
	sparse_free_image(&im);

	m.buf[28 + 12 + 5] ^= 1; /* a flipped bit in the first RAW chunk */
	CHECK(sparse_parse_image(&s, &im) == -1);
	CHECK(strstr(err_msg(), "chunk 1 (CRC32): the image's first 8192 bytes have CRC-32 0x") != NULL);
	CHECK(strstr(err_msg(), "the chunk says 0x") != NULL);
	m.buf[28 + 12 + 5] ^= 1;
	le32_store(m.buf + 24, crc9 ^ 1);
	CHECK(sparse_parse_image(&s, &im) == -1);
	CHECK(strstr(err_msg(), "the file header says 0x") != NULL);
}

/* A hole of 2^20 blocks (4 GiB) costs nothing to checksum: combines, not bytes. */
static void test_checksum_over_large_holes(void)
{
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1u << 20, NULL, 0);
	img_chunk(&m, SPARSE_CHUNK_FILL, 1u << 20, pattern, 4);
	img_set_totals(&m, 2u << 20, 2);
	/* the expected value, the slow way, from 1 MiB pieces */
	static uint8_t piece[1 << 20];
	uint32_t crc = 0;
	memset(piece, 0, sizeof(piece));
	for (int i = 0; i < 4096; i++)
		crc = (uint32_t)crc32(crc, piece, sizeof(piece));
	for (size_t i = 0; i < sizeof(piece); i++)
		piece[i] = pattern[i % 4];
	for (int i = 0; i < 4096; i++)
		crc = (uint32_t)crc32(crc, piece, sizeof(piece));
	le32_store(m.buf + 24, crc);
	struct sparse_source s = source_of(&m);
	struct sparse_image im;
	CHECK(sparse_parse_image(&s, &im) == 0);
	CHECK(im.size == (8ull << 30) && im.count == 2);
	sparse_free_image(&im);
}

static void test_empty_image(void)
{
	img_start(&m, 28, 12, BS);
	struct sparse_source s = source_of(&m);
	struct sparse_image im;
	CHECK(sparse_parse_image(&s, &im) == 0);
	CHECK(im.size == 0 && im.count == 0);
	CHECK(sparse_read_range(&im, &s, 0, got, 0) == 1);
	sparse_free_image(&im);
}

/* Whether parsing m is refused with a message containing `msg` (and leaves nothing to free). */
static int refused_with(const char *msg)
{
	struct sparse_source s = source_of(&m);
	struct sparse_image im;
	err_clear();
	if (sparse_parse_image(&s, &im) == 0) {
		fprintf(stderr, "  accepted, expected a refusal with \"%s\"\n", msg);
		sparse_free_image(&im);
		return 0;
	}
	if (im.extents != NULL || !strstr(err_msg(), msg)) {
		fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err_msg(), msg);
		return 0;
	}
	return 1;
}

#define CHECK_REFUSED(want) CHECK(refused_with(want))

static void test_refuses_bad_headers(void)
{
	/* one header field of a good image changed */
	static const struct {
		size_t at, width;
		uint32_t value;
		const char *msg;
	} cases[] = {
		{ 4, 2, 2, "sparse format version 2.0, expected 1.x" },
		{ 8, 2, 24, "file header size 24, expected at least 28" },
		{ 10, 2, 8, "chunk header size 8, expected at least 12" },
		{ 8, 2, 60000, "file header size 60000 runs past the end of the file" },
		{ 12, 4, 0, "block size 0, expected a non-zero multiple of 4" },
		{ 12, 4, 4098, "block size 4098, expected a non-zero multiple of 4" },
		{ 20, 4, 100000, "header says 100000 chunks, the" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_every_type(&m, 28, 12);
		if (cases[i].width == 2)
			le16_store(m.buf + cases[i].at, (uint16_t)cases[i].value);
		else
			le32_store(m.buf + cases[i].at, cases[i].value);
		CHECK_REFUSED(cases[i].msg);
	}
	img_every_type(&m, 28, 12);
	m.len = 27;
	CHECK_REFUSED("27 bytes, too short for the 28-byte sparse file header");
	img_every_type(&m, 28, 12);
	le32_store(m.buf + 12, 0xFFFFFFFC);
	le32_store(m.buf + 16, 0xFFFFFFFF);
	CHECK_REFUSED("4294967295 blocks of 4294967292 bytes = 18446744052234715140 bytes, more than");
}

static void test_refuses_bad_chunk_sizes(void)
{
	/* an image of one chunk (after a one-block DONT_CARE where `lead`) whose sizes are wrong */
	static const struct {
		int lead;
		uint16_t type;
		uint32_t blocks, data_len, total_blocks;
		const char *msg;
	} cases[] = {
		{ 0, SPARSE_CHUNK_RAW, 2, BS, 2,
		  "chunk 0 (RAW): 4096 data bytes, expected 8192 (2 blocks of 4096 bytes)" },
		{ 1, SPARSE_CHUNK_FILL, 1, 8, 2, "chunk 1 (FILL): 8 data bytes, expected 4 (the pattern)" },
		{ 0, SPARSE_CHUNK_FILL, 1, 0, 1, "chunk 0 (FILL): 0 data bytes, expected 4 (the pattern)" },
		{ 0, SPARSE_CHUNK_DONT_CARE, 1, 4, 1, "chunk 0 (DONT_CARE): 4 data bytes, expected 0 (no data)" },
		{ 0, SPARSE_CHUNK_CRC32, 0, 8, 0, "chunk 0 (CRC32): 8 data bytes, expected 4 (the CRC)" },
		{ 0, SPARSE_CHUNK_CRC32, 1, 4, 1, "chunk 0 (CRC32): covers 1 blocks, expected 0" },
		{ 0, 0xCAC5, 1, 0, 1, "chunk 0: unknown type 0xcac5 (expected RAW 0xCAC1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		img_start(&m, 28, 12, BS);
		if (cases[i].lead)
			img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1, NULL, 0);
		img_chunk(&m, cases[i].type, cases[i].blocks, raw_a, cases[i].data_len);
		img_set_totals(&m, cases[i].total_blocks, 1 + (uint32_t)cases[i].lead);
		CHECK_REFUSED(cases[i].msg);
	}
	img_start(&m, 28, 16, BS);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1, NULL, 0);
	le32_store(m.buf + 28 + 8, 12); /* total below the 16-byte chunk header */
	img_set_totals(&m, 1, 1);
	CHECK_REFUSED("chunk 0 (DONT_CARE): total size 12 is smaller than the chunk header size 16");
}

static void test_refuses_overlong_chunks(void)
{
	/* the RAW chunk's total claims a block more than the file holds */
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_RAW, 2, raw_a, 2 * BS);
	le32_store(m.buf + 28 + 4, 3);
	le32_store(m.buf + 28 + 8, 12 + 3 * BS);
	img_set_totals(&m, 3, 1);
	CHECK_REFUSED("chunk 0 (RAW): 12300 bytes at offset 28 run past the end of the file (8232 bytes)");
	/* the header's total of chunks is larger than the chunks the file holds */
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_RAW, 2, raw_a, 2 * BS);
	img_set_totals(&m, 2, 2);
	CHECK_REFUSED("chunk 1: its 12-byte header at offset 8232 runs past the end of the file (8232 bytes)");
	/* a chunk past the end of the image */
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 3, NULL, 0);
	img_chunk(&m, SPARSE_CHUNK_FILL, 2, pattern, 4);
	img_set_totals(&m, 4, 2);
	CHECK_REFUSED("chunk 1 (FILL): blocks 3..5 run past the image's 4 blocks");
	/* a DONT_CARE of 2^32-1 blocks: 64-bit arithmetic, no wrap */
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1, NULL, 0);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 0xFFFFFFFF, NULL, 0);
	img_set_totals(&m, 2, 2);
	CHECK_REFUSED("chunk 1 (DONT_CARE): blocks 1..4294967296 run past the image's 2 blocks");
}

static void test_refuses_totals_that_do_not_add_up(void)
{
	img_every_type(&m, 28, 12);
	img_set_totals(&m, 10, 5);
	CHECK_REFUSED("the 5 chunks cover 9 blocks, the header says 10");
	/* fewer chunks in the header than in the file: the rest is trailing data */
	img_every_type(&m, 28, 12);
	img_set_totals(&m, 8, 4);
	CHECK_REFUSED("4108 bytes follow the last of the header's 4 chunks");
	img_start(&m, 28, 12, BS);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1, NULL, 0);
	img_chunk(&m, SPARSE_CHUNK_DONT_CARE, 1, NULL, 0);
	img_set_totals(&m, 1, 1);
	CHECK_REFUSED("12 bytes follow the last of the header's 1 chunks (expected the file to end at offset 40)");
}

int main(void)
{
	RUN(test_detect_magic);
	RUN(test_every_chunk_type);
	RUN(test_larger_headers_are_skipped);
	RUN(test_checksums_are_checked);
	RUN(test_checksum_over_large_holes);
	RUN(test_empty_image);
	RUN(test_refuses_bad_headers);
	RUN(test_refuses_bad_chunk_sizes);
	RUN(test_refuses_overlong_chunks);
	RUN(test_refuses_totals_that_do_not_add_up);
	return CHECK_EXIT();
}
