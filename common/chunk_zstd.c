/* SPDX-License-Identifier: MIT */
/* zstd chunk decoding: the frame's header checked against the chunk before a byte is decoded. */
#include "chunk_zstd.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_getFrameHeader: the libraries are linked statically */
#include <zstd.h>
#include <zstd_errors.h>

#include "error.h"

/*
 * One context per thread, reused: making one costs an allocation of about 100 KiB (mmap'd on
 * musl) per chunk otherwise. The key's destructor frees it when a pipeline thread ends.
 */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;
static int dctx_key_ok;

static void dctx_free(void *dctx)
{
	ZSTD_freeDCtx(dctx);
}

static void dctx_key_make(void)
{
	dctx_key_ok = pthread_key_create(&dctx_key, dctx_free) == 0;
}

static ZSTD_DCtx *dctx_get(void)
{
	pthread_once(&dctx_once, dctx_key_make);
	if (!dctx_key_ok)
		return NULL;
	ZSTD_DCtx *dctx = pthread_getspecific(dctx_key);
	if (dctx)
		return dctx;
	dctx = ZSTD_createDCtx();
	if (dctx && pthread_setspecific(dctx_key, dctx) != 0) {
		ZSTD_freeDCtx(dctx);
		return NULL;
	}
	return dctx;
}

/* The largest window a chunk of out_len bytes can need: its size rounded up to a power of two,
 * at least zstd's smallest window (1 KiB). A compressor that knows the size (mkflashpkg's
 * does) never asks for more; chunks are at most 16 MiB (PKG_MAX_CHUNK_SIZE). */
static uint64_t window_bound(uint32_t out_len)
{
	uint64_t w = 1u << ZSTD_WINDOWLOG_MIN;
	while (w < out_len)
		w <<= 1;
	return w;
}

static unsigned log2_u64(uint64_t v)
{
	unsigned l = 0;
	while ((1ull << l) < v)
		l++;
	return l;
}

int chunk_zstd_decode(const uint8_t *in, uint32_t in_len, uint8_t *out, uint32_t out_len)
{
	ZSTD_frameHeader fh;
	size_t rc = ZSTD_getFrameHeader(&fh, in, in_len);
	uint64_t bound = window_bound(out_len);
	if (ZSTD_isError(rc) && ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge)
		return err_set("zstd frame needs a window of over %llu bytes (at most %" PRIu64 ")",
			       1ull << ZSTD_WINDOWLOG_MAX, bound);
	if (ZSTD_isError(rc))
		return err_set("zstd frame is corrupt (%s)", ZSTD_getErrorName(rc));
	if (rc > 0)
		return err_set("zstd frame is truncated (header of %" PRIu32 " bytes, needs %zu)",
			       in_len, rc);
	if (fh.frameType == ZSTD_skippableFrame)
		return err_set("zstd skippable frame where a chunk's frame belongs");
	if (fh.dictID != 0)
		return err_set("zstd frame needs dictionary %u (chunks use none)", fh.dictID);
	if (fh.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN && fh.frameContentSize != out_len)
		return err_set("zstd frame declares %llu bytes, expected %" PRIu32,
			       fh.frameContentSize, out_len);
	if (fh.windowSize > bound)
		return err_set("zstd frame needs a window of %llu bytes (at most %" PRIu64 ")",
			       fh.windowSize, bound);

	size_t frame_len = ZSTD_findFrameCompressedSize(in, in_len);
	if (ZSTD_isError(frame_len)) {
		if (ZSTD_getErrorCode(frame_len) == ZSTD_error_srcSize_wrong)
			return err_set("zstd frame is truncated");
		return err_set("zstd frame is corrupt (%s)", ZSTD_getErrorName(frame_len));
	}
	if (frame_len < in_len)
		return err_set("zstd frame is followed by %zu more bytes (one frame per chunk)",
			       (size_t)in_len - frame_len);

	ZSTD_DCtx *dctx = dctx_get();
	if (!dctx)
		return err_set("zstd: cannot make a decoding context");
	/* belt and braces: the header was checked above, the decoder refuses larger windows too */
	ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
	if (ZSTD_isError(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, (int)log2_u64(bound))))
		return err_set("zstd: cannot bound the window");
	size_t n = ZSTD_decompressDCtx(dctx, out, out_len, in, in_len);
	if (ZSTD_isError(n)) {
		if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			return err_set("zstd frame decodes to more than %" PRIu32 " bytes", out_len);
		return err_set("zstd frame is corrupt (%s)", ZSTD_getErrorName(n));
	}
	if (n != out_len)
		return err_set("zstd frame decodes to %zu bytes, expected %" PRIu32, n, out_len);
	return 0;
}
