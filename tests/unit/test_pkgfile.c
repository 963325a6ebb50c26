/* SPDX-License-Identifier: MIT */
/*
 * Whole packages: build -> open -> verify round trip, and every single-byte flip and every
 * truncation of a built package is refused. Also holes and zeros are not stored, and each
 * variant gets its own image. Authenticate, then parse: the manifest decoder is never called
 * on bytes whose signature does not hold (counted through the linker's --wrap).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/error.h"
#include "../../common/keys.h"
#include "../../mkflashpkg/build.h"
#include "../../mkflashpkg/inspect.h"
#include "../../mkflashpkg/sign.h"
#include "check.h"

/* Every call of the manifest decoder, counted: linked with -Wl,--wrap=pkg_manifest_decode. */
int __real_pkg_manifest_decode(const uint8_t *buf, uint64_t size, uint64_t data_size,
			       struct pkg_manifest *m);
int __wrap_pkg_manifest_decode(const uint8_t *buf, uint64_t size, uint64_t data_size,
			       struct pkg_manifest *m);
static unsigned manifest_decodes;
int __wrap_pkg_manifest_decode(const uint8_t *buf, uint64_t size, uint64_t data_size,
			       struct pkg_manifest *m)
{
	manifest_decodes++;
	return __real_pkg_manifest_decode(buf, size, data_size, m);
}

static char dir[] = "/tmp/selfflash-pkgfile-XXXXXX";
static char path_pkg[256], path_key[256], path_other_key[256];
static struct pkg_privkey key, other_key;
static FILE *devnull;

static void path_in(char *out, const char *name)
{
	snprintf(out, 256, "%s/%s", dir, name);
}

static int write_file(const char *name, const void *data, size_t len)
{
	char p[256];
	path_in(p, name);
	FILE *f = fopen(p, "wb");
	if (!f || fwrite(data, 1, len, f) != len)
		return -1;
	return fclose(f);
}

static const char *layout_xml =
	"<partition_layout>\n"
	" <device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"8192\">\n"
	"  <partition name=\"A_fw\" type=\"data\"><size>65536</size><filename>FWFILE</filename></partition>\n"
	"  <partition name=\"B_fw\" type=\"data\"><size>65536</size><filename>FWFILE</filename></partition>\n"
	"  <partition name=\"DTB\" type=\"data\"><size>8192</size><filename>DTB_FILE</filename></partition>\n"
	" </device>\n"
	"</partition_layout>\n";

static int build(const char *out, const char *key_path, int with_variants)
{
	char fw[256], dtb_a[256], dtb_b[256];
	path_in(fw, "fw.bin");
	path_in(dtb_a, "a.dtb");
	path_in(dtb_b, "b.dtb");
	struct layout l;
	if (layout_from_xml(layout_xml, strlen(layout_xml), NULL, 0, &l) != 0)
		return -1;
	struct layout_set files[] = { { "FWFILE", fw }, { "DTB_FILE", dtb_a } };
	static struct variant variants[2];
	memset(variants, 0, sizeof(variants));
	strcpy(variants[0].v.name, "board-a");
	strcpy(variants[0].v.board, "3701");
	strcpy(variants[1].v.name, "board-b");
	strcpy(variants[1].v.board, "3767");
	strcpy(variants[1].files[0].key, "DTB_FILE");
	strcpy(variants[1].files[0].path, dtb_b);
	variants[1].nfiles = 1;
	struct build_opts o = {
		.output = out,
		.key_path = key_path,
		.allow_unsigned = key_path == NULL,
		.layout = &l,
		.files = files,
		.nfiles = 2,
		.variants = with_variants ? variants : NULL,
		.nvariants = with_variants ? 2 : 0,
		.chunk_size = 4096,
		.quiet = 1,
	};
	int rc = pkg_build(&o);
	layout_free(&l);
	return rc;
}

static int open_and_verify(const char *p, const struct pkg_pubkey *trusted)
{
	struct pkg_file f;
	if (pkg_file_open(p, &f) != 0)
		return -1;
	int rc = pkg_file_verify(&f, trusted, devnull);
	pkg_file_close(&f);
	return rc;
}

static void setup(void)
{
	devnull = fopen("/dev/null", "w");
	if (!mkdtemp(dir) || !devnull)
		abort();
	/* firmware: random [0, 5000), zeros [5000, 16384), compressible [16384, 20000) */
	static uint8_t fw[20000];
	srand(1);
	for (int i = 0; i < 5000; i++)
		fw[i] = (uint8_t)rand();
	for (int i = 16384; i < 20000; i++)
		fw[i] = (uint8_t)(i / 100);
	if (write_file("fw.bin", fw, sizeof(fw)) || write_file("a.dtb", "dtb for board a", 15) ||
	    write_file("b.dtb", "dtb for board b!", 16))
		abort();
	path_in(path_pkg, "p.sfpkg");
	path_in(path_key, "k");
	path_in(path_other_key, "other");
	if (pkg_keygen(&key) || pkg_keys_write(&key, path_key) || pkg_keygen(&other_key) ||
	    pkg_keys_write(&other_key, path_other_key))
		abort();
	strcat(path_key, ".key");
	strcat(path_other_key, ".key");
}

static void test_build_open_verify_roundtrip(void)
{
	CHECK(build(path_pkg, path_key, 1) == 0);
	struct pkg_file f;
	CHECK(pkg_file_open(path_pkg, &f) == 0);
	CHECK(!f.decoded); /* opening reads the manifest's bytes; only the signature lets them in */
	CHECK(pkg_file_authenticate(&f, &key.pub) == 0 && f.decoded);
	const struct pkg_manifest *m = &f.manifest;
	CHECK(m->variant_count == 2 && m->partition_count == 3);
	/* A_fw, B_fw: one image each for both variants; DTB: one per variant */
	CHECK(m->image_count == 4);
	struct pkg_image im;
	pkg_manifest_image(m, 0, &im);
	CHECK(im.variant_mask == 3 && im.size == 20000 && (im.flags & PKG_IMAGE_ZERO_HOLES));
	/* 4 KiB windows: two with random bytes, two all zero (not stored), one compressible */
	CHECK(im.chunk_count == 3);
	struct pkg_chunk c;
	pkg_manifest_chunk(m, 2, &c);
	CHECK(c.offset == 16384 && c.raw_size == 3616);
	CHECK(c.compression == PKG_COMP_ZSTD && c.stored_size < c.raw_size); /* the default */
	pkg_manifest_chunk(m, 0, &c);
	CHECK(c.compression == PKG_COMP_NONE); /* random data: stored as is */
	pkg_manifest_image(m, 3, &im);
	CHECK(im.variant_mask == 2 && im.size == 16);
	CHECK(pkg_file_verify(&f, &key.pub, devnull) == 0);
	pkg_file_close(&f);
}

static void test_another_key_or_no_signature_is_refused(void)
{
	CHECK(build(path_pkg, path_key, 0) == 0);
	CHECK(open_and_verify(path_pkg, &other_key.pub) == -1);
	CHECK(strstr(err_msg(), "signed by another key") != NULL);
	char unsigned_pkg[256];
	path_in(unsigned_pkg, "unsigned.sfpkg");
	CHECK(build(unsigned_pkg, NULL, 0) == 0);
	CHECK(open_and_verify(unsigned_pkg, &key.pub) == -1);
	CHECK(strstr(err_msg(), "not signed") != NULL);
	CHECK(open_and_verify(unsigned_pkg, NULL) == 0);
}

static uint8_t *slurp(const char *p, size_t *len)
{
	struct stat st;
	if (stat(p, &st) != 0)
		return NULL;
	uint8_t *buf = malloc((size_t)st.st_size);
	FILE *f = fopen(p, "rb");
	if (!buf || !f || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)st.st_size;
	return buf;
}

/*
 * A package whose manifest bytes are garbage (header intact, so the signature cannot match):
 * refused for its signature, and the decoder never sees the garbage. The same package with
 * its own bytes is decoded exactly once, so the counter does count.
 */
static void test_manifest_is_not_decoded_before_its_signature_holds(void)
{
	CHECK(build(path_pkg, path_key, 1) == 0);
	size_t len;
	uint8_t *bytes = slurp(path_pkg, &len);
	CHECK(bytes != NULL);
	struct pkg_header h;
	CHECK(pkg_header_decode(bytes, len, &h) == 0);
	srand(7);
	for (uint64_t i = 0; i < h.manifest_size; i++)
		bytes[PKG_MANIFEST_OFFSET + i] = (uint8_t)rand();
	char garbage[256];
	path_in(garbage, "garbage-manifest.sfpkg");
	int fd = open(garbage, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && write(fd, bytes, len) == (ssize_t)len && close(fd) == 0);
	free(bytes);

	struct pkg_file f;
	manifest_decodes = 0;
	CHECK(pkg_file_open(garbage, &f) == 0); /* the header alone is fine */
	CHECK(pkg_file_authenticate(&f, &key.pub) == -1);
	CHECK(strstr(err_msg(), "signature does not match") != NULL);
	CHECK(pkg_file_authenticate(&f, &other_key.pub) == -1);
	CHECK(strstr(err_msg(), "signed by another key") != NULL);
	CHECK(!f.decoded);
	pkg_file_close(&f);
	CHECK(open_and_verify(garbage, &key.pub) == -1);
	CHECK(manifest_decodes == 0);

	CHECK(pkg_file_open(path_pkg, &f) == 0);
	CHECK(pkg_file_authenticate(&f, &key.pub) == 0);
	pkg_file_close(&f);
	CHECK(manifest_decodes == 1);
}

static void test_every_single_byte_flip_is_refused(void)
{
	CHECK(build(path_pkg, path_key, 1) == 0);
	size_t len;
	uint8_t *orig = slurp(path_pkg, &len);
	CHECK(orig != NULL);
	char flipped[256];
	path_in(flipped, "flipped.sfpkg");
	size_t accepted = 0, first_accepted = 0;
	for (size_t i = 0; i < len; i++) {
		orig[i] ^= 0x01;
		int fd = open(flipped, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, orig, len) != (ssize_t)len || close(fd) != 0) {
			free(orig);
			CHECK(0);
		}
		orig[i] ^= 0x01;
		if (open_and_verify(flipped, &key.pub) == 0 && accepted++ == 0)
			first_accepted = i;
	}
	free(orig);
	if (accepted)
		fprintf(stderr, "  %zu of %zu flips accepted, first at byte %zu\n", accepted, len,
			first_accepted);
	CHECK(accepted == 0);
	CHECK(open_and_verify(path_pkg, &key.pub) == 0);
}

static void test_every_truncation_is_refused(void)
{
	CHECK(build(path_pkg, path_key, 0) == 0);
	size_t len;
	uint8_t *orig = slurp(path_pkg, &len);
	CHECK(orig != NULL);
	char cut[256];
	path_in(cut, "cut.sfpkg");
	size_t accepted = 0;
	for (size_t n = 0; n < len; n++) {
		FILE *f = fopen(cut, "wb");
		if (!f || fwrite(orig, 1, n, f) != n || fclose(f) != 0) {
			free(orig);
			CHECK(0);
		}
		struct pkg_file pf;
		if (pkg_file_open(cut, &pf) == 0) {
			accepted++;
			pkg_file_close(&pf);
		}
	}
	/* and one byte too many */
	FILE *f = fopen(cut, "wb");
	CHECK(f != NULL);
	fwrite(orig, 1, len, f);
	fputc(0, f);
	fclose(f);
	free(orig);
	CHECK(accepted == 0);
	CHECK(open_and_verify(cut, &key.pub) == -1);
	CHECK(strstr(err_msg(), "truncated or extended") != NULL);
}

static void test_build_refuses_bad_inputs_and_leaves_nothing(void)
{
	char big[256], out[256];
	path_in(out, "never.sfpkg");
	static uint8_t data[70000];
	CHECK(write_file("big.bin", data, sizeof(data)) == 0);
	path_in(big, "big.bin");
	struct layout l;
	CHECK(layout_from_xml(layout_xml, strlen(layout_xml), NULL, 0, &l) == 0);
	struct layout_set files[] = { { "FWFILE", big }, { "DTB_FILE", big } };
	struct build_opts o = { .output = out, .allow_unsigned = 1, .layout = &l, .files = files,
				.nfiles = 2, .chunk_size = 4096, .quiet = 1 };
	CHECK(pkg_build(&o) == -1);
	CHECK(strstr(err_msg(), "partition A_fw: file") && strstr(err_msg(), "partition holds 65536"));
	o.nfiles = 0; /* placeholders with no file */
	CHECK(pkg_build(&o) == -1);
	CHECK(strstr(err_msg(), "no file for FWFILE") != NULL);
	o.allow_unsigned = 0;
	CHECK(pkg_build(&o) == -1);
	CHECK(strstr(err_msg(), "no signing key") != NULL);
	layout_free(&l);
	CHECK(access(out, F_OK) != 0);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	CHECK(access(tmp, F_OK) != 0);
}

int main(void)
{
	setup();
	RUN(test_build_open_verify_roundtrip);
	RUN(test_another_key_or_no_signature_is_refused);
	RUN(test_manifest_is_not_decoded_before_its_signature_holds);
	RUN(test_every_single_byte_flip_is_refused);
	RUN(test_every_truncation_is_refused);
	RUN(test_build_refuses_bad_inputs_and_leaves_nothing);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	fclose(devnull);
	return CHECK_EXIT();
}
