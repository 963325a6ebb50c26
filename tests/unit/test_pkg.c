/* SPDX-License-Identifier: MIT */
/*
 * Known-answer tests for SHA-256 and ECDSA P-256, and the package header, manifest and
 * chunk decoders against valid and hostile input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl_ec.h>
#include <zlib.h>

#include "../../common/chunk.h"
#include "../../common/error.h"
#include "../../common/keys.h"
#include "../../common/le.h"
#include "../../common/pkg.h"
#include "../../mkflashpkg/sign.h"
#include "check.h"

static void unhex(const char *hex, uint8_t *out)
{
	for (size_t i = 0; hex[2 * i]; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static int expect_error(const char *needle)
{
	if (strstr(err_msg(), needle))
		return 1;
	fprintf(stderr, "  error was \"%s\", expected it to mention \"%s\"\n", err_msg(), needle);
	return 0;
}

/* ---- SHA-256 (FIPS 180-2 examples) ----------------------------------------------------- */

static void test_sha256_known_answers(void)
{
	static const struct {
		const char *msg;
		const char *digest;
	} kat[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint8_t d[SHA256_LEN];
		char hex[65];
		sha256_buffer(kat[i].msg, strlen(kat[i].msg), d);
		sha256_hex(d, hex);
		CHECK_STR_EQ(hex, kat[i].digest);
	}
}

static void test_sha256_million_a_incremental(void)
{
	struct sha256 ctx;
	uint8_t block[1000], d[SHA256_LEN];
	char hex[65];
	memset(block, 'a', sizeof(block));
	sha256_init(&ctx);
	/* odd-sized updates cross block boundaries */
	for (int i = 0; i < 1000; i++) {
		sha256_update(&ctx, block, 333);
		sha256_update(&ctx, block, 667);
	}
	sha256_final(&ctx, d);
	sha256_hex(d, hex);
	CHECK_STR_EQ(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* ---- ECDSA P-256 / SHA-256 (RFC 6979 A.2.5) -------------------------------------------- */

static const char *rfc6979_x = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
static const char *rfc6979_ux = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
static const char *rfc6979_uy = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";

static void rfc6979_key(struct pkg_privkey *key)
{
	memset(key, 0, sizeof(*key));
	unhex(rfc6979_x, key->x);
	key->pub.point[0] = 0x04;
	unhex(rfc6979_ux, key->pub.point + 1);
	unhex(rfc6979_uy, key->pub.point + 33);
	pkg_pubkey_set_id(&key->pub);
}

static void test_ecdsa_sign_matches_rfc6979(void)
{
	static const struct {
		const char *msg, *r, *s;
	} kat[] = {
		{ "sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
		  "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8" },
		{ "test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
		  "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083" },
	};
	struct pkg_privkey key;
	rfc6979_key(&key);
	for (size_t i = 0; i < 2; i++) {
		uint8_t digest[SHA256_LEN], sig[PKG_SIG_MAX], want[64];
		uint32_t len;
		sha256_buffer(kat[i].msg, strlen(kat[i].msg), digest);
		CHECK(pkg_sign_digest(&key, digest, sig, &len) == 0);
		CHECK(pkg_verify_digest(&key.pub, digest, sig, len) == 0);
		size_t raw = br_ecdsa_asn1_to_raw(sig, len);
		CHECK(raw == 64);
		unhex(kat[i].r, want);
		unhex(kat[i].s, want + 32);
		CHECK(memcmp(sig, want, 64) == 0);
	}
}

static void test_ecdsa_public_key_derived_from_private(void)
{
	struct pkg_privkey key, want;
	rfc6979_key(&want);
	memset(&key, 0, sizeof(key));
	memcpy(key.x, want.x, 32);
	/* through the PEM writer and reader: keygen's own path */
	char dir[] = "/tmp/selfflash-keys-XXXXXX", base[64], path[80];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(base, sizeof(base), "%s/k", dir);
	CHECK(pkg_keys_write(&want, base) == 0);
	snprintf(path, sizeof(path), "%s.key", base);
	CHECK(pkg_privkey_load(path, &key) == 0);
	CHECK(memcmp(key.pub.point, want.pub.point, P256_POINT_LEN) == 0);
	struct pkg_pubkey pub;
	snprintf(path, sizeof(path), "%s.pub", base);
	CHECK(pkg_pubkey_load(path, &pub) == 0);
	CHECK(memcmp(pub.point, want.pub.point, P256_POINT_LEN) == 0);
	CHECK(memcmp(pub.key_id, want.pub.key_id, PKG_KEY_ID_LEN) == 0);
	/* keygen refuses to overwrite a key */
	CHECK(pkg_keys_write(&want, base) == -1);
	CHECK(expect_error("File exists"));
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	CHECK(system(path) == 0);
}

static void test_ecdsa_rejects_tampered_digest_and_signature(void)
{
	struct pkg_privkey key;
	rfc6979_key(&key);
	uint8_t digest[SHA256_LEN], sig[PKG_SIG_MAX];
	uint32_t len;
	sha256_buffer("sample", 6, digest);
	CHECK(pkg_sign_digest(&key, digest, sig, &len) == 0);
	digest[5] ^= 1;
	CHECK(pkg_verify_digest(&key.pub, digest, sig, len) == -1);
	digest[5] ^= 1;
	sig[len - 1] ^= 0x40;
	CHECK(pkg_verify_digest(&key.pub, digest, sig, len) == -1);
}

static void test_public_key_pem_must_be_p256_point_on_curve(void)
{
	struct pkg_pubkey key;
	/* a valid key (from openssl) */
	const char *good = "-----BEGIN PUBLIC KEY-----\n"
			   "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX1y4xlnY4SigxXV+NAJjAIBKdBZW\n"
			   "H3Hb+ux5z9kiH2ztpjjkfKQrAoCxfloLnNMe5LONxc8DjmcguP6AfcoVzQ==\n"
			   "-----END PUBLIC KEY-----\n";
	CHECK(pkg_pubkey_parse_pem(good, strlen(good), &key) == 0);
	/* the same with Y changed: not on the curve */
	const char *off_curve = "-----BEGIN PUBLIC KEY-----\n"
				"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEX1y4xlnY4SigxXV+NAJjAIBKdBZW\n"
				"H3Hb+ux5z9kiH2ztpjjkfKQrAoCxfloLnNMe5LONxc8DjmcguP6AfcoVzg==\n"
				"-----END PUBLIC KEY-----\n";
	CHECK(pkg_pubkey_parse_pem(off_curve, strlen(off_curve), &key) == -1);
	CHECK(expect_error("not a point on P-256"));
	const char *wrong = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	CHECK(pkg_pubkey_parse_pem(wrong, strlen(wrong), &key) == -1);
	CHECK(expect_error("no PEM object 'PUBLIC KEY'"));
	const char *short_key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQ==\n"
				"-----END PUBLIC KEY-----\n";
	CHECK(pkg_pubkey_parse_pem(short_key, strlen(short_key), &key) == -1);
	CHECK(expect_error("not an uncompressed ECDSA P-256 key"));
}

/* ---- manifest -------------------------------------------------------------------------- */

struct sample {
	struct pkg_variant variants[2];
	struct pkg_target targets[2];
	struct pkg_partition parts[4];
	struct pkg_image images[3];
	struct pkg_chunk chunks[4];
	struct pkg_manifest_src src;
	uint64_t data_size;
};

/* A valid manifest: QSPI with A/B firmware (two variants), a disk with a rootfs. */
static void sample_init(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->variants[0].name, "agx-64");
	strcpy(s->variants[0].board, "3701");
	strcpy(s->variants[0].sku, "0005");
	strcpy(s->variants[1].name, "agx-32");
	strcpy(s->variants[1].sku, "0004");
	s->targets[0] = (struct pkg_target){ .kind = PKG_TARGET_MTD, .sector_size = 512,
					     .size = 64 << 20, .type = "spi" };
	s->targets[1] = (struct pkg_target){ .kind = PKG_TARGET_DISK, .sector_size = 512,
					     .size = 1 << 30, .type = "nvme" };
	s->parts[0] = (struct pkg_partition){ .name = "A_uefi", .target = 0, .slot = PKG_SLOT_A,
					      .offset = 0, .size = 4 << 20 };
	s->parts[1] = (struct pkg_partition){ .name = "B_uefi", .target = 0, .slot = PKG_SLOT_B,
					      .offset = 4 << 20, .size = 4 << 20 };
	s->parts[2] = (struct pkg_partition){ .name = "APP", .target = 1, .offset = 1 << 20,
					      .size = 256 << 20 };
	s->parts[3] = (struct pkg_partition){ .name = "secondary_gpt", .target = 1,
					      .kind = PKG_PART_SECONDARY_GPT, .flags = PKG_PART_AT_END,
					      .offset = (1 << 30) - 16896, .size = 16896 };
	s->images[0] = (struct pkg_image){ .partition = 0, .first_chunk = 0, .chunk_count = 2,
					   .variant_mask = 1, .size = 3 << 20 };
	s->images[1] = (struct pkg_image){ .partition = 0, .first_chunk = 2, .chunk_count = 1,
					   .variant_mask = 2, .size = 1 << 20 };
	s->images[2] = (struct pkg_image){ .partition = 2, .first_chunk = 3, .chunk_count = 1,
					   .variant_mask = 3, .size = 200 << 20 };
	s->chunks[0] = (struct pkg_chunk){ .offset = 0, .stored_offset = 0, .raw_size = 1 << 20,
					   .stored_size = 1 << 20 };
	s->chunks[1] = (struct pkg_chunk){ .offset = 2 << 20, .stored_offset = 1 << 20,
					   .raw_size = 1 << 20, .stored_size = 1000,
					   .compression = PKG_COMP_ZLIB };
	s->chunks[2] = (struct pkg_chunk){ .offset = 0, .stored_offset = (1 << 20) + 1000,
					   .raw_size = 4096, .stored_size = 4096 };
	s->chunks[3] = (struct pkg_chunk){ .offset = 100 << 20, .stored_offset = (1 << 20) + 5096,
					   .raw_size = 1 << 20, .stored_size = 1 << 20 };
	s->data_size = (2 << 20) + 5096;
	s->src = (struct pkg_manifest_src){ s->variants, s->targets, s->parts, s->images, s->chunks,
					    2, 2, 4, 3, 4, 1 << 20, 0x0102030405060708ull };
}

static uint8_t mbuf[1 << 16];

/* Encodes s and decodes the result; returns decode's result. */
static int roundtrip(struct sample *s, struct pkg_manifest *m, uint64_t *size)
{
	*size = pkg_manifest_encoded_size(&s->src);
	if (*size == 0 || *size > sizeof(mbuf) || pkg_manifest_encode(&s->src, mbuf, *size) != 0)
		return -2;
	return pkg_manifest_decode(mbuf, *size, s->data_size, m);
}

static void test_manifest_roundtrip(void)
{
	struct sample s;
	struct pkg_manifest m;
	uint64_t size;
	sample_init(&s);
	CHECK(roundtrip(&s, &m, &size) == 0);
	CHECK(m.variant_count == 2 && m.target_count == 2 && m.partition_count == 4);
	CHECK(m.image_count == 3 && m.chunk_count == 4);
	struct pkg_variant v;
	pkg_manifest_variant(&m, 0, &v);
	CHECK_STR_EQ(v.name, "agx-64");
	CHECK_STR_EQ(v.board, "3701");
	struct pkg_partition p;
	pkg_manifest_partition(&m, 3, &p);
	CHECK_STR_EQ(p.name, "secondary_gpt");
	CHECK(p.offset == (1 << 30) - 16896 && p.flags == PKG_PART_AT_END);
	struct pkg_chunk c;
	pkg_manifest_chunk(&m, 1, &c);
	CHECK(c.compression == PKG_COMP_ZLIB && c.stored_size == 1000 && c.offset == 2 << 20);
	struct pkg_image im;
	pkg_manifest_image(&m, 2, &im);
	CHECK(im.variant_mask == 3 && im.size == 200 << 20);
}

/* Each mutation of a valid sample must be refused with a message naming the problem. */
static void test_manifest_rejects_hostile_records(void)
{
	static const struct {
		const char *why;
		const char *error;
	} cases[] = {
		{ "partitions overlap", "overlaps" },
		{ "partition past device end", "past the end of spi" },
		{ "offset + size overflows", "overflows 64 bits" },
		{ "partition names unknown target", "target 5" },
		{ "duplicate partition name", "used twice" },
		{ "image larger than partition", "image is" },
		{ "chunk past image end", "run past the image" },
		{ "chunks out of order", "before the previous chunk" },
		{ "zlib chunk not smaller", "zlib stream of" },
		{ "raw chunk stored size differs", "uncompressed" },
		{ "unknown compression", "unknown compression" },
		{ "chunk too large", "raw size" },
		{ "chunks do not tile data", "tile the data" },
		{ "variant mask past variants", "variant mask" },
		{ "two images same variant", "same variant" },
		{ "image chunk range wrong", "do not continue the chunk table" },
		{ "partition name not printable", "not visible ASCII" },
		{ "unknown partition flag", "unknown flags" },
		{ "unknown slot", "unknown slot" },
		{ "bad sector size", "sector size" },
		{ "duplicate variant", "used twice" },
		{ "data size mismatch", "the data region has" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sample s;
		struct pkg_manifest m;
		uint64_t size;
		sample_init(&s);
		switch (i) {
		case 0: s.parts[1].offset = (4 << 20) - 512; break;
		case 1: s.parts[1].offset = 62 << 20; break;
		case 2: s.parts[1].offset = UINT64_MAX - 10; break;
		case 3: s.parts[1].target = 5; break;
		case 4: strcpy(s.parts[1].name, "A_uefi"); break;
		case 5: s.images[0].size = (4 << 20) + 1; break;
		case 6: s.images[0].size = (3 << 20) - 1; break;
		case 7: s.chunks[1].offset = 512; break;
		case 8: s.chunks[1].stored_size = 1 << 20; break;
		case 9: s.chunks[0].stored_size = 100; break;
		case 10: s.chunks[0].compression = 7; break;
		case 11: s.chunks[2].raw_size = s.chunks[2].stored_size = PKG_MAX_CHUNK_SIZE + 1; break;
		case 12: s.chunks[2].stored_offset += 1; break;
		case 13: s.images[2].variant_mask = 4; break;
		case 14: s.images[1].variant_mask = 3; break;
		case 15: s.images[1].first_chunk = 1; break;
		case 16: s.parts[2].name[1] = ' '; break;
		case 17: s.parts[2].flags = 0x80; break;
		case 18: s.parts[2].slot = 3; break;
		case 19: s.targets[1].sector_size = 1000; break;
		case 20: strcpy(s.variants[1].name, "agx-64"); break;
		case 21: s.data_size += 1; break;
		}
		int rc = roundtrip(&s, &m, &size);
		if (rc != -1 || !strstr(err_msg(), cases[i].error)) {
			fprintf(stderr, "  case '%s': rc %d, error \"%s\"\n", cases[i].why, rc, err_msg());
			CHECK(0);
		}
	}
}

/* A file for the firmware (PKG_PART_FILE, a capsule): on a disk, no slot, offset 0, no blocks
 * of its own, so it overlaps nothing; anything else about it is refused. */
static void test_manifest_file_partition(void)
{
	struct sample s;
	struct pkg_manifest m;
	uint64_t size;
	sample_init(&s);
	s.parts[2] = (struct pkg_partition){ .name = "TEGRA_BL.Cap", .type = "capsule", .target = 1,
					     .kind = PKG_PART_FILE, .size = 201 << 20 };
	CHECK(roundtrip(&s, &m, &size) == 0);
	struct pkg_partition p;
	pkg_manifest_partition(&m, 2, &p);
	CHECK(p.kind == PKG_PART_FILE && p.offset == 0);
	CHECK_STR_EQ(pkg_part_kind_name(p.kind), "file");
	static const char *const errors[] = { "a file has none", "which is no disk",
					      "expected 1..", "used twice", "unknown kind" };
	for (int i = 0; i < 5; i++) {
		sample_init(&s);
		s.parts[2] = (struct pkg_partition){ .name = "TEGRA_BL.Cap", .target = 1,
						     .kind = PKG_PART_FILE, .size = 201 << 20 };
		switch (i) {
		case 0: s.parts[2].offset = 4096; break;
		case 1: s.parts[2].target = 0; s.images[2].partition = 0; break;
		case 2: s.parts[2].size = PKG_MAX_FILE_SIZE + 1; break;
		case 3: strcpy(s.parts[3].name, "TEGRA_BL.Cap"); break;
		case 4: s.parts[2].kind = PKG_PART_FILE + 1; break;
		}
		int rc = roundtrip(&s, &m, &size);
		if (rc != -1 || !strstr(err_msg(), errors[i])) {
			fprintf(stderr, "  file case %d: rc %d, error \"%s\"\n", i, rc, err_msg());
			CHECK(0);
		}
	}
}

static void test_manifest_rejects_bad_sizes_and_counts(void)
{
	struct sample s;
	struct pkg_manifest m;
	uint64_t size;
	sample_init(&s);
	CHECK(roundtrip(&s, &m, &size) == 0);
	/* truncated or extended by one byte */
	CHECK(pkg_manifest_decode(mbuf, size - 1, s.data_size, &m) == -1);
	CHECK(expect_error("its counts need"));
	CHECK(pkg_manifest_decode(mbuf, size + 1, s.data_size, &m) == -1);
	CHECK(pkg_manifest_decode(mbuf, 10, s.data_size, &m) == -1);
	CHECK(expect_error("shorter than its"));
	/* a count past its limit is refused before it is used for anything */
	le32_store(mbuf + 16, PKG_MAX_CHUNKS + 1);
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == -1);
	CHECK(expect_error("chunks, limit"));
	le32_store(mbuf + 16, 0xffffffffu);
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == -1);
	le32_store(mbuf + 16, 4);
	le32_store(mbuf + 0, 0);
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == -1);
	CHECK(expect_error("variants, expected 1.."));
	le32_store(mbuf + 0, 2);
	/* bytes 24..31 are the system version (once reserved): any value decodes, as itself */
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == 0);
	CHECK(m.system_version == 0x0102030405060708ull);
	le64_store(mbuf + 24, 7);
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == 0 && m.system_version == 7);
	le64_store(mbuf + 24, 0x0102030405060708ull);
	/* garbage after a string's terminator */
	uint64_t part0 = PKG_MANIFEST_HEADER_SIZE + 2 * PKG_VARIANT_SIZE + 2 * PKG_TARGET_SIZE;
	mbuf[part0 + 30] = 'x';
	CHECK(pkg_manifest_decode(mbuf, size, s.data_size, &m) == -1);
	CHECK(expect_error("after the string"));
}

/* ---- header ---------------------------------------------------------------------------- */

static void sample_header(struct pkg_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = PKG_FORMAT_VERSION;
	h->flags = PKG_FLAG_SIGNED;
	h->manifest_size = 1000;
	h->data_size = 5000;
	h->package_size = PKG_PREFIX_SIZE + 6000;
	memset(h->key_id, 0xab, PKG_KEY_ID_LEN);
	h->sig_len = 70;
	memset(h->sig, 0x5a, 70);
}

static void test_header_roundtrip_and_hostile_fields(void)
{
	struct pkg_header h, got;
	uint8_t p[PKG_PREFIX_SIZE];
	sample_header(&h);
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, h.package_size, &got) == 0);
	CHECK(got.manifest_size == 1000 && got.data_size == 5000 && got.sig_len == 70);
	CHECK(memcmp(got.sig, h.sig, 70) == 0);

	CHECK(pkg_header_decode(p, h.package_size - 1, &got) == -1);
	CHECK(expect_error("truncated"));
	p[0] ^= 1;
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("bad magic"));

	sample_header(&h);
	h.version = 2;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("format version 2"));

	sample_header(&h);
	h.manifest_size = PKG_MAX_MANIFEST_SIZE + 1;
	h.package_size = PKG_PREFIX_SIZE + h.manifest_size + h.data_size;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("manifest size"));

	sample_header(&h);
	h.data_size = UINT64_MAX - 100; /* would overflow the sum */
	h.package_size = 12345;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("data size"));

	sample_header(&h);
	h.package_size += 1;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("does not match its parts"));

	sample_header(&h);
	h.sig_len = 0;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("signature length 0"));

	sample_header(&h);
	pkg_header_encode(&h, p);
	le32_store(p + PKG_HEADER_SIZE, 200); /* signature length past its field */
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("signature length 200"));

	sample_header(&h);
	pkg_header_encode(&h, p);
	p[PKG_PREFIX_SIZE - 1] = 1; /* padding after the signature */
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("not zero"));

	sample_header(&h);
	h.flags = 0; /* unsigned, yet a key id */
	h.sig_len = 0;
	pkg_header_encode(&h, p);
	CHECK(pkg_header_decode(p, 0, &got) == -1);
	CHECK(expect_error("unsigned package carries"));
}

/* ---- chunks ---------------------------------------------------------------------------- */

static void test_chunk_unpack_checks_size_and_hash(void)
{
	static uint8_t raw[8192], out[8192], packed[9000];
	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i / 64);
	uLongf plen = sizeof(packed);
	CHECK(compress2(packed, &plen, raw, sizeof(raw), 9) == Z_OK);
	struct pkg_chunk c = { .raw_size = sizeof(raw), .stored_size = (uint32_t)plen,
			       .compression = PKG_COMP_ZLIB,
			       .stored_crc32 = (uint32_t)crc32(0, packed, plen) };
	sha256_buffer(raw, sizeof(raw), c.sha256);
	CHECK(pkg_chunk_unpack(&c, packed, out) == 0);
	CHECK(memcmp(out, raw, sizeof(raw)) == 0);

	c.raw_size = sizeof(raw) - 1; /* stream inflates to more than announced */
	CHECK(pkg_chunk_unpack(&c, packed, out) == -1);
	CHECK(expect_error("more than"));
	c.raw_size = sizeof(raw);
	c.stored_size = (uint32_t)plen - 3; /* cut short */
	c.stored_crc32 = (uint32_t)crc32(0, packed, c.stored_size);
	CHECK(pkg_chunk_unpack(&c, packed, out) == -1);
	CHECK(expect_error("zlib stream is truncated"));
	c.stored_size = (uint32_t)plen;
	packed[plen / 2] ^= 0x10;
	c.stored_crc32 = (uint32_t)crc32(0, packed, plen);
	CHECK(pkg_chunk_unpack(&c, packed, out) == -1); /* a valid CRC over a broken stream */
	packed[plen / 2] ^= 0x10;
	CHECK(pkg_chunk_unpack(&c, packed, out) == -1);
	CHECK(expect_error("CRC32"));

	struct pkg_chunk r = { .raw_size = 100, .stored_size = 100,
			       .stored_crc32 = (uint32_t)crc32(0, raw, 100) };
	sha256_buffer(raw, 100, r.sha256);
	CHECK(pkg_chunk_unpack(&r, raw, out) == 0);
	r.sha256[0] ^= 1;
	CHECK(pkg_chunk_unpack(&r, raw, out) == -1);
	CHECK(expect_error("SHA-256 mismatch"));
}

/* A message may quote the one before it (err_set("...: %s", err_msg())), and prefixes stack. */
static void test_error_messages_may_quote_themselves(void)
{
	err_set("inner %d", 7);
	err_set("outer: %s", err_msg());
	CHECK_STR_EQ(err_msg(), "outer: inner 7");
	err_prefix("partition %s", "APP");
	CHECK_STR_EQ(err_msg(), "partition APP: outer: inner 7");
	err_set("%s", err_msg());
	CHECK_STR_EQ(err_msg(), "partition APP: outer: inner 7");
}

int main(void)
{
	RUN(test_error_messages_may_quote_themselves);
	RUN(test_sha256_known_answers);
	RUN(test_sha256_million_a_incremental);
	RUN(test_ecdsa_sign_matches_rfc6979);
	RUN(test_ecdsa_public_key_derived_from_private);
	RUN(test_ecdsa_rejects_tampered_digest_and_signature);
	RUN(test_public_key_pem_must_be_p256_point_on_curve);
	RUN(test_manifest_roundtrip);
	RUN(test_manifest_rejects_hostile_records);
	RUN(test_manifest_file_partition);
	RUN(test_manifest_rejects_bad_sizes_and_counts);
	RUN(test_header_roundtrip_and_hostile_fields);
	RUN(test_chunk_unpack_checks_size_and_hash);
	return CHECK_EXIT();
}
