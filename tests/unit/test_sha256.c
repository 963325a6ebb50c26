/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 behind common/sha256.h: every backend this CPU has against the FIPS 180-2 / NIST
 * known answers and against BearSSL for random lengths, alignments and update pieces; the
 * default backend is the fastest one the CPU has (so a broken detection cannot hide behind
 * the portable code), SELFFLASH_SHA256=portable forces the fallback, and first use from many
 * threads at once agrees on one backend.
 * Usage: test_sha256 [--expect-backend NAME]   (NAME: what sha256_backend() must say)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bearssl_hash.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

#include "../../common/error.h"
#include "../../common/sha256.h"
#include "check.h"

/* Longest message of the cross-check and the room around it for misaligned starts. */
#define CROSS_MAX 10000
#define CROSS_ROUNDS 1500
#define CHILD_THREADS 8

static const char *expect_backend_arg;
static enum sha256_backend_id current; /* backend under test in the per-backend cases */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

/* xorshift64*: fixed seed, so a failure is reproducible. */
static uint32_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1du) >> 32);
}

static void digest_hex(const uint8_t d[SHA256_LEN], char hex[2 * SHA256_LEN + 1])
{
	sha256_hex(d, hex);
}

static void reference_digest(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	br_sha256_context br;
	br_sha256_init(&br);
	br_sha256_update(&br, data, len);
	br_sha256_out(&br, out);
}

/* The backend a correct detection must pick here, found without sha256.c's own probe where
 * possible: x86 from /proc/cpuinfo's flags; aarch64 from AT_HWCAP (the script that runs the
 * aarch64 build under qemu-user also names it with --expect-backend). NULL: unknown. */
static const char *expected_default_backend(void)
{
	if (expect_backend_arg)
		return expect_backend_arg;
	const char *force = getenv("SELFFLASH_SHA256");
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
		want = strstr(line, " sha_ni") && strstr(line, " sse4_1") && strstr(line, " ssse3")
			       ? "x86-sha-ni"
			       : "portable";
		break;
	}
	fclose(f);
	return want;
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & (1 << 6)) ? "armv8-sha2" : "portable"; /* HWCAP_SHA2 */
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
	uint8_t d[SHA256_LEN];
	char hex[65];
	setenv("SELFFLASH_SHA256", "portable", 1);
	if (strcmp(sha256_backend(), "portable") != 0) {
		fprintf(stderr, "  backend is %s, expected portable\n", sha256_backend());
		return 1;
	}
	sha256_buffer("abc", 3, d);
	digest_hex(d, hex);
	return strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0;
}

static void test_env_portable_forces_fallback(void)
{
	CHECK(run_in_child(child_forced_portable) == 0);
}

/* Any other value leaves the choice to the CPU: the highest available backend, as
 * test_default_backend_is_the_fastest_available checks against the CPU's own report. */
static int child_unknown_value_ignored(void)
{
	const char *want = "portable";
	for (int id = 0; id < SHA256_BACKEND_COUNT; id++)
		if (sha256_backend_available((enum sha256_backend_id)id))
			want = sha256_backend_name((enum sha256_backend_id)id);
	setenv("SELFFLASH_SHA256", "fastest-please", 1);
	if (strcmp(sha256_backend(), want) != 0) {
		fprintf(stderr, "  backend is %s, expected %s\n", sha256_backend(), want);
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
	uint8_t digest[SHA256_LEN];
};

static pthread_barrier_t child_barrier;
static uint8_t child_data[100000];

static void *child_thread(void *arg)
{
	struct thread_result *r = arg;
	pthread_barrier_wait(&child_barrier);
	sha256_buffer(child_data, sizeof(child_data), r->digest);
	r->backend = sha256_backend();
	return NULL;
}

static int child_many_threads_first_use(void)
{
	pthread_t t[CHILD_THREADS];
	struct thread_result r[CHILD_THREADS];
	uint8_t want[SHA256_LEN];
	for (size_t i = 0; i < sizeof(child_data); i++)
		child_data[i] = (uint8_t)(i * 7 + (i >> 8));
	reference_digest(child_data, sizeof(child_data), want);
	if (pthread_barrier_init(&child_barrier, NULL, CHILD_THREADS) != 0)
		return 2;
	for (int i = 0; i < CHILD_THREADS; i++)
		if (pthread_create(&t[i], NULL, child_thread, &r[i]) != 0)
			return 2;
	for (int i = 0; i < CHILD_THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < CHILD_THREADS; i++) {
		if (r[i].backend != r[0].backend || memcmp(r[i].digest, want, SHA256_LEN) != 0) {
			fprintf(stderr, "  thread %d: backend %s, digest %s\n", i, r[i].backend,
				memcmp(r[i].digest, want, SHA256_LEN) ? "wrong" : "right");
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
	printf("# sha256 backend: %s\n", sha256_backend());
	CHECK(want != NULL);
	CHECK_STR_EQ(sha256_backend(), want);
	CHECK(sha256_backend_available(SHA256_BACKEND_PORTABLE));
#if defined(__x86_64__)
	CHECK(!sha256_backend_available(SHA256_BACKEND_ARMV8));
#elif defined(__aarch64__)
	CHECK(!sha256_backend_available(SHA256_BACKEND_X86_SHANI));
#endif
	if (strcmp(want, "portable") != 0) {
		/* The named backend exists and is what the CPU has. */
		int found = 0;
		for (int id = 0; id < SHA256_BACKEND_COUNT; id++)
			if (strcmp(sha256_backend_name((enum sha256_backend_id)id), want) == 0)
				found = sha256_backend_available((enum sha256_backend_id)id);
		CHECK(found);
	}
}

static void test_unavailable_backend_is_refused(void)
{
	struct sha256 ctx, before;
	memset(&ctx, 0x5a, sizeof(ctx));
	before = ctx;
	err_clear();
	CHECK(sha256_init_backend(&ctx, SHA256_BACKEND_COUNT) == -1);
	CHECK(strstr(err_msg(), "SHA-256 backend ?") != NULL);
	CHECK(memcmp(&ctx, &before, sizeof(ctx)) == 0);
	CHECK_STR_EQ(sha256_backend_name((enum sha256_backend_id)-1), "?");
	for (int id = 0; id < SHA256_BACKEND_COUNT; id++) {
		enum sha256_backend_id b = (enum sha256_backend_id)id;
		if (sha256_backend_available(b)) {
			CHECK(sha256_init_backend(&ctx, b) == 0);
			continue;
		}
		err_clear();
		CHECK(sha256_init_backend(&ctx, b) == -1);
		CHECK(strstr(err_msg(), sha256_backend_name(b)) != NULL);
	}
}

/* ---- per backend ------------------------------------------------------------------------ */

static void hash_with(enum sha256_backend_id id, const void *data, size_t len,
		      uint8_t out[SHA256_LEN])
{
	struct sha256 ctx;
	memset(out, 0, SHA256_LEN);
	if (sha256_init_backend(&ctx, id) != 0)
		return;
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, out);
}

/* FIPS 180-2 appendix B and the NIST example values. */
static void test_known_answers(void)
{
	static const struct {
		const char *msg;
		const char *digest;
	} kat[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
		  "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint8_t d[SHA256_LEN];
		char hex[65];
		hash_with(current, kat[i].msg, strlen(kat[i].msg), d);
		digest_hex(d, hex);
		CHECK_STR_EQ(hex, kat[i].digest);
	}

	/* Empty updates, with a NULL pointer, at the start and in a partial block. */
	struct sha256 ctx;
	uint8_t d[SHA256_LEN];
	char hex[65];
	CHECK(sha256_init_backend(&ctx, current) == 0);
	sha256_update(&ctx, NULL, 0);
	sha256_update(&ctx, "ab", 2);
	sha256_update(&ctx, NULL, 0);
	sha256_update(&ctx, "c", 1);
	sha256_final(&ctx, d);
	digest_hex(d, hex);
	CHECK_STR_EQ(hex, kat[1].digest);
}

static void test_million_a(void)
{
	static const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	static uint8_t a[1000000];
	uint8_t d[SHA256_LEN];
	char hex[65];
	memset(a, 'a', sizeof(a));
	hash_with(current, a, sizeof(a), d);
	digest_hex(d, hex);
	CHECK_STR_EQ(hex, want);

	/* 1000 pieces of 1000: most cross a block boundary */
	struct sha256 ctx;
	CHECK(sha256_init_backend(&ctx, current) == 0);
	for (int i = 0; i < 1000; i++)
		sha256_update(&ctx, a, 1000);
	sha256_final(&ctx, d);
	digest_hex(d, hex);
	CHECK_STR_EQ(hex, want);
}

/* Random lengths 0..CROSS_MAX at random offsets (so the data is misaligned), fed in random
 * pieces (zero-length ones too), digest compared with BearSSL; halfway a final() on the
 * prefix, which must not disturb the rest, and a copy of the context that must go on alike. */
static void test_cross_check_with_bearssl(void)
{
	static uint8_t buf[CROSS_MAX + 16];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rng_next();
	for (int round = 0; round < CROSS_ROUNDS; round++) {
		size_t len = round <= 300 ? (size_t)round : rng_next() % (CROSS_MAX + 1);
		const uint8_t *data = buf + rng_next() % 16;
		size_t cut = len ? rng_next() % (len + 1) : 0;
		uint8_t want[SHA256_LEN], want_prefix[SHA256_LEN], got[SHA256_LEN], got2[SHA256_LEN];
		reference_digest(data, len, want);
		reference_digest(data, cut, want_prefix);

		struct sha256 ctx, copy;
		CHECK(sha256_init_backend(&ctx, current) == 0);
		size_t done = 0, max_piece = 1 + rng_next() % 300;
		while (done < cut) {
			size_t n = rng_next() % (max_piece + 1);
			n = n < cut - done ? n : cut - done;
			sha256_update(&ctx, data + done, n);
			done += n;
		}
		sha256_final(&ctx, got);
		if (memcmp(got, want_prefix, SHA256_LEN) != 0) {
			fprintf(stderr, "  prefix of %zu bytes (of %zu at offset %zu) differs\n", cut,
				len, (size_t)(data - buf));
			CHECK(0);
		}
		copy = ctx;
		while (done < len) {
			size_t n = rng_next() % (max_piece + 1);
			n = n < len - done ? n : len - done;
			sha256_update(&ctx, data + done, n);
			done += n;
		}
		sha256_update(&copy, data + cut, len - cut);
		sha256_final(&ctx, got);
		sha256_final(&copy, got2);
		if (memcmp(got, want, SHA256_LEN) != 0 || memcmp(got2, want, SHA256_LEN) != 0) {
			fprintf(stderr, "  %zu bytes at offset %zu (cut at %zu, pieces <= %zu) differ\n",
				len, (size_t)(data - buf), cut, max_piece);
			CHECK(0);
		}
	}
}

static void run_for_backend(const char *case_name, void (*fn)(void), enum sha256_backend_id id)
{
	if (!sha256_backend_available(id)) {
		printf("skip %s_%s (backend not in this build or not on this CPU)\n", case_name,
		       sha256_backend_name(id));
		return;
	}
	current = id;
	check_case_failed = 0;
	fn();
	printf("%s %s_%s\n", check_case_failed ? "not ok" : "ok", case_name,
	       sha256_backend_name(id));
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
	for (int id = 0; id < SHA256_BACKEND_COUNT; id++) {
		enum sha256_backend_id b = (enum sha256_backend_id)id;
		run_for_backend("test_known_answers", test_known_answers, b);
		run_for_backend("test_million_a", test_million_a, b);
		run_for_backend("test_cross_check_with_bearssl", test_cross_check_with_bearssl, b);
	}
	return CHECK_EXIT();
}
