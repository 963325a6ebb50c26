/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the RCM blob (host-loader/boot/rcm_blob.c) and Android boot images
 * (common/bootimg.c): a boot image known answer, a blob that round-trips byte for byte, a
 * swapped kernel with every other entry unchanged and the digest rule holding, and hostile
 * blobs refused with a message. Blobs are built here independently, field by field.
 */
#include <bearssl_hash.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcm_blob.h"
#include "bootimg.h"
#include "check.h"
#include "error.h"
#include "le.h"

static int mentions(const char *text, const char *part)
{
	if (strstr(text, part))
		return 1;
	fprintf(stderr, "  \"%s\" does not mention \"%s\"\n", text, part);
	return 0;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

/* A boot image of a 100-byte kernel and a 50-byte ramdisk, written here field by field. */
static size_t small_bootimg(uint8_t *out)
{
	memset(out, 0, 3 * 2048);
	memcpy(out, "ANDROID!", 8);
	le32_store(out + 8, 100);
	le32_store(out + 16, 50);
	le32_store(out + 36, 2048);
	memset(out + 2048, 'K', 100);
	memset(out + 4096, 'R', 50);
	return 3 * 2048;
}

/* The test blob: entries 43 (UEFI), 45 (kernel), 46 (kernel DTB) back to back from 0x450,
 * with the digest NVIDIA's rule gives; returns its size. */
#define BLOB_MAX 200000
static uint8_t blob[BLOB_MAX];
static size_t make_blob(void)
{
	static uint8_t img[3 * 2048];
	size_t img_len = small_bootimg(img);
	const uint32_t types[3] = { 43, 45, 46 };
	const uint32_t sizes[3] = { 70000, (uint32_t)img_len, 3000 };
	memset(blob, 0, 0x450);
	memcpy(blob, "blob", 4);
	memcpy(blob + 0x48, "salt", 4);
	le32_store(blob + 0x4c, 3);
	uint32_t off = 0x450;
	for (int i = 0; i < 3; i++) {
		le32_store(blob + 0x50 + 16 * i, types[i]);
		le32_store(blob + 0x54 + 16 * i, off);
		le32_store(blob + 0x58 + 16 * i, 0);
		le32_store(blob + 0x5c + 16 * i, sizes[i]);
		if (types[i] == 45)
			memcpy(blob + off, img, img_len);
		else
			fill(blob + off, sizes[i], types[i]);
		off += sizes[i];
	}
	br_sha512_context sha;
	br_sha512_init(&sha);
	br_sha512_update(&sha, blob + 0x48, 0x450 - 0x48);
	br_sha512_out(&sha, blob + 8);
	return off;
}

static void test_bootimg_known_answer(void)
{
	static uint8_t want[3 * 2048], got[3 * 2048];
	uint8_t kernel[100], ramdisk[50];
	uint64_t size = 0;
	small_bootimg(want);
	memcpy(want + 64, "console=ttyTCU0", 15);
	memset(kernel, 'K', sizeof(kernel));
	memset(ramdisk, 'R', sizeof(ramdisk));
	CHECK(bootimg_size(100, 50, 2048, &size) == 0 && size == sizeof(got));
	CHECK(bootimg_build(got, sizeof(got), kernel, 100, ramdisk, 50, "console=ttyTCU0", 2048) ==
	      0);
	/* mkbootimg's default addresses and the SHA-1 id differ from the minimal header */
	CHECK(le32_load(got + 12) == 0x10008000 && le32_load(got + 20) == 0x11000000 &&
	      le32_load(got + 28) == 0x10f00000 && le32_load(got + 32) == 0x10000100);
	memcpy(want + 12, got + 12, 4);
	memcpy(want + 20, got + 20, 4);
	memcpy(want + 28, got + 28, 8);
	memcpy(want + 576, got + 576, 32);
	CHECK(memcmp(got, want, sizeof(got)) == 0);
	br_sha1_context sha;
	uint8_t id[20], len[4];
	br_sha1_init(&sha);
	br_sha1_update(&sha, kernel, 100);
	le32_store(len, 100);
	br_sha1_update(&sha, len, 4);
	br_sha1_update(&sha, ramdisk, 50);
	le32_store(len, 50);
	br_sha1_update(&sha, len, 4);
	le32_store(len, 0);
	br_sha1_update(&sha, len, 4);
	br_sha1_out(&sha, id);
	CHECK(memcmp(got + 576, id, 20) == 0);
	struct bootimg_info info;
	CHECK(bootimg_parse(&info, got, sizeof(got)) == 0);
	CHECK(info.kernel_size == 100 && info.ramdisk_size == 50 && info.page_size == 2048);
	CHECK(info.kernel_offset == 2048 && info.ramdisk_offset == 4096 && info.total == 6144);
	CHECK_STR_EQ(info.cmdline, "console=ttyTCU0");
}

static void test_bootimg_refuses_bad_input(void)
{
	static uint8_t img[3 * 2048];
	static char long_cmdline[600];
	uint64_t size;
	struct bootimg_info info;
	CHECK(bootimg_size(100, 50, 3000, &size) == -1);
	CHECK(mentions(err_msg(), "page size 3000"));
	CHECK(bootimg_size(0, 50, 2048, &size) == -1);
	CHECK(mentions(err_msg(), "kernel is empty"));
	memset(long_cmdline, 'x', sizeof(long_cmdline) - 1);
	CHECK(bootimg_build(img, sizeof(img), (const uint8_t *)"k", 1, NULL, 0, long_cmdline,
			    2048) == -1);
	CHECK(mentions(err_msg(), "599 characters, expected at most 511"));
	small_bootimg(img);
	CHECK(bootimg_parse(&info, img, 4096 + 49) == -1);
	CHECK(mentions(err_msg(), "the image has 4145"));
	img[0] = 'a';
	CHECK(bootimg_parse(&info, img, sizeof(img)) == -1);
	CHECK(mentions(err_msg(), "no \"ANDROID!\" magic"));
	small_bootimg(img);
	le32_store(img + 40, 2);
	CHECK(bootimg_parse(&info, img, sizeof(img)) == -1);
	CHECK(mentions(err_msg(), "header version 2, expected 0"));
}

static void test_blob_round_trips(void)
{
	static uint8_t out[BLOB_MAX];
	size_t len = make_blob();
	struct rcm_blob b;
	uint64_t out_len = 0;
	CHECK(rcm_blob_parse(&b, blob, len) == 0);
	CHECK(b.count == 3 && b.digest_ok == 1);
	CHECK(b.entry[1].type == 45 && b.entry[1].offset == 0x450 + 70000);
	CHECK(rcm_blob_check_kernel(&b) == 0);
	int k = rcm_blob_find(&b, RCM_BLOB_TYPE_KERNEL);
	CHECK(k == 1);
	CHECK(rcm_blob_replace(&b, 45, blob + b.entry[k].offset, b.entry[k].size, out,
			       sizeof(out), &out_len) == 0);
	CHECK(out_len == len);
	CHECK(memcmp(out, blob, len) == 0);
	/* the digest rule, by hand: SHA-512 of 0x48..0x450 */
	uint8_t digest[64];
	br_sha512_context sha;
	br_sha512_init(&sha);
	br_sha512_update(&sha, out + 0x48, 0x408);
	br_sha512_out(&sha, digest);
	CHECK(memcmp(out + 8, digest, 64) == 0);
}

static void test_swapped_blob_keeps_every_other_entry(void)
{
	static uint8_t out[BLOB_MAX], img[BLOB_MAX];
	static uint8_t kernel[30000], ramdisk[9000];
	size_t len = make_blob();
	struct rcm_blob old, neu;
	uint64_t img_len = 0, out_len = 0, want_len = 0;
	fill(kernel, sizeof(kernel), 1);
	fill(ramdisk, sizeof(ramdisk), 2);
	CHECK(bootimg_size(sizeof(kernel), sizeof(ramdisk), 2048, &img_len) == 0);
	CHECK(img_len == 2048 + 30720 + 10240);
	CHECK(bootimg_build(img, sizeof(img), kernel, sizeof(kernel), ramdisk, sizeof(ramdisk),
			    "root=/dev/ram0", 2048) == 0);
	CHECK(rcm_blob_parse(&old, blob, len) == 0);
	CHECK(rcm_blob_swapped_size(&old, 45, img_len, &want_len) == 0);
	CHECK(rcm_blob_replace(&old, 45, img, img_len, out, sizeof(out), &out_len) == 0);
	CHECK(out_len == want_len && out_len == len - 6144 + img_len);
	CHECK(rcm_blob_parse(&neu, out, out_len) == 0);
	CHECK(neu.digest_ok == 1 && neu.count == 3);
	CHECK(rcm_blob_check_kernel(&neu) == 0);
	CHECK(memcmp(out, "blob", 4) == 0 && memcmp(out + 0x48, "salt", 4) == 0);
	/* the §6 layout: payloads back to back from 0x450 */
	CHECK(neu.entry[0].offset == 0x450);
	CHECK(neu.entry[1].offset == 0x450 + 70000 && neu.entry[1].size == img_len);
	CHECK(neu.entry[2].offset == neu.entry[1].offset + img_len);
	CHECK(memcmp(out + neu.entry[1].offset, img, (size_t)img_len) == 0);
	for (int i = 0; i < 3; i++) {
		if (i == 1)
			continue;
		CHECK(neu.entry[i].type == old.entry[i].type);
		CHECK(neu.entry[i].load_addr == old.entry[i].load_addr);
		CHECK(neu.entry[i].size == old.entry[i].size);
		CHECK(memcmp(out + neu.entry[i].offset, blob + old.entry[i].offset,
			     old.entry[i].size) == 0);
	}
	/* entry 0 is before the kernel: its table bytes are unchanged too */
	CHECK(memcmp(out + 0x50, blob + 0x50, 16) == 0);
	/* the unused table slots stay as they were */
	CHECK(memcmp(out + 0x80, blob + 0x80, 0x450 - 0x80) == 0);
}

/* Parses blob[0..len) after `edit`, expecting a refusal that mentions `part`. */
static void refused(size_t len, const char *part)
{
	struct rcm_blob b;
	err_clear();
	int rc = rcm_blob_parse(&b, blob, len);
	if (rc == 0)
		rc = rcm_blob_check_kernel(&b);
	CHECK(rc == -1);
	CHECK(mentions(err_msg(), part));
}

static void test_hostile_blobs_are_refused(void)
{
	size_t len = make_blob();
	refused(0x44f, "1103 bytes, shorter than its 0x450-byte header");
	make_blob();
	le32_store(blob + 0x5c + 32, 3001); /* entry 2 one byte too long */
	refused(len, "entry 2 (type 46) ends at");
	make_blob();
	le32_store(blob + 0x54 + 32, 0xffffff00u); /* an offset whose end wraps 32 bits */
	refused(len, "past the blob's end");
	make_blob();
	le32_store(blob + 0x54 + 16, 0x450 + 69999); /* kernel starts inside entry 0 */
	refused(len, "overlap");
	make_blob();
	le32_store(blob + 0x4c, 65);
	refused(len, "65 entries, the header holds at most 64");
	make_blob();
	le32_store(blob + 0x50 + 16, 44); /* no entry 45 any more */
	refused(len, "no entry of type 45");
	make_blob();
	le32_store(blob + 0x50 + 32, 45); /* two of them */
	refused(len, "both have type 45");
	make_blob();
	memcpy(blob + 0x450 + 70000, "NOTANDRD", 8);
	refused(len, "entry 1 (type 45, kernel) is not an Android boot image v0");
	make_blob();
	le32_store(blob + 0x54, 0x100); /* a payload inside the header */
	refused(len, "inside the 0x450-byte header");
	make_blob();
	blob[0] = 'B';
	refused(len, "no \"blob\" magic");
	/* an empty entry inside another payload would be left pointing nowhere by a swap */
	make_blob();
	le32_store(blob + 0x4c, 4);
	le32_store(blob + 0x50 + 48, 50);
	le32_store(blob + 0x54 + 48, 0x450 + 100);
	le32_store(blob + 0x5c + 48, 0);
	refused(len, "overlap");
}

static void test_blob_digest_mismatch_is_reported_not_refused(void)
{
	size_t len = make_blob();
	struct rcm_blob b;
	blob[8] ^= 1;
	CHECK(rcm_blob_parse(&b, blob, len) == 0);
	CHECK(b.digest_ok == 0);
	static char text[2048];
	FILE *out = fmemopen(text, sizeof(text), "w");
	CHECK(out != NULL);
	rcm_blob_print(out, &b);
	fclose(out);
	CHECK(mentions(text, "digest does NOT match"));
	CHECK(mentions(text, "entry  1  type 45  offset      71104  size       6144  kernel: boot "
			     "image v0, kernel 100, ramdisk 50 bytes"));
}

int main(void)
{
	RUN(test_bootimg_known_answer);
	RUN(test_bootimg_refuses_bad_input);
	RUN(test_blob_round_trips);
	RUN(test_swapped_blob_keeps_every_other_entry);
	RUN(test_hostile_blobs_are_refused);
	RUN(test_blob_digest_mismatch_is_reported_not_refused);
	return CHECK_EXIT();
}
