/* SPDX-License-Identifier: MIT */
/* Chunk unpacking: inflate or zstd (exact size) and SHA-256 check. */
#include "chunk.h"

#include <inttypes.h>
#include <string.h>

#include <zlib.h>

#include "chunk_zstd.h"
#include "crc32.h"
#include "error.h"

/*
 * A zlib stream (RFC 1950) is a 2-byte header, raw deflate data and an Adler-32 of the
 * result. The chunk's SHA-256 is checked right after, so the Adler-32 would be a third pass
 * over every inflated byte for nothing: the header is checked here, the deflate data inflated
 * raw, and the trailer's 4 bytes must be all that is left.
 */
static int inflate_exact(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_len)
{
	if (in_len < 6)
		return err_set("zlib stream is truncated");
	const unsigned cmf = in[0], flg = in[1];
	if ((cmf & 0x0f) != 8 || (cmf >> 4) > 7 || (cmf * 256 + flg) % 31 != 0 || (flg & 0x20))
		return err_set("zlib stream is corrupt (header %02x %02x)", cmf, flg);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return err_set("zlib: cannot start inflating");
	zs.next_in = (Bytef *)(uintptr_t)(in + 2);
	zs.avail_in = in_len - 6;
	zs.next_out = out;
	zs.avail_out = out_len;
	int rc = inflate(&zs, Z_FINISH);
	uint32_t produced = out_len - zs.avail_out;
	uint32_t left = zs.avail_in;
	inflateEnd(&zs);
	if (rc == Z_STREAM_END && produced == out_len && left == 0)
		return 0;
	if (rc == Z_STREAM_END && left)
		return err_set("zlib stream ends %" PRIu32 " bytes before the stored data", left);
	if (rc == Z_STREAM_END)
		return err_set("zlib stream inflates to %" PRIu32 " bytes, expected %" PRIu32, produced,
			       out_len);
	if (rc == Z_BUF_ERROR && left == 0)
		return err_set("zlib stream is truncated");
	if (rc == Z_BUF_ERROR && produced == out_len)
		return err_set("zlib stream inflates to more than %" PRIu32 " bytes", out_len);
	return err_set("zlib stream is corrupt");
}

int pkg_chunk_decode(const struct pkg_chunk *c, const uint8_t *stored, uint8_t *raw)
{
	if (c->compression == PKG_COMP_ZLIB)
		return inflate_exact(stored, c->stored_size, raw, c->raw_size);
	if (c->compression == PKG_COMP_ZSTD)
		return chunk_zstd_decode(stored, c->stored_size, raw, c->raw_size);
	if (c->compression == PKG_COMP_NONE && c->stored_size == c->raw_size) {
		if (raw != stored)
			memcpy(raw, stored, c->raw_size);
		return 0;
	}
	return err_set("unknown compression %u", c->compression);
}

int pkg_chunk_unpack(const struct pkg_chunk *c, const uint8_t *stored, uint8_t *raw)
{
	uint32_t crc = crc32_update(0, stored, c->stored_size);
	if (crc != c->stored_crc32)
		return err_set("stored bytes corrupt (CRC32 %08" PRIx32 ", expected %08" PRIx32 ")", crc,
			       c->stored_crc32);
	if (pkg_chunk_decode(c, stored, raw) != 0)
		return -1;
	uint8_t digest[SHA256_LEN];
	sha256_buffer(raw, c->raw_size, digest);
	if (memcmp(digest, c->sha256, SHA256_LEN) != 0)
		return err_set("SHA-256 mismatch in the chunk at partition offset %" PRIu64, c->offset);
	return 0;
}
