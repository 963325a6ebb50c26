/* SPDX-License-Identifier: MIT */
/*
 * CRC-32 behind common/crc32.h: every backend this CPU has against known answers and against
 * zlib's crc32_z() for every length 0..4096 at every misalignment 0..15 and for random
 * lengths up to 1 MiB fed in random pieces from random starting values; the default backend
 * is the fastest one the CPU has (so a broken detection cannot hide behind the portable
 * code), SELFFLASH_CRC32=portable forces the fallback, and first use from many threads at
 * once agrees on one backend.
 * Usage: test_crc32 [--expect-backend NAME]   (NAME: what crc32_backend() must say)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "../../common/crc32.h"
#include "../../common/error.h"
#include "check.h"

/* The sweep covers every length up to SWEEP_MAX; the random rounds go up to BIG_MAX. */
#define SWEEP_MAX 4096
#define BIG_MAX (1u << 20)
#define BIG_ROUNDS 40
#define CHILD_THREADS 8

static const char *expect_backend_arg;
static enum crc32_backend_id current; /* backend under test in the per-backend cases */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed seed, so a failure is reproducible. */
static uint32_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

static uint32_t reference_crc(uint32_t crc, const void *data, size_t len)
{
	return (uint32_t)crc32_z(crc, data, len);
}

/* The backend under test; 0xffffffff-crc if it refuses (so the comparison fails). */
static uint32_t crc_with(enum crc32_backend_id id, uint32_t crc, const void *data, size_t len)
{
	uint32_t c = crc;
	if (crc32_update_backend(id, &c, data, len) != 0)
		return ~crc;
	return c;
}

/* The backend a correct detection must pick here, found without crc32.c's own probe where
 * possible: x86 from /proc/cpuinfo's flags; aarch64 from AT_HWCAP (the script that runs the
 * aarch64 build under qemu-user also names it with --expect-backend). NULL: unknown. */
static const char *expected_default_backend(void)
{
	if (expect_backend_arg)
		return expect_backend_arg;
	const char *force = getenv("SELFFLASH_CRC32");
	if (force && strcmp(force, "portable") == 0)
		return "portable";
#if defined(__x86_64__)
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return NULL;
	char line[8192];
	const char *want = NULL;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		want = strstr(line, " pclmulqdq") && strstr(line, " sse4_1") ? "x86-pclmul"
									      : "portable";
		break;
	}
	fclose(f);
	return want;
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & (1 << 7)) ? "armv8-crc32" : "portable"; /* HWCAP_CRC32 */
#else
	return "portable";
#endif
}

/* ---- run in a fresh child, before this process picks its backend ------------------------ */

/* Runs fn in a forked child (whose backend choice is still open) and returns its exit code. */
static int run_in_child(int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int child_forced_portable(void)
{
	setenv("SELFFLASH_CRC32", "portable", 1);
	if (strcmp(crc32_backend(), "portable") != 0) {
		fprintf(stderr, "  backend is %s, expected portable\n", crc32_backend());
		return 1;
	}
	return crc32_update(0, "123456789", 9) != 0xcbf43926u;
}

static void test_env_portable_forces_fallback(void)
{
	CHECK(run_in_child(child_forced_portable) == 0);
}

/* Any other value leaves the choice to the CPU: the highest available backend, as
 * test_default_backend_is_the_fastest_available checks against the CPU's own report. */
static int child_unknown_value_ignored(void)
{
	/* first: asking what is available makes the choice too */
	setenv("SELFFLASH_CRC32", "fastest-please", 1);
	const char *want = "portable";
	for (int id = 0; id < CRC32_BACKEND_COUNT; id++)
		if (crc32_backend_available((enum crc32_backend_id)id))
			want = crc32_backend_name((enum crc32_backend_id)id);
	if (strcmp(crc32_backend(), want) != 0) {
		fprintf(stderr, "  backend is %s, expected %s\n", crc32_backend(), want);
		return 1;
	}
	return 0;
}

static void test_env_other_value_is_ignored(void)
{
	CHECK(run_in_child(child_unknown_value_ignored) == 0);
}

struct thread_result {
	const char *backend;
	uint32_t crc;
};

static pthread_barrier_t child_barrier;
static uint8_t child_data[100000];

static void *child_thread(void *arg)
{
	struct thread_result *r = arg;
	pthread_barrier_wait(&child_barrier);
	r->crc = crc32_update(0, child_data, sizeof(child_data));
	r->backend = crc32_backend();
	return NULL;
}

static int child_many_threads_first_use(void)
{
	pthread_t t[CHILD_THREADS];
	struct thread_result r[CHILD_THREADS];
	for (size_t i = 0; i < sizeof(child_data); i++)
		child_data[i] = (uint8_t)(i * 7 + (i >> 8));
	uint32_t want = reference_crc(0, child_data, sizeof(child_data));
	if (pthread_barrier_init(&child_barrier, NULL, CHILD_THREADS) != 0)
		return 2;
	for (int i = 0; i < CHILD_THREADS; i++)
		if (pthread_create(&t[i], NULL, child_thread, &r[i]) != 0)
			return 2;
	for (int i = 0; i < CHILD_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < CHILD_THREADS; i++) {
		if (r[i].backend != r[0].backend || r[i].crc != want) {
			fprintf(stderr, "  thread %d: backend %s, crc %08x, expected %08x\n", i,
				r[i].backend, r[i].crc, want);
			return 1;
		}
	}
	return 0;
}

static void test_first_use_from_many_threads(void)
{
	CHECK(run_in_child(child_many_threads_first_use) == 0);
}

/* ---- this process -------------------------------------------------------------------------- */

static void test_default_backend_is_the_fastest_available(void)
{
	const char *want = expected_default_backend();
	printf("# crc32 backend: %s\n", crc32_backend());
	CHECK(want != NULL);
	CHECK_STR_EQ(crc32_backend(), want);
	CHECK(crc32_backend_available(CRC32_BACKEND_PORTABLE));
#if defined(__x86_64__)
	CHECK(!crc32_backend_available(CRC32_BACKEND_ARMV8));
#elif defined(__aarch64__)
	CHECK(!crc32_backend_available(CRC32_BACKEND_X86_PCLMUL));
#endif
	if (strcmp(want, "portable") != 0) {
		/* The named backend exists and is what the CPU has. */
		int found = 0;
		for (int id = 0; id < CRC32_BACKEND_COUNT; id++)
			if (strcmp(crc32_backend_name((enum crc32_backend_id)id), want) == 0)
				found = crc32_backend_available((enum crc32_backend_id)id);
		CHECK(found);
	}
}

static void test_unavailable_backend_is_refused(void)
{
	uint32_t crc = 0x5a5a5a5a;
	err_clear();
	CHECK(crc32_update_backend(CRC32_BACKEND_COUNT, &crc, "abc", 3) == -1);
	CHECK(strstr(err_msg(), "CRC-32 backend ?") != NULL);
	CHECK(crc == 0x5a5a5a5a);
	CHECK_STR_EQ(crc32_backend_name((enum crc32_backend_id)-1), "?");
	for (int id = 0; id < CRC32_BACKEND_COUNT; id++) {
		enum crc32_backend_id b = (enum crc32_backend_id)id;
		crc = 0x5a5a5a5a;
		if (crc32_backend_available(b)) {
			CHECK(crc32_update_backend(b, &crc, "abc", 3) == 0);
			CHECK(crc == reference_crc(0x5a5a5a5a, "abc", 3));
			continue;
		}
		err_clear();
		CHECK(crc32_update_backend(b, &crc, "abc", 3) == -1);
		CHECK(strstr(err_msg(), crc32_backend_name(b)) != NULL);
		CHECK(crc == 0x5a5a5a5a);
	}
}

/* The default backend, through the call the frame codec makes, against zlib. */
static void test_default_matches_zlib(void)
{
	static uint8_t buf[70000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng_next();
	CHECK(crc32_update(0, "123456789", 9) == 0xcbf43926u);
	for (size_t len = 0; len < sizeof(buf); len = len * 2 + 1)
		CHECK(crc32_update(0, buf, len) == reference_crc(0, buf, len));
	CHECK(crc32_update(0xffffffffu, buf + 3, 1000) == reference_crc(0xffffffffu, buf + 3, 1000));
	CHECK(crc32_update(0x12345678, NULL, 100) == 0); /* zlib: Z_NULL gives the start value */
	CHECK(reference_crc(0x12345678, NULL, 100) == 0);
}

/* ---- per backend ------------------------------------------------------------------------ */

/* CRC-32/ISO-HDLC ("123456789" is the catalogue's check value) and values from Python's
 * zlib.crc32. */
static void test_known_answers(void)
{
	static const struct {
		const char *msg;
		uint32_t crc;
	} kat[] = {
		{ "", 0 },
		{ "a", 0xe8b7be43u },
		{ "123456789", 0xcbf43926u },
		{ "The quick brown fox jumps over the lazy dog", 0x414fa339u },
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++)
		CHECK(crc_with(current, 0, kat[i].msg, strlen(kat[i].msg)) == kat[i].crc);

	static const uint8_t zeros32[32];
	CHECK(crc_with(current, 0, zeros32, sizeof(zeros32)) == 0x190a55adu);
	/* 0..255 four times: 1 KiB, every fold width and the Barrett step with a busy register */
	static uint8_t ramp[1024];
	for (size_t i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	CHECK(crc_with(current, 0, ramp, sizeof(ramp)) == 0xb70b4c26u);

	/* Chained: the CRC of a prefix continues; empty pieces and NULL change nothing / reset. */
	uint32_t c = crc_with(current, 0, "12345", 5);
	c = crc_with(current, c, "", 0);
	CHECK(crc_with(current, c, "6789", 4) == 0xcbf43926u);
	CHECK(crc_with(current, 0xdeadbeefu, "", 0) == 0xdeadbeefu);
	CHECK(crc_with(current, 0xdeadbeefu, NULL, 12) == 0);

	/* Appending the CRC (little-endian, as frames do) gives zlib's constant residue. */
	uint8_t msg[9 + 4];
	memcpy(msg, "123456789", 9);
	memcpy(msg + 9, (const uint8_t[]){ 0x26, 0x39, 0xf4, 0xcb }, 4);
	CHECK(crc_with(current, 0, msg, sizeof(msg)) == 0x2144df1cu);
}

static void test_mebibyte_patterns(void)
{
	static uint8_t mib[1u << 20];
	memset(mib, 0, sizeof(mib));
	CHECK(crc_with(current, 0, mib, sizeof(mib)) == 0xa738ea1cu);
	memset(mib, 0xff, sizeof(mib));
	CHECK(crc_with(current, 0, mib, sizeof(mib)) == 0x956bac74u);
	/* 1024 pieces of 1 KiB give the same */
	uint32_t c = 0;
	for (size_t at = 0; at < sizeof(mib); at += 1024)
		c = crc_with(current, c, mib + at, 1024);
	CHECK(c == 0x956bac74u);
}

/* Every length 0..SWEEP_MAX at every misalignment 0..15 from a random starting CRC, each in
 * a heap block of exactly that size so that ASan sees a read past the end. */
static void test_every_length_and_alignment(void)
{
	static uint8_t src[SWEEP_MAX];
	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)rng_next();
	for (size_t len = 0; len <= SWEEP_MAX; len++) {
		for (size_t off = 0; off < 16; off++) {
			void *mem = NULL;
			CHECK(posix_memalign(&mem, 16, (off + len) ? off + len : 1) == 0);
			uint8_t *block = mem;
			uint8_t *data = block + off;
			if (len)
				memcpy(data, src, len);
			uint32_t start = rng_next();
			uint32_t got = crc_with(current, start, data, len);
			uint32_t want = reference_crc(start, data, len);
			free(block);
			if (got != want) {
				fprintf(stderr, "  %zu bytes at misalignment %zu from %08x: %08x, "
						"zlib says %08x\n", len, off, start, got, want);
				CHECK(0);
			}
		}
	}
}

/* Random lengths up to BIG_MAX at random misalignments, fed in random pieces (empty ones too,
 * from one byte to the whole), from a random starting CRC, against one zlib call. */
static void test_random_pieces_against_zlib(void)
{
	static uint8_t buf[BIG_MAX + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng_next();
	for (int round = 0; round < BIG_ROUNDS; round++) {
		size_t len = round < 2 ? BIG_MAX : rng_next() % (BIG_MAX + 1);
		size_t off = (size_t)round % 16;
		const uint8_t *data = buf + off;
		uint32_t start = round == 0 ? 0 : rng_next();
		uint32_t want = reference_crc(start, data, len);
		/* pieces up to 1, 16, 256, ... bytes: short ones and long ones */
		size_t max_piece = (size_t)1 << (4 * (rng_next() % 6));
		uint32_t got = crc_with(current, start, data, len), pieces = start;
		size_t done = 0;
		while (done < len) {
			size_t n = rng_next() % (max_piece + 1);
			n = n < len - done ? n : len - done;
			pieces = crc_with(current, pieces, data + done, n);
			done += n;
		}
		if (got != want || pieces != want) {
			fprintf(stderr, "  %zu bytes at misalignment %zu from %08x: %08x whole, %08x in "
					"pieces <= %zu, zlib says %08x\n", len, off, start, got, pieces,
				max_piece, want);
			CHECK(0);
		}
	}
}

static void run_for_backend(const char *case_name, void (*fn)(void), enum crc32_backend_id id)
{
	if (!crc32_backend_available(id)) {
		printf("skip %s_%s (backend not in this build or not on this CPU)\n", case_name,
		       crc32_backend_name(id));
		return;
	}
	current = id;
	check_case_failed = 0;
	fn();
	printf("%s %s_%s\n", check_case_failed ? "not ok" : "ok", case_name,
	       crc32_backend_name(id));
	fflush(stdout);
	check_failures += check_case_failed;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--expect-backend") == 0) {
		expect_backend_arg = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--expect-backend NAME]\n", argv[0]);
		return 2;
	}
	/* These fork before this process makes its own choice; keep them first. */
	RUN(test_env_portable_forces_fallback);
	RUN(test_env_other_value_is_ignored);
	RUN(test_first_use_from_many_threads);

	RUN(test_default_backend_is_the_fastest_available);
	RUN(test_unavailable_backend_is_refused);
	RUN(test_default_matches_zlib);
	for (int id = 0; id < CRC32_BACKEND_COUNT; id++) {
		enum crc32_backend_id b = (enum crc32_backend_id)id;
		run_for_backend("test_known_answers", test_known_answers, b);
		run_for_backend("test_mebibyte_patterns", test_mebibyte_patterns, b);
		run_for_backend("test_every_length_and_alignment", test_every_length_and_alignment, b);
		run_for_backend("test_random_pieces_against_zlib", test_random_pieces_against_zlib, b);
	}
	return CHECK_EXIT();
}
