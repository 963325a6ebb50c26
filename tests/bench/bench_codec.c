/* SPDX-License-Identifier: MIT */
/*
 * Decode speed of a package's chunk codecs, nothing else: every compressed chunk is read into
 * memory, then decoded with pkg_chunk_decode (the board's own decoder, without the CRC-32 and
 * SHA-256 every chunk also gets: those cost the same whatever the codec, so they would hide the
 * codec's share), on one thread, timed by that thread's CPU clock. One line per codec found:
 *   decode CODEC: RAW raw bytes from STORED stored in SECONDS CPU s (MBPS MB/s of raw output)
 * and one for the chunks stored verbatim. Exits 1 when a chunk fails to decode.
 * Usage: bench_codec PACKAGE
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../common/chunk.h"
#include "../../common/error.h"
#include "../../common/pkg.h"
#include "../../common/pkg_file.h"

#define CODECS 3 /* PKG_COMP_NONE, PKG_COMP_ZLIB, PKG_COMP_ZSTD */

static const char *const codec_names[CODECS] = { "none", "zlib", "zstd" };

static double thread_cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct codec_total {
	uint64_t raw, stored, chunks;
	double cpu;
};

static int decode_all(const struct pkg_file *f, struct codec_total *totals)
{
	const struct pkg_manifest *m = &f->manifest;
	uint64_t data_start = PKG_MANIFEST_OFFSET + f->header.manifest_size;
	uint8_t *stored = malloc(PKG_MAX_CHUNK_SIZE), *raw = malloc(PKG_MAX_CHUNK_SIZE);
	int rc = stored && raw ? 0 : err_set("out of memory");
	for (uint32_t i = 0; rc == 0 && i < m->chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(m, i, &c);
		if (c.compression >= CODECS) {
			rc = err_set("chunk %" PRIu32 ": unknown codec %u", i, c.compression);
			break;
		}
		struct codec_total *t = &totals[c.compression];
		t->raw += c.raw_size;
		t->stored += c.stored_size;
		t->chunks++;
		if (c.compression == PKG_COMP_NONE)
			continue;
		rc = pkg_file_read(f, stored, c.stored_size, data_start + c.stored_offset);
		if (rc != 0)
			break;
		double start = thread_cpu_seconds();
		rc = pkg_chunk_decode(&c, stored, raw);
		t->cpu += thread_cpu_seconds() - start;
		if (rc != 0)
			err_prefix("chunk %" PRIu32, i);
	}
	free(stored);
	free(raw);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench_codec PACKAGE\n");
		return 2;
	}
	struct pkg_file f;
	if (pkg_file_open(argv[1], &f) != 0 || pkg_file_decode_unverified(&f) != 0) {
		fprintf(stderr, "bench_codec: %s: %s\n", argv[1], err_msg());
		return 1;
	}
	struct codec_total totals[CODECS] = { { 0 } };
	int rc = decode_all(&f, totals);
	pkg_file_close(&f);
	if (rc != 0) {
		fprintf(stderr, "bench_codec: %s: %s\n", argv[1], err_msg());
		return 1;
	}
	for (int k = 1; k < CODECS; k++) {
		const struct codec_total *t = &totals[k];
		if (!t->chunks)
			continue;
		printf("decode %s: %" PRIu64 " raw bytes from %" PRIu64 " stored in %.3f CPU s"
		       " (%.0f MB/s of raw output), %" PRIu64 " chunks\n",
		       codec_names[k], t->raw, t->stored, t->cpu,
		       t->cpu > 0 ? (double)t->raw / t->cpu / 1e6 : 0.0, t->chunks);
	}
	printf("verbatim: %" PRIu64 " bytes, %" PRIu64 " chunks\n", totals[0].raw, totals[0].chunks);
	return 0;
}
