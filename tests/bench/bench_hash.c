/* SPDX-License-Identifier: MIT */
/*
 * Hashing throughput: SHA-256 with every backend this CPU has, streamed through one context
 * in 1 MiB buffers like the flasher does, and zlib's crc32() for reference, then CRC-32 with
 * every backend this CPU has. One line each; the SHA-256 lines give the ratio to the portable
 * (BearSSL) code, the CRC-32 ones to zlib. Exits 1 if the backends disagree on the digest or
 * on the CRC. Last, the default SHA-256 backend on every online CPU at once: the flasher hashes
 * on several threads, and what they get together is what bounds it (CPUs that share a core,
 * or a host's other guests, give less than one thread's rate times the CPUs).
 * Usage: bench_hash [MIB]   (default 256)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "../../common/crc32.h"
#include "../../common/sha256.h"

#define BENCH_BUF (1u << 20)
#define BENCH_MIB_DEFAULT 256u
#define BENCH_MIB_MAX (1u << 20)

static uint8_t bench_buf[BENCH_BUF];

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Hashes mib MiB with backend id; returns the seconds taken, digest in out. */
static double bench_sha256(enum sha256_backend_id id, unsigned mib, uint8_t out[SHA256_LEN])
{
	struct sha256 ctx;
	double start = bench_now();
	if (sha256_init_backend(&ctx, id) != 0)
		return -1;
	for (unsigned i = 0; i < mib; i++)
		sha256_update(&ctx, bench_buf, BENCH_BUF);
	sha256_final(&ctx, out);
	return bench_now() - start;
}

struct bench_thread {
	unsigned mib;
	double seconds;
	uint8_t digest[SHA256_LEN];
	pthread_t id;
};

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;
	struct sha256 ctx;
	double start = bench_now();
	sha256_init(&ctx);
	for (unsigned i = 0; i < t->mib; i++)
		sha256_update(&ctx, bench_buf, BENCH_BUF);
	sha256_final(&ctx, t->digest);
	t->seconds = bench_now() - start;
	return NULL;
}

/* The default backend on n threads at once; the MB/s of all of them together, or -1. */
static double bench_sha256_parallel(int n, unsigned mib, const uint8_t want[SHA256_LEN])
{
	struct bench_thread t[64];
	int started = 0;
	double start = bench_now();
	for (; started < n; started++) {
		t[started].mib = mib;
		if (pthread_create(&t[started].id, NULL, bench_thread_main, &t[started]) != 0)
			break;
	}
	int same = 1;
	for (int i = 0; i < started; i++) {
		pthread_join(t[i].id, NULL);
		same &= memcmp(t[i].digest, want, SHA256_LEN) == 0;
	}
	double seconds = bench_now() - start;
	if (started != n || !same)
		return -1;
	return (double)n * mib * BENCH_BUF / seconds / 1e6;
}

static double bench_crc32(unsigned mib, unsigned long *crc)
{
	double start = bench_now();
	*crc = crc32(0, Z_NULL, 0);
	for (unsigned i = 0; i < mib; i++)
		*crc = crc32(*crc, bench_buf, BENCH_BUF);
	return bench_now() - start;
}

/* CRC-32 of mib MiB with backend id; returns the seconds taken (-1: backend refused). */
static double bench_crc32_backend(enum crc32_backend_id id, unsigned mib, uint32_t *crc)
{
	double start = bench_now();
	*crc = 0;
	for (unsigned i = 0; i < mib; i++)
		if (crc32_update_backend(id, crc, bench_buf, BENCH_BUF) != 0)
			return -1;
	return bench_now() - start;
}

int main(int argc, char **argv)
{
	unsigned mib = BENCH_MIB_DEFAULT;
	if (argc > 2 || (argc == 2 && (sscanf(argv[1], "%u", &mib) != 1 || mib == 0 ||
				       mib > BENCH_MIB_MAX))) {
		fprintf(stderr, "usage: %s [MIB]  (1..%u MiB to hash per line, default %u)\n",
			argv[0], BENCH_MIB_MAX, BENCH_MIB_DEFAULT);
		return 2;
	}
	uint32_t x = 0x12345678;
	for (size_t i = 0; i < BENCH_BUF; i++) {
		x = x * 1664525u + 1013904223u;
		bench_buf[i] = (uint8_t)(x >> 24);
	}
	double bytes = (double)mib * BENCH_BUF;
	printf("hashing %u MiB in 1 MiB buffers; default SHA-256 backend: %s\n", mib,
	       sha256_backend());

	uint8_t first[SHA256_LEN];
	double portable_mbs = 0;
	int mismatch = 0;
	for (int id = 0; id < SHA256_BACKEND_COUNT; id++) {
		enum sha256_backend_id b = (enum sha256_backend_id)id;
		if (!sha256_backend_available(b))
			continue;
		uint8_t d[SHA256_LEN];
		char hex[2 * SHA256_LEN + 1];
		double s = bench_sha256(b, mib, d);
		double mbs = bytes / s / 1e6;
		if (b == SHA256_BACKEND_PORTABLE) {
			portable_mbs = mbs;
			memcpy(first, d, SHA256_LEN);
		} else if (memcmp(first, d, SHA256_LEN) != 0) {
			mismatch = 1;
		}
		sha256_hex(d, hex);
		printf("sha256 %-12s %8.0f MB/s  %5.2fx portable  (%.16s...)\n", sha256_backend_name(b),
		       mbs, mbs / portable_mbs, hex);
	}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1)
		cpus = 1;
	if (cpus > 64)
		cpus = 64;
	struct bench_thread single = { .mib = mib };
	bench_thread_main(&single);
	double single_mbs = bytes / single.seconds / 1e6;
	double all_mbs = bench_sha256_parallel((int)cpus, mib, single.digest);
	if (all_mbs < 0) {
		fprintf(stderr, "bench_hash: the parallel SHA-256 run failed or disagreed\n");
		mismatch = 1;
	} else {
		printf("sha256 %-12s %8.0f MB/s  on %ld CPUs at once (%.2fx one thread)\n",
		       sha256_backend(), all_mbs, cpus, all_mbs / single_mbs);
	}

	unsigned long crc;
	double s = bench_crc32(mib, &crc);
	double zlib_mbs = bytes / s / 1e6;
	printf("crc32  %-12s %8.0f MB/s  (%08lx)\n", "zlib", zlib_mbs, crc);

	int crc_mismatch = 0;
	for (int id = 0; id < CRC32_BACKEND_COUNT; id++) {
		enum crc32_backend_id b = (enum crc32_backend_id)id;
		if (!crc32_backend_available(b))
			continue;
		uint32_t c;
		double cs = bench_crc32_backend(b, mib, &c);
		double mbs = bytes / cs / 1e6;
		crc_mismatch |= c != (uint32_t)crc;
		printf("crc32  %-12s %8.0f MB/s  %5.2fx zlib      (%08" PRIx32 ")\n",
		       crc32_backend_name(b), mbs, mbs / zlib_mbs, c);
	}
	printf("default CRC-32 backend: %s\n", crc32_backend());
	if (crc_mismatch)
		fprintf(stderr, "bench_hash: a CRC-32 backend disagrees with zlib\n");
	if (mismatch)
		fprintf(stderr, "bench_hash: the SHA-256 backends disagree on the digest\n");
	return mismatch || crc_mismatch;
}
