/* SPDX-License-Identifier: MIT */
/* Turning a chunk's stored bytes back into its raw bytes, and proving them by hash. */
#ifndef SELFFLASH_CHUNK_H
#define SELFFLASH_CHUNK_H

#include <stdint.h>

#include "pkg.h"

/*
 * Unpacks chunk c from its stored bytes (c->stored_size of them) into raw (room for
 * c->raw_size bytes): checks the stored bytes' CRC32, inflates a zlib chunk or decodes a zstd
 * one (chunk_zstd.h), which must produce exactly raw_size bytes and end there, then checks
 * the SHA-256 of the raw bytes. Returns 0, or -1 with err_msg() set ("zlib stream is
 * corrupt", "zstd frame is truncated", "SHA-256 mismatch", ...).
 * raw holds garbage after a failure. stored may be raw for a verbatim chunk (checked in place).
 */
int pkg_chunk_unpack(const struct pkg_chunk *c, const uint8_t *stored, uint8_t *raw);

/*
 * Only the decoding step of pkg_chunk_unpack: no CRC32 and no SHA-256 (the bench measures
 * the codecs with it; everything that writes goes through pkg_chunk_unpack). 0 or -1.
 */
int pkg_chunk_decode(const struct pkg_chunk *c, const uint8_t *stored, uint8_t *raw);

/* A chunk stored as it is (no compression): it can be fetched straight into its raw buffer. */
static inline int pkg_chunk_is_verbatim(const struct pkg_chunk *c)
{
	return c->compression == PKG_COMP_NONE && c->stored_size == c->raw_size;
}

#endif
