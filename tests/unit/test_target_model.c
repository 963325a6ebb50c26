/* SPDX-License-Identifier: MIT */
/*
 * Timing models of file targets (target_model.h): the spec's model parameters refused as
 * hostile text, each with its message; a modelled part takes its modelled time (lower bounds
 * exact, upper bounds loose: these check correctness on a shared machine, not speed); one
 * device is one queue across threads; thousands of short operations do not add up one
 * wake-up latency each; the device's own counts.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/error.h"
#include "../../common/timing.h"
#include "target/target.h"
#include "target/target_model.h"
#include "check.h"

#define ERASE 65536

static char dir[] = "/tmp/selfflash-model-XXXXXX";
static char p_nor[256], p_disk[256];
static uint8_t buf[1 << 20];

static int make_file(const char *path, size_t size, int fill)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	memset(buf, fill, sizeof(buf));
	for (size_t done = 0; done < size; done += sizeof(buf))
		if (fwrite(buf, 1, size - done < sizeof(buf) ? size - done : sizeof(buf), f) == 0)
			break;
	return fclose(f);
}

/* target_open_spec(spec) fails with exactly `want`. */
static int refused(const char *spec, const char *want)
{
	struct target t;
	if (target_open_spec(&t, spec, 0) == 0) {
		target_close(&t);
		fprintf(stderr, "  '%s' was accepted\n", spec);
		return 0;
	}
	if (strcmp(err_msg(), want) != 0) {
		fprintf(stderr, "  '%s':\n    got  %s\n    want %s\n", spec, err_msg(), want);
		return 0;
	}
	return 1;
}

static void test_model_parameters_refused_with_their_reason(void)
{
	CHECK(refused("block:/nonexistent;",
		      "target 'block:/nonexistent;': empty model parameter (expected KEY=VALUE "
		      "after ';')"));
	CHECK(refused("block:/nonexistent;write-mbps=5;;read-mbps=1",
		      "target 'block:/nonexistent;write-mbps=5;;read-mbps=1': empty model "
		      "parameter (expected KEY=VALUE after ';')"));
	CHECK(refused("block:/x;speed=3",
		      "target 'block:/x;speed=3': unknown model parameter 'speed' (block: takes "
		      "read-mbps, write-mbps)"));
	CHECK(refused("nor-file:/x:65536;write-mbps=3",
		      "target 'nor-file:/x:65536;write-mbps=3': nor-file: takes no model parameter "
		      "'write-mbps' (it takes erase-ms, page-us, page, read-mbps)"));
	CHECK(refused("block:/x;erase-ms=3",
		      "target 'block:/x;erase-ms=3': block: takes no model parameter 'erase-ms' (it "
		      "takes read-mbps, write-mbps)"));
	CHECK(refused("mtd:/dev/mtd0;read-mbps=5",
		      "target 'mtd:/dev/mtd0;read-mbps=5': mtd: takes no model parameters "
		      "('read-mbps'): a real device sets its own pace"));
	CHECK(refused("block:/x;write-mbps",
		      "target 'block:/x;write-mbps': model parameter 'write-mbps' has no value "
		      "(expected write-mbps=NUMBER)"));
	CHECK(refused("block:/x;write-mbps=",
		      "target 'block:/x;write-mbps=': model parameter 'write-mbps' has no value "
		      "(expected write-mbps=NUMBER)"));
	CHECK(refused("block:/x;write-mbps=5;write-mbps=6",
		      "target 'block:/x;write-mbps=5;write-mbps=6': model parameter 'write-mbps' "
		      "given twice"));
	CHECK(refused("block:/x;write-mbps=1234567890123456789012345",
		      "target 'block:/x;write-mbps=1234567890123456789012345': write-mbps value is "
		      "longer than 24 characters"));
	CHECK(refused("block:/x;write-mbps=1234567890123456789012345678901234567890123456789"
		      "01234567890",
		      "target 'block:/x;write-mbps=123456789012345678901234567890123456789012345678"
		      "901234567890': model parameter 'write-mbps=1234567890123...' is too long"));
	/* numbers: plain decimals inside the key's bounds, nothing strtod alone would take */
	static const char *const bad_rates[] = { "0", "0.0", "-1", "+5", "1e3", "inf", "nan",
						 "0x10", "1.", ".5", "5 ", " 5", "1..2",
						 "1000001", "0.001", "5,0" };
	for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
		char spec[64], want[160];
		snprintf(spec, sizeof(spec), "block:/x;read-mbps=%s", bad_rates[i]);
		snprintf(want, sizeof(want), "target '%s': read-mbps '%s' is not a decimal from "
			 "0.01 to 1e+06", spec, bad_rates[i]);
		CHECK(refused(spec, want));
	}
	CHECK(refused("nor-file:/x:65536;erase-ms=60001",
		      "target 'nor-file:/x:65536;erase-ms=60001': erase-ms '60001' is not a "
		      "decimal from 0.001 to 60000"));
	CHECK(refused("nor-file:/x:65536;page-us=0",
		      "target 'nor-file:/x:65536;page-us=0': page-us '0' is not a decimal from "
		      "0.001 to 1e+06"));
	static const char *const bad_pages[] = { "300", "0", "1.5", "33554432", "-256" };
	for (size_t i = 0; i < sizeof(bad_pages) / sizeof(bad_pages[0]); i++) {
		char spec[64], want[160];
		snprintf(spec, sizeof(spec), "nor-file:/x:65536;page=%s", bad_pages[i]);
		snprintf(want, sizeof(want), "target '%s': page '%s' is not a power of two from 1 "
			 "to 16777216", spec, bad_pages[i]);
		CHECK(refused(spec, want));
	}
	/* the model is refused before the file is touched; a page past the block after */
	char spec[300], want[700];
	snprintf(spec, sizeof(spec), "nor-file:%s:65536;page=131072", p_nor);
	snprintf(want, sizeof(want), "target '%s': %s: program page 131072 is larger than the "
		 "erase block 65536", spec, p_nor);
	CHECK(refused(spec, want));
}

static void test_model_parameters_accepted(void)
{
	struct target_model_params p;
	CHECK(target_model_parse("s", "nor-file:", "erase-ms=150;page-us=0.7;page=512;read-mbps=50",
				 TARGET_MODEL_NOR_KEYS, &p) == 0);
	CHECK(p.erase_ms == 150 && p.page_us == 0.7 && p.page == 512 && p.read_mbps == 50 &&
	      p.write_mbps == 0);
	CHECK(target_model_parse("s", "nor-file:", "erase-ms=150", TARGET_MODEL_NOR_KEYS, &p) == 0);
	CHECK(p.page == TARGET_MODEL_DEFAULT_PAGE && p.page_us == 0);
	/* a spec without a model opens as before, unmodelled */
	char spec[300];
	struct target t;
	struct target_model_stats st;
	snprintf(spec, sizeof(spec), "block:%s", p_disk);
	CHECK(target_open_spec(&t, spec, 0) == 0);
	int modelled = target_model_read_stats(&t, &st);
	target_close(&t);
	CHECK(modelled == 0);
}

/* NOR programs whole pages: every page a write touches takes a page time. */
static void test_nor_write_costs_the_pages_it_touches(void)
{
	struct target_model_params p = { .page_us = 1000, .page = 256 };
	CHECK(target_model_write_ns(&p, 0, 0) == 0);
	CHECK(target_model_write_ns(&p, 255, 1) == 1000000);
	CHECK(target_model_write_ns(&p, 255, 2) == 2000000);
	CHECK(target_model_write_ns(&p, 256, 256) == 1000000);
	CHECK(target_model_write_ns(&p, 0, ERASE) == 256 * 1000000ull);
	CHECK(target_model_write_ns(&p, 100, ERASE) == 257 * 1000000ull);
	struct target_model_params disk = { .write_mbps = 100, .read_mbps = 1000 };
	CHECK(target_model_write_ns(&disk, 7, 1000000) == 10000000);
	CHECK(target_model_read_ns(&disk, 1000000) == 1000000);
	/* the slowest figures on the largest lengths stay finite */
	struct target_model_params slow = { .read_mbps = 0.01 };
	CHECK(target_model_read_ns(&slow, UINT64_MAX) == 1000000000000000000ull);
}

static void test_nor_erases_take_their_time(void)
{
	char spec[300];
	snprintf(spec, sizeof(spec), "nor-file:%s:%d;erase-ms=50", p_nor, ERASE);
	struct target t;
	CHECK(target_open_spec(&t, spec, 0) == 0);
	double start = timing_now_s();
	int rc = 0;
	for (int b = 0; b < 4; b++)
		rc |= t.ops->erase(&t, (uint64_t)b * ERASE, ERASE);
	double took = timing_now_s() - start;
	struct target_model_stats st;
	int modelled = target_model_read_stats(&t, &st);
	target_close(&t);
	printf("# 4 erases at 50 ms: %.3f s\n", took);
	CHECK(rc == 0 && modelled);
	CHECK(st.blocks_erased == 4 && st.busy_ns == 200000000ull);
	CHECK(took >= 0.2 && took < 0.3);
}

static void test_disk_writes_at_its_rate(void)
{
	char spec[300];
	snprintf(spec, sizeof(spec), "block:%s;write-mbps=100", p_disk);
	struct target t;
	CHECK(target_open_spec(&t, spec, 0) == 0);
	double start = timing_now_s();
	int rc = 0;
	for (uint64_t done = 0; done < 20000000; done += 1000000)
		rc |= t.ops->write(&t, done, buf, 1000000);
	double took = timing_now_s() - start;
	struct target_model_stats st;
	target_model_read_stats(&t, &st);
	target_close(&t);
	printf("# 20 MB at 100 MB/s: %.3f s\n", took);
	CHECK(rc == 0 && st.bytes_written == 20000000 && st.bytes_read == 0);
	CHECK(st.busy_ns == 200000000ull);
	CHECK(took >= 0.2 && took < 0.4);
}

struct writer_arg {
	struct target *t;
	uint64_t off;
	int rc;
};

static void *write_5mb(void *p)
{
	struct writer_arg *a = p;
	for (uint64_t done = 0; done < 5000000; done += 500000)
		a->rc |= a->t->ops->write(a->t, a->off + done, buf, 500000);
	return NULL;
}

/* The writer and the read-back threads share one device: two threads writing 5 MB each at
 * 100 MB/s take 0.1 s together, not 0.05 s each side by side. */
static void test_threads_share_one_device(void)
{
	char spec[300];
	snprintf(spec, sizeof(spec), "block:%s;write-mbps=100", p_disk);
	struct target t;
	CHECK(target_open_spec(&t, spec, 0) == 0);
	struct writer_arg a[2] = { { &t, 0, 0 }, { &t, 5000000, 0 } };
	pthread_t th[2];
	double start = timing_now_s();
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, write_5mb, &a[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	double took = timing_now_s() - start;
	target_close(&t);
	printf("# 2 threads x 5 MB at 100 MB/s: %.3f s\n", took);
	CHECK(a[0].rc == 0 && a[1].rc == 0);
	CHECK(took >= 0.1 && took < 0.25);
}

/* 2000 reads of 50 µs each take 0.1 s, not 0.1 s plus 2000 wake-up latencies. */
static void test_short_operations_do_not_add_up_oversleep(void)
{
	char spec[300];
	snprintf(spec, sizeof(spec), "block:%s;read-mbps=81.92", p_disk);
	struct target t;
	CHECK(target_open_spec(&t, spec, 0) == 0);
	double start = timing_now_s();
	int rc = 0;
	for (int i = 0; i < 2000; i++)
		rc |= t.ops->read(&t, (uint64_t)(i % 256) * 4096, buf, 4096);
	double took = timing_now_s() - start;
	struct target_model_stats st;
	target_model_read_stats(&t, &st);
	target_close(&t);
	printf("# 2000 reads of 4 KiB at 81.92 MB/s (0.100 s modelled): %.3f s\n", took);
	CHECK(rc == 0 && st.bytes_read == 2000 * 4096ull && st.busy_ns == 100000000ull);
	CHECK(took >= 0.1 && took < 0.15);
}

/* Zeroing done by the file system counts as writing at the write rate (conservative). */
static void test_zeroing_counts_as_writing(void)
{
	char spec[300];
	snprintf(spec, sizeof(spec), "block:%s;write-mbps=100", p_disk);
	struct target t;
	CHECK(target_open_spec(&t, spec, 0) == 0);
	int rc = t.ops->zero ? t.ops->zero(&t, 0, 1 << 20) : 1;
	struct target_model_stats st;
	target_model_read_stats(&t, &st);
	target_close(&t);
	CHECK(rc == 0 || rc == 1);
	if (rc == 0)
		CHECK(st.bytes_written == 1 << 20 && st.busy_ns == 10485760ull);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(p_nor, sizeof(p_nor), "%s/qspi.img", dir);
	snprintf(p_disk, sizeof(p_disk), "%s/disk.img", dir);
	if (make_file(p_nor, 4 * ERASE, 0xff) != 0 || make_file(p_disk, 24 << 20, 0) != 0)
		return 1;
	RUN(test_model_parameters_refused_with_their_reason);
	RUN(test_model_parameters_accepted);
	RUN(test_nor_write_costs_the_pages_it_touches);
	RUN(test_nor_erases_take_their_time);
	RUN(test_disk_writes_at_its_rate);
	RUN(test_threads_share_one_device);
	RUN(test_short_operations_do_not_add_up_oversleep);
	RUN(test_zeroing_counts_as_writing);
	unlink(p_nor);
	unlink(p_disk);
	rmdir(dir);
	return CHECK_EXIT();
}
