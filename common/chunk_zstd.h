/* SPDX-License-Identifier: MIT */
/* Decoding one zstd chunk exactly: one frame, no dictionary, a bounded window, exact size. */
#ifndef SELFFLASH_CHUNK_ZSTD_H
#define SELFFLASH_CHUNK_ZSTD_H

#include <stdint.h>

/*
 * Decodes the zstd frame in in[0, in_len) into out, which must become exactly out_len bytes.
 * The frame must be the only thing in `in` (no skippable frame, no second frame, no byte
 * after it), need no dictionary, declare either no content size or out_len, and need a window
 * of at most out_len rounded up to a power of two (so a hostile frame cannot make the board
 * allocate more than a chunk). Uses one decoding context per calling thread, made on first use
 * and freed when the thread exits. Returns 0, or -1 with err_msg() naming the problem.
 * out holds garbage after a failure.
 */
int chunk_zstd_decode(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_len);

#endif
