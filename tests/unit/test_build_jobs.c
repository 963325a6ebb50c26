/* SPDX-License-Identifier: MIT */
/*
 * `mkflashpkg build --jobs N`: the package is byte for byte the same for every N (random,
 * compressible, holed, Android sparse, replicated and per-variant images), and a read that
 * fails in the middle stops the build with the single-threaded message and leaves no file.
 * Reads fail on demand through the linker's --wrap of io_pread_all (this binary only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/error.h"
#include "../../common/io.h"
#include "../../common/keys.h"
#include "../../common/pkg_file.h"
#include "../../mkflashpkg/build.h"
#include "../../mkflashpkg/sign.h"
#include "check.h"

/*
 * The read that fails: of the file with inode fault_ino, at fault_off, of fault_len bytes (a
 * window's; the sparse check reads 4 bytes at 0 first). Set before a build starts its threads
 * and only read while it runs, so workers see it without a lock.
 */
static ino_t fault_ino;
static uint64_t fault_off;
static size_t fault_len;
static int fault_armed;

int __real_io_pread_all(int fd, void *buf, size_t len, uint64_t off);
int __wrap_io_pread_all(int fd, void *buf, size_t len, uint64_t off);
int __wrap_io_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	struct stat st;
	if (fault_armed && off == fault_off && len == fault_len && fstat(fd, &st) == 0 && st.st_ino == fault_ino) {
		errno = EIO;
		return -1;
	}
	return __real_io_pread_all(fd, buf, len, off);
}

#define CHUNK 4096u
#define BLOCK 4096u

static char dir[] = "/tmp/selfflash-buildjobs-XXXXXX";
static char path_key[256];
static struct pkg_privkey key;

static void path_in(char *out, const char *name)
{
	snprintf(out, 256, "%s/%s", dir, name);
}

/* Writes len bytes at off, creating the file; what lies between stays a hole. */
static int write_at(const char *name, const void *data, size_t len, off_t off)
{
	char p[256];
	path_in(p, name);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		return -1;
	int rc = pwrite(fd, data, len, off) == (ssize_t)len ? 0 : -1;
	return close(fd) == 0 ? rc : -1;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t sparse_chunk(uint8_t *p, uint16_t type, uint32_t blocks, uint32_t data_len)
{
	put_le16(p, type);
	put_le16(p + 2, 0);
	put_le32(p + 4, blocks);
	put_le32(p + 8, 12 + data_len);
	return 12;
}

/* The RAW data of system.simg starts here: header, one chunk header. */
#define SPARSE_RAW_AT 40u

/*
 * An Android sparse image of 64 blocks: RAW 24 random blocks, DONT_CARE 16, FILL 8 of a
 * pattern, RAW 4 text blocks, FILL 12 of zeros.
 */
static int write_sparse(const char *name)
{
	static uint8_t f[28 + 5 * 12 + 28 * BLOCK + 8];
	uint8_t *p = f;
	put_le32(p, 0xED26FF3Au);
	put_le16(p + 4, 1);
	put_le16(p + 6, 0);
	put_le16(p + 8, 28);
	put_le16(p + 10, 12);
	put_le32(p + 12, BLOCK);
	put_le32(p + 16, 64);
	put_le32(p + 20, 5);
	put_le32(p + 24, 0);
	p += 28;
	p += sparse_chunk(p, 0xCAC1, 24, 24 * BLOCK);
	for (uint32_t i = 0; i < 24 * BLOCK; i++)
		*p++ = (uint8_t)rand();
	p += sparse_chunk(p, 0xCAC3, 16, 0);
	p += sparse_chunk(p, 0xCAC2, 8, 4);
	put_le32(p, 0xDEADBEEFu);
	p += 4;
	p += sparse_chunk(p, 0xCAC1, 4, 4 * BLOCK);
	for (uint32_t i = 0; i < 4 * BLOCK; i++)
		*p++ = (uint8_t)("sparse text, compressible "[i % 26]);
	p += sparse_chunk(p, 0xCAC2, 12, 4);
	put_le32(p, 0);
	p += 4;
	return write_at(name, f, (size_t)(p - f), 0);
}

static const char *layout_xml =
	"<partition_layout>\n"
	" <device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"8192\">\n"
	"  <partition name=\"BCT\" type=\"boot_config_table\"><size>65536</size><filename>bct.bin</filename></partition>\n"
	"  <partition name=\"A_fw\" type=\"data\"><size>524288</size><filename>text.txt</filename></partition>\n"
	" </device>\n"
	" <device type=\"nvme\" instance=\"0\" sector_size=\"512\" num_sectors=\"65536\">\n"
	"  <partition name=\"RAND\" type=\"data\"><size>1048576</size><filename>rand.bin</filename></partition>\n"
	"  <partition name=\"HOLES\" type=\"data\"><size>2097152</size><filename>holes.img</filename></partition>\n"
	"  <partition name=\"SYSTEM\" type=\"data\"><size>524288</size><filename>system.simg</filename></partition>\n"
	"  <partition name=\"DTB\" type=\"data\"><size>65536</size><filename>DTB_FILE</filename></partition>\n"
	" </device>\n"
	"</partition_layout>\n";

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	srand(14);
	/* random, with a short last window */
	static uint8_t rnd[300 * 1024 + 123];
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)rand();
	/* compressible text */
	static char text[200 * 1024 + 7];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "the quick brown fox jumps over the lazy board\n"[(i * 7 + i / 1000) % 46];
	/* holes, data here and there, and a written run of zeros (read, then not stored) */
	static uint8_t zeros[3 * CHUNK];
	static uint8_t bct[3000];
	for (size_t i = 0; i < sizeof(bct); i++)
		bct[i] = (uint8_t)(i * 13);
	char holes[256];
	path_in(holes, "holes.img");
	if (write_at("rand.bin", rnd, sizeof(rnd), 0) || write_at("text.txt", text, sizeof(text), 0) ||
	    write_at("bct.bin", bct, sizeof(bct), 0) || write_at("a.dtb", "dtb for board a", 15, 0) ||
	    write_at("b.dtb", "dtb for board b!", 16, 0) || write_at("holes.img", rnd, 10000, 0) ||
	    truncate(holes, 2 * 1024 * 1024 - 100) != 0 ||
	    write_at("holes.img", text, 50000, 300000) || write_at("holes.img", zeros,
								     sizeof(zeros), 700 * 1024) ||
	    write_at("holes.img", rnd + 5000, 4096, 1500 * 1024) || write_sparse("system.simg"))
		abort();
	path_in(path_key, "k");
	if (pkg_keygen(&key) || pkg_keys_write(&key, path_key))
		abort();
	strcat(path_key, ".key");
}

/* codec 0: mkflashpkg's default */
static int build_codec(const char *name, unsigned jobs, uint32_t chunk_size, uint8_t codec)
{
	char out[256], rand_bin[256], holes[256], system[256], text[256], bct[256], dtb_a[256];
	path_in(out, name);
	path_in(rand_bin, "rand.bin");
	path_in(holes, "holes.img");
	path_in(system, "system.simg");
	path_in(text, "text.txt");
	path_in(bct, "bct.bin");
	path_in(dtb_a, "a.dtb");
	struct layout l;
	if (layout_from_xml(layout_xml, strlen(layout_xml), NULL, 0, &l) != 0)
		return -1;
	struct layout_set files[] = { { "rand.bin", rand_bin }, { "holes.img", holes },
				      { "system.simg", system }, { "text.txt", text },
				      { "bct.bin", bct }, { "DTB_FILE", dtb_a } };
	struct layout_set replicate[] = { { "BCT", "16384" } };
	const char *zero_holes[] = { "HOLES" };
	/* board-b gets its own device tree: two images of DTB, one per variant */
	static const char table[] = "board-a 3701 - - -\n"
				    "board-b 3767 - - - DTB_FILE=b.dtb\n";
	static struct variant variants[2];
	size_t nvariants = 0;
	if (variants_parse(table, strlen(table), dir, variants, 2, &nvariants) != 0) {
		layout_free(&l);
		return -1;
	}
	struct build_opts o = {
		.output = out,
		.key_path = path_key,
		.layout = &l,
		.files = files,
		.nfiles = sizeof(files) / sizeof(files[0]),
		.variants = variants,
		.nvariants = nvariants,
		.zero_holes = zero_holes,
		.n_zero_holes = 1,
		.replicate = replicate,
		.nreplicate = 1,
		.chunk_size = chunk_size,
		.jobs = jobs,
		.codec = { codec, 0 },
		.quiet = 1,
	};
	int rc = pkg_build(&o);
	layout_free(&l);
	return rc;
}

static int build(const char *name, unsigned jobs, uint32_t chunk_size)
{
	return build_codec(name, jobs, chunk_size, 0);
}

/* How many of the package's chunks are stored with compression `comp`; -1 if it is unreadable. */
static int count_chunks(const char *name, uint8_t comp)
{
	char p[256];
	path_in(p, name);
	struct pkg_file f;
	if (pkg_file_open(p, &f) != 0)
		return -1;
	int n = pkg_file_authenticate(&f, &key.pub) == 0 ? 0 : -1;
	for (uint32_t i = 0; n >= 0 && i < f.manifest.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(&f.manifest, i, &c);
		n += c.compression == comp;
	}
	pkg_file_close(&f);
	return n;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 when one cannot be read. */
static int same_file(const char *name_a, const char *name_b)
{
	char a[256], b[256];
	path_in(a, name_a);
	path_in(b, name_b);
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int rc = fa && fb ? 1 : -1;
	while (rc == 1) {
		int ca = getc(fa), cb = getc(fb);
		if (ca != cb)
			rc = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return rc;
}

static int exists(const char *name)
{
	char p[256];
	path_in(p, name);
	return access(p, F_OK) == 0;
}

static void test_every_job_count_builds_the_same_bytes(void)
{
	CHECK(build("j1.sfpkg", 1, CHUNK) == 0);
	/* 2 and 4 workers, a count that does not divide the windows, the default (every CPU),
	 * and more workers than most images have windows */
	static const unsigned jobs[] = { 2, 3, 4, 0, 64 };
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		CHECK(build("jn.sfpkg", jobs[i], CHUNK) == 0);
		if (same_file("j1.sfpkg", "jn.sfpkg") != 1) {
			fprintf(stderr, "  --jobs %u: package differs from --jobs 1\n", jobs[i]);
			CHECK(0);
		}
	}
	/* the package has what it should, so the comparison compared something: BCT, A_fw,
	 * RAND, HOLES, SYSTEM one image each, DTB one per variant; stored and compressed
	 * chunks, compressed with zstd (the default) and none with zlib */
	char p[256];
	path_in(p, "j1.sfpkg");
	struct pkg_file f;
	CHECK(pkg_file_open(p, &f) == 0);
	uint32_t images = pkg_file_authenticate(&f, &key.pub) == 0 ? f.manifest.image_count : 0;
	pkg_file_close(&f);
	CHECK(images == 7);
	CHECK(count_chunks("j1.sfpkg", PKG_COMP_ZSTD) > 20);
	CHECK(count_chunks("j1.sfpkg", PKG_COMP_NONE) > 70);
	CHECK(count_chunks("j1.sfpkg", PKG_COMP_ZLIB) == 0);
}

/* zlib, for flashers that predate zstd chunks: as deterministic, and zlib throughout */
static void test_zlib_codec_builds_the_same_bytes(void)
{
	CHECK(build_codec("z1.sfpkg", 1, CHUNK, PKG_COMP_ZLIB) == 0);
	CHECK(build_codec("z3.sfpkg", 3, CHUNK, PKG_COMP_ZLIB) == 0);
	CHECK(same_file("z1.sfpkg", "z3.sfpkg") == 1);
	CHECK(count_chunks("z1.sfpkg", PKG_COMP_ZLIB) > 20);
	CHECK(count_chunks("z1.sfpkg", PKG_COMP_ZSTD) == 0);
	CHECK(same_file("z1.sfpkg", "j1.sfpkg") == 0);
}

static void test_larger_chunks_build_the_same_bytes(void)
{
	CHECK(build("c1.sfpkg", 1, 65536) == 0);
	CHECK(build("c4.sfpkg", 4, 65536) == 0);
	CHECK(same_file("c1.sfpkg", "c4.sfpkg") == 1);
	CHECK(same_file("c1.sfpkg", "j1.sfpkg") == 0); /* a different chunk size does differ */
}

/* Arms the fault, builds, disarms; returns the build's result with its message in msg. */
static int build_with_fault(const char *file, uint64_t off, size_t len, unsigned jobs,
			    char *msg, size_t size)
{
	char p[256];
	path_in(p, file);
	struct stat st;
	if (stat(p, &st) != 0)
		return 0;
	fault_ino = st.st_ino;
	fault_off = off;
	fault_len = len;
	fault_armed = 1;
	err_clear();
	int rc = build("broken.sfpkg", jobs, CHUNK);
	fault_armed = 0;
	snprintf(msg, size, "%s", err_msg());
	return rc;
}

static void check_fault(const char *file, uint64_t off, size_t len, const char *want_tail)
{
	char want[512], msg1[ERR_MSG_MAX], msg4[ERR_MSG_MAX], p[256];
	path_in(p, file);
	snprintf(want, sizeof(want), "%s: Input/output error at offset %s", p, want_tail);
	CHECK(build_with_fault(file, off, len, 1, msg1, sizeof(msg1)) == -1);
	CHECK_STR_EQ(msg1, want);
	CHECK(!exists("broken.sfpkg") && !exists("broken.sfpkg.tmp"));
	static const unsigned jobs[] = { 2, 4, 0 };
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		CHECK(build_with_fault(file, off, len, jobs[i], msg4, sizeof(msg4)) == -1);
		CHECK_STR_EQ(msg4, want);
		CHECK(!exists("broken.sfpkg") && !exists("broken.sfpkg.tmp"));
	}
}

/* A read error in the middle of a raw image, with windows queued behind it. */
static void test_read_error_in_the_middle_leaves_no_file(void)
{
	check_fault("rand.bin", 40 * CHUNK, CHUNK, "163840");
}

static void test_read_error_in_first_and_last_window(void)
{
	check_fault("rand.bin", 0, CHUNK, "0");
	check_fault("rand.bin", 75 * CHUNK, 123, "307200");
}

/* The RAW data of an Android sparse image, read through the sparse reader's table. */
static void test_read_error_in_sparse_image(void)
{
	check_fault("system.simg", SPARSE_RAW_AT + 10 * BLOCK, BLOCK, "41000");
}

/* After a failed build the same process builds the same bytes again: nothing is left over. */
static void test_build_after_error_is_unchanged(void)
{
	CHECK(build("again.sfpkg", 4, CHUNK) == 0);
	CHECK(same_file("j1.sfpkg", "again.sfpkg") == 1);
}

static void test_job_count_is_bounded(void)
{
	CHECK(build("toomany.sfpkg", 100000, CHUNK) == -1);
	CHECK(strstr(err_msg(), "jobs, expected 1..") != NULL);
	CHECK(!exists("toomany.sfpkg"));
}

int main(void)
{
	setup();
	RUN(test_every_job_count_builds_the_same_bytes);
	RUN(test_zlib_codec_builds_the_same_bytes);
	RUN(test_larger_chunks_build_the_same_bytes);
	RUN(test_read_error_in_the_middle_leaves_no_file);
	RUN(test_read_error_in_first_and_last_window);
	RUN(test_read_error_in_sparse_image);
	RUN(test_build_after_error_is_unchanged);
	RUN(test_job_count_is_bounded);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_EXIT();
}
