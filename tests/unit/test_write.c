/* SPDX-License-Identifier: MIT */
/*
 * The flasher's writers against file targets with real NOR rules: a first flash gives the
 * expected bytes, a second one erases and writes nothing, a changed partition costs only its
 * differing blocks, a header-first partition never looks valid half-written, a target that
 * flips a bit is caught by read-back, a corrupt chunk is never written, and a partition left
 * without an image is blanked erasing only the blocks that hold data.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/error.h"
#include "source/source.h"
#include "target/target.h"
#include "write/pipeline.h"
#include "write/readback.h"
#include "write/write.h"
#include "../../mkflashpkg/build.h"
#include "../../mkflashpkg/inspect.h"
#include "check.h"

#define ERASE 65536
#define NOR_SIZE (1 << 20)
#define DISK_SIZE (4 << 20)
#define CHUNK 16384
/* more threads than this machine may have CPUs: workers and read-back race each other */
#define TEST_THREADS 3

static char dir[] = "/tmp/selfflash-write-XXXXXX";
static char p_pkg[256], p_nor[256], p_disk[256], p_mb1[256], p_cfg[256], p_app[256];
static uint8_t mb1[100000], cfg[3000], app[DISK_SIZE / 2];
/* how much of app the package's APP image holds (all of it but in the whole-partition tests) */
static size_t app_len = sizeof(app);
static _Alignas(TARGET_DIRECT_ALIGN) uint8_t buf_a[1 << 20], buf_b[1 << 20];

static const char *layout_xml =
	"<partition_layout>\n"
	" <device type=\"spi\" instance=\"0\" sector_size=\"512\" num_sectors=\"2048\">\n"
	"  <partition name=\"A_mb1\" type=\"mb1_bootloader\"><size>131072</size><filename>MB1</filename></partition>\n"
	"  <partition name=\"B_mb1\" type=\"mb1_bootloader\"><size>131072</size><filename>MB1</filename></partition>\n"
	"  <partition name=\"cfg\" type=\"data\"><size>131072</size><filename>CFG</filename></partition>\n"
	"  <partition name=\"secondary_gpt\" type=\"secondary_gpt\"><size>0xFFFFFFFFFFFFFFFF</size></partition>\n"
	" </device>\n"
	" <device type=\"nvme\" instance=\"0\" sector_size=\"512\" num_sectors=\"8192\">\n"
	"  <partition name=\"APP\" type=\"data\"><size>2097152</size><filename>APP</filename></partition>\n"
	" </device>\n"
	"</partition_layout>\n";

static int save(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len)
		return -1;
	return fclose(f);
}

static int load(const char *path, uint8_t *data, size_t len, size_t at)
{
	FILE *f = fopen(path, "rb");
	if (!f || fseek(f, (long)at, SEEK_SET) != 0 || fread(data, 1, len, f) != len) {
		if (f)
			fclose(f);
		return -1;
	}
	return fclose(f);
}

static int build_package(void)
{
	if (save(p_mb1, mb1, sizeof(mb1)) || save(p_cfg, cfg, sizeof(cfg)) ||
	    save(p_app, app, app_len))
		return -1;
	struct layout l;
	if (layout_from_xml(layout_xml, strlen(layout_xml), NULL, 0, &l) != 0)
		return -1;
	struct layout_set files[] = { { "MB1", p_mb1 }, { "CFG", p_cfg }, { "APP", p_app } };
	struct build_opts o = { .output = p_pkg, .allow_unsigned = 1, .layout = &l, .files = files,
				.nfiles = 3, .chunk_size = CHUNK, .quiet = 1 };
	int rc = pkg_build(&o);
	layout_free(&l);
	return rc;
}

static int fresh_targets(void)
{
	static uint8_t ff[NOR_SIZE];
	memset(ff, 0xff, sizeof(ff));
	if (save(p_nor, ff, sizeof(ff)) != 0)
		return -1;
	/* the disk starts with old contents that holes must not disturb */
	static uint8_t old[DISK_SIZE];
	memset(old, 0x5a, sizeof(old));
	return save(p_disk, old, sizeof(old));
}

/* A target that passes everything through but fails its Nth write: a cut-off flash. */
struct cutoff {
	struct target inner;
	int writes_left;
};
static struct cutoff cut;

static int cut_read(struct target *t, uint64_t off, void *b, size_t n)
{
	(void)t;
	return cut.inner.ops->read(&cut.inner, off, b, n);
}
static int cut_write(struct target *t, uint64_t off, const void *b, size_t n)
{
	(void)t;
	if (cut.writes_left-- <= 0)
		return err_set("power cut");
	return cut.inner.ops->write(&cut.inner, off, b, n);
}
static int cut_erase(struct target *t, uint64_t off, uint64_t n)
{
	(void)t;
	return cut.inner.ops->erase(&cut.inner, off, n);
}
static int cut_flush(struct target *t)
{
	(void)t;
	return cut.inner.ops->flush(&cut.inner);
}
static void cut_close(struct target *t)
{
	(void)t;
	target_close(&cut.inner);
}
static const struct target_ops cut_ops = { .read = cut_read,
					   .write = cut_write,
					   .erase = cut_erase,
					   .flush = cut_flush,
					   .close = cut_close };

/* A disk that stores one byte wrong: what the concurrent read-back must catch. */
static struct {
	struct target inner;
	uint64_t at;
} dflip;

static int dflip_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	(void)t;
	return dflip.inner.ops->read(&dflip.inner, off, buf, len);
}

static int dflip_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	(void)t;
	if (dflip.at < off || dflip.at >= off + len)
		return dflip.inner.ops->write(&dflip.inner, off, buf, len);
	static uint8_t copy[1 << 20];
	if (len > sizeof(copy))
		return -1;
	memcpy(copy, buf, len);
	copy[dflip.at - off] ^= 0x10;
	return dflip.inner.ops->write(&dflip.inner, off, copy, len);
}

static int dflip_flush(struct target *t)
{
	(void)t;
	return dflip.inner.ops->flush(&dflip.inner);
}

static void dflip_close(struct target *t)
{
	(void)t;
	dflip.inner.ops->close(&dflip.inner);
}
static const struct target_ops dflip_ops = { .read = dflip_read,
					     .write = dflip_write,
					     .flush = dflip_flush,
					     .close = dflip_close };

/*
 * A disk whose medium holds one byte other than the page cache does (a write lost on the
 * way, a card that wraps around): plain reads see the cache, read_direct sees the medium.
 * The read-back must believe the medium.
 */
static struct {
	struct target inner;
	uint64_t at; /* UINT64_MAX: not in use */
} medium = { .at = UINT64_MAX };

static int medium_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	(void)t;
	return medium.inner.ops->read(&medium.inner, off, buf, len);
}

static int medium_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	(void)t;
	return medium.inner.ops->write(&medium.inner, off, buf, len);
}

static int medium_read_direct(struct target *t, uint64_t off, void *buf, size_t len,
			      size_t *got)
{
	(void)t;
	if (medium.inner.ops->read_direct(&medium.inner, off, buf, len, got) != 0)
		return -1;
	if (medium.at >= off && medium.at < off + *got)
		((uint8_t *)buf)[medium.at - off] ^= 0x04;
	return 0;
}

static int medium_flush(struct target *t)
{
	(void)t;
	return medium.inner.ops->flush(&medium.inner);
}

static void medium_close(struct target *t)
{
	(void)t;
	medium.inner.ops->close(&medium.inner);
}
static const struct target_ops medium_ops = { .read = medium_read,
					      .write = medium_write,
					      .flush = medium_flush,
					      .close = medium_close,
					      .read_direct = medium_read_direct };

/*
 * A disk that says it zeroed a range and did not (firmware that ignores WRITE ZEROES, a
 * discard that leaves the old data): the read-back of the hole must catch it.
 */
static struct target liar_inner;

static int liar_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	(void)t;
	return liar_inner.ops->read(&liar_inner, off, buf, len);
}

static int liar_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	(void)t;
	return liar_inner.ops->write(&liar_inner, off, buf, len);
}

static int liar_read_direct(struct target *t, uint64_t off, void *buf, size_t len, size_t *got)
{
	(void)t;
	return liar_inner.ops->read_direct(&liar_inner, off, buf, len, got);
}

static int liar_zero(struct target *t, uint64_t off, uint64_t len)
{
	(void)t;
	(void)off;
	(void)len;
	return 0; /* "done" */
}

static int liar_flush(struct target *t)
{
	(void)t;
	return liar_inner.ops->flush(&liar_inner);
}

static void liar_close(struct target *t)
{
	(void)t;
	liar_inner.ops->close(&liar_inner);
}
static const struct target_ops liar_ops = { .read = liar_read,
					    .write = liar_write,
					    .flush = liar_flush,
					    .close = liar_close,
					    .read_direct = liar_read_direct,
					    .zero = liar_zero };

/*
 * Writes and reads back every image of the package; nor_flip / nor_cut / disk_flip inject
 * faults. `threaded` runs it the way the flasher does: chunks through the pipeline, the disk
 * read back beside the writer. Returns 0 or -1; stats for the NOR and the disk separately.
 */
/* flash_with() looks for chunks on the targets first (delta) while this is set */
static int use_delta;
/* what the last flash_with's write_images found on the board */
static struct write_delta delta_found;
/* flash_with() writes whole partitions, as an update does (write_plan.whole_partitions) */
static int use_whole;
/* flash_with() gives the disk a zero operation that does nothing */
static int use_liar;

static int flash_with(uint64_t nor_flip, int nor_cut_after, uint64_t disk_flip, int threaded,
		      struct write_stats *nor, struct write_stats *disk)
{
	memset(nor, 0, sizeof(*nor));
	memset(disk, 0, sizeof(*disk));
	struct pkg_file f;
	if (pkg_file_open(p_pkg, &f) != 0)
		return -1;
	if (pkg_file_decode_unverified(&f) != 0) {
		pkg_file_close(&f);
		return -1;
	}
	struct target targets[2];
	if (target_open_nor_file(&targets[0], p_nor, ERASE, nor_flip) != 0) {
		pkg_file_close(&f);
		return -1;
	}
	if (nor_cut_after >= 0) {
		cut.inner = targets[0];
		cut.writes_left = nor_cut_after;
		targets[0].ops = &cut_ops;
	}
	if (target_open_block(&targets[1], p_disk) != 0) {
		target_close(&targets[0]);
		pkg_file_close(&f);
		return -1;
	}
	if (disk_flip != UINT64_MAX) {
		dflip.inner = targets[1];
		dflip.at = disk_flip;
		targets[1].ops = &dflip_ops;
	}
	if (use_liar) {
		liar_inner = targets[1];
		targets[1].ops = &liar_ops;
	}
	if (medium.at != UINT64_MAX) {
		if (!targets[1].ops->read_direct) {
			err_set("%s: no O_DIRECT here (%s)", p_disk, targets[1].direct_error);
			target_close(&targets[0]);
			target_close(&targets[1]);
			pkg_file_close(&f);
			return -1;
		}
		medium.inner = targets[1];
		targets[1].ops = &medium_ops;
	}
	struct file_source fs;
	file_source_init(&fs, f.fd, PKG_MANIFEST_OFFSET + f.header.manifest_size);
	/* the flasher's own write loop (write.h), with the package placed as the layout says */
	static struct pkg_partition parts[PKG_MAX_PARTITIONS];
	for (uint32_t i = 0; i < f.manifest.partition_count; i++)
		pkg_manifest_partition(&f.manifest, i, &parts[i]);
	static uint8_t raw[1 << 20], stored[1 << 20];
	struct write_plan w = { .m = &f.manifest, .variant = 0, .parts = parts,
				.targets = targets, .src = &fs.src, .raw = raw, .stored = stored,
				.chunk_buf = sizeof(raw), .buf_a = buf_a, .buf_b = buf_b,
				.buf_size = sizeof(buf_a), .threads = threaded ? TEST_THREADS : -1,
				.delta = use_delta, .whole_partitions = use_whole,
				.parallel = threaded };
	struct write_stats by_kind[TARGET_KIND_COUNT] = { { 0 } };
	int rc = write_images(&w, by_kind, &delta_found);
	*nor = by_kind[TARGET_KIND_NOR];
	*disk = by_kind[TARGET_KIND_DISK];
	target_close(&targets[0]);
	target_close(&targets[1]);
	pkg_file_close(&f);
	return rc;
}

static int flash(uint64_t nor_flip, int nor_cut_after, struct write_stats *nor,
		 struct write_stats *disk)
{
	return flash_with(nor_flip, nor_cut_after, UINT64_MAX, 0, nor, disk);
}

static int window_has_data(size_t w)
{
	for (size_t i = w * CHUNK; i < (w + 1) * CHUNK && i < sizeof(app); i++)
		if (app[i])
			return 1;
	return 0;
}

static uint64_t app_data_bytes(void)
{
	uint64_t n = 0;
	for (size_t w = 0; w * CHUNK < sizeof(app); w++)
		if (window_has_data(w))
			n += CHUNK;
	return n;
}

/* The targets hold exactly what the package says, and nothing else changed. */
static int targets_as_expected(void)
{
	static uint8_t nor[NOR_SIZE], disk[DISK_SIZE];
	if (load(p_nor, nor, sizeof(nor), 0) || load(p_disk, disk, sizeof(disk), 0))
		return 0;
	static uint8_t want[NOR_SIZE];
	memset(want, 0xff, sizeof(want));
	memcpy(want, mb1, sizeof(mb1));
	memcpy(want + 131072, mb1, sizeof(mb1));
	memcpy(want + 262144, cfg, sizeof(cfg));
	if (memcmp(nor, want, sizeof(nor)) != 0)
		return 0;
	/* APP: chunk windows holding data are written whole; holes (disk: skipped) keep 0x5a */
	for (size_t w = 0; w * CHUNK < sizeof(app); w++) {
		int has_data = window_has_data(w);
		for (size_t i = w * CHUNK; i < (w + 1) * CHUNK && i < sizeof(app); i++)
			if (disk[i] != (has_data ? app[i] : 0x5a))
				return 0;
	}
	for (size_t i = sizeof(app); i < sizeof(disk); i++)
		if (disk[i] != 0x5a)
			return 0;
	return 1;
}

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	snprintf(p_pkg, sizeof(p_pkg), "%s/p.sfpkg", dir);
	snprintf(p_nor, sizeof(p_nor), "%s/qspi.img", dir);
	snprintf(p_disk, sizeof(p_disk), "%s/disk.img", dir);
	snprintf(p_mb1, sizeof(p_mb1), "%s/mb1.bin", dir);
	snprintf(p_cfg, sizeof(p_cfg), "%s/cfg.bin", dir);
	snprintf(p_app, sizeof(p_app), "%s/app.img", dir);
	srand(7);
	for (size_t i = 0; i < sizeof(mb1); i++)
		mb1[i] = (uint8_t)rand();
	for (size_t i = 0; i < sizeof(cfg); i++)
		cfg[i] = (uint8_t)(i % 7);
	/* APP: two data runs with a 1 MiB hole between them */
	for (size_t i = 0; i < 200000; i++)
		app[i] = (uint8_t)(rand() | 1);
	for (size_t i = 900000; i < sizeof(app); i++)
		app[i] = (uint8_t)(i % 251 + 1);
}

static void test_first_flash_writes_exactly_the_package(void)
{
	struct write_stats nor, disk;
	CHECK(build_package() == 0);
	CHECK(fresh_targets() == 0);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	CHECK(targets_as_expected());
	/* blank flash: nothing to erase; 2 + 2 + 1 blocks written */
	CHECK(nor.blocks_erased == 0);
	CHECK(nor.blocks_written == 5);
	/* only pages that hold image bytes are programmed, not the erased rest of each block
	 * (programming 0xFF costs a NOR part its page time for nothing): both mb1 copies' 100000
	 * bytes in 256-byte pages (their 4 KiB header page last, on its own), cfg's 3000 */
	CHECK(nor.bytes_written == 2 * 100096 + 3072);
	CHECK(disk.bytes_written == app_data_bytes() && disk.bytes_read_back == app_data_bytes());
	CHECK(app_data_bytes() == 13 * CHUNK + 74 * CHUNK);
}

static void test_second_flash_erases_and_writes_nothing(void)
{
	struct write_stats nor, disk;
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	/* 5 blocks of images, and cfg's second block, past its image, found erased */
	CHECK(nor.blocks_compared == 6 && nor.blocks_skipped == 6);
	CHECK(nor.blocks_erased == 0 && nor.blocks_written == 0 && nor.bytes_written == 0);
	CHECK(targets_as_expected());
}

static void test_changed_partition_costs_only_its_differing_blocks(void)
{
	struct write_stats nor, disk;
	cfg[100] ^= 0xff; /* "cfg" is not header-first: exactly one block differs */
	CHECK(build_package() == 0);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	CHECK(nor.blocks_erased == 1 && nor.blocks_written == 1);
	CHECK(targets_as_expected());
}

static void test_header_first_partition_never_looks_valid_half_written(void)
{
	struct write_stats nor, disk;
	const uint8_t old = mb1[80000];
	mb1[80000] ^= 0xff; /* second block of both mb1 partitions; their headers are unchanged */
	CHECK(build_package() == 0);
	/* the power fails on the second write: after the header was taken away */
	CHECK(flash(UINT64_MAX, 1, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "power cut") != NULL);
	static uint8_t page[4096], erased[4096];
	memset(erased, 0xff, sizeof(erased));
	CHECK(load(p_nor, page, sizeof(page), 0) == 0);
	CHECK(memcmp(page, erased, sizeof(page)) == 0);
	/* the other slot is untouched: its header and its old bytes are still there */
	CHECK(load(p_nor, page, sizeof(page), 131072) == 0);
	CHECK(memcmp(page, mb1, sizeof(page)) == 0);
	uint8_t b;
	CHECK(load(p_nor, &b, 1, 131072 + 80000) == 0 && b == old);
	/* a full run then writes each partition's header block and the changed block, header
	 * last; A_mb1's second block was erased before the cut, so it needs no erase now */
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	CHECK(nor.blocks_erased == 3 && nor.blocks_written == 4);
	CHECK(targets_as_expected());
}

static void test_bit_flipping_target_is_caught_by_read_back(void)
{
	struct write_stats nor, disk;
	cfg[5] ^= 0x01;
	CHECK(build_package() == 0);
	CHECK(flash(262144 + 5, -1, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "partition cfg: read-back mismatch at device offset 262149") != NULL);
}

static void test_corrupt_chunk_is_never_written(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	/* damage the last stored byte: APP's last chunk */
	int fd = open(p_pkg, O_RDWR);
	CHECK(fd >= 0);
	off_t end = lseek(fd, 0, SEEK_END);
	uint8_t b;
	CHECK(pread(fd, &b, 1, end - 1) == 1);
	b ^= 0x20;
	CHECK(pwrite(fd, &b, 1, end - 1) == 1);
	close(fd);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "partition APP") && strstr(err_msg(), "CRC32"));
	/* the QSPI images before it were written; APP's damaged chunk was not */
	static uint8_t tail[16384];
	CHECK(load(p_disk, tail, sizeof(tail), sizeof(app) - sizeof(tail)) == 0);
	for (size_t i = 0; i < sizeof(tail); i++)
		CHECK(tail[i] == 0x5a);
}

/*
 * With several workers, chunks after a damaged one may be fetched and verified before the
 * writer reaches it; none of them is written, and the error names the damaged chunk.
 */
static void test_threaded_flash_stops_at_a_damaged_chunk(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	struct pkg_file f;
	CHECK(pkg_file_open(p_pkg, &f) == 0);
	CHECK(pkg_file_decode_unverified(&f) == 0);
	struct pkg_chunk bad = { 0 };
	uint32_t bad_index = UINT32_MAX;
	for (uint32_t i = 0; i < f.manifest.image_count; i++) {
		struct pkg_image im;
		struct pkg_partition part;
		pkg_manifest_image(&f.manifest, i, &im);
		pkg_manifest_partition(&f.manifest, im.partition, &part);
		if (strcmp(part.name, "APP") != 0)
			continue;
		bad_index = im.first_chunk + im.chunk_count / 2;
		pkg_manifest_chunk(&f.manifest, bad_index, &bad);
	}
	uint64_t at = PKG_MANIFEST_OFFSET + f.header.manifest_size + bad.stored_offset +
		      bad.stored_size / 2;
	pkg_file_close(&f);
	CHECK(bad_index != UINT32_MAX);
	int fd = open(p_pkg, O_RDWR);
	CHECK(fd >= 0);
	uint8_t b;
	CHECK(pread(fd, &b, 1, (off_t)at) == 1);
	b ^= 0x01;
	CHECK(pwrite(fd, &b, 1, (off_t)at) == 1);
	close(fd);
	CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk) == -1);
	char want[64];
	snprintf(want, sizeof(want), "chunk %" PRIu32 ":", bad_index);
	CHECK(strstr(err_msg(), want) != NULL);
	static uint8_t rest[DISK_SIZE];
	CHECK(load(p_disk, rest, sizeof(rest), 0) == 0);
	for (uint64_t i = bad.offset; i < sizeof(rest); i++)
		if (rest[i] != 0x5a) {
			fprintf(stderr, "  disk byte %" PRIu64 " written after the damaged chunk\n", i);
			CHECK(rest[i] == 0x5a);
			break;
		}
}

static void test_threaded_flash_writes_exactly_the_package(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk) == 0);
	CHECK(targets_as_expected());
	CHECK(disk.bytes_read_back == app_data_bytes());
}

/*
 * Delta on the threaded path (the flasher's): a re-flash finds every chunk where it goes and
 * fetches and writes nothing; one byte changed on the disk gets exactly its chunk fetched and
 * written; the targets end as the package says each time.
 */
static void test_threaded_delta_fetches_and_writes_only_what_differs(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	use_delta = 1;
	int rc = flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk);
	use_delta = 0;
	CHECK(rc == 0 && targets_as_expected());
	CHECK(delta_found.chunks_in_place == 0 && delta_found.chunks_fetched > 0);

	use_delta = 1;
	rc = flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk);
	use_delta = 0;
	CHECK(rc == 0 && targets_as_expected());
	CHECK(delta_found.chunks_fetched == 0 && delta_found.bytes_fetched == 0);
	CHECK(disk.bytes_written == 0 && disk.bytes_in_place == app_data_bytes());
	CHECK(nor.blocks_erased == 0 && nor.blocks_written == 0);

	int fd = open(p_disk, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, "?", 1, 950001) == 1 && close(fd) == 0);
	use_delta = 1;
	rc = flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk);
	use_delta = 0;
	CHECK(rc == 0 && targets_as_expected());
	CHECK(delta_found.chunks_fetched == 1 && disk.bytes_written == CHUNK);
	CHECK(disk.bytes_in_place == app_data_bytes() - CHUNK);
}

static void test_concurrent_read_back_catches_a_bad_disk(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	CHECK(flash_with(UINT64_MAX, -1, 950000, 1, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "partition APP: read-back of") != NULL);
	CHECK(strstr(err_msg(), "does not match its SHA-256") != NULL);
	/* and the same bad disk without threads: the same verdict */
	CHECK(fresh_targets() == 0);
	CHECK(flash_with(UINT64_MAX, -1, 950000, 0, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "partition APP: read-back of") != NULL);
}

static void test_read_back_believes_the_medium_not_the_page_cache(void)
{
	struct write_stats nor, disk;
	CHECK(fresh_targets() == 0);
	CHECK(build_package() == 0);
	medium.at = 950001;
	CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "partition APP: read-back of") != NULL);
	CHECK(strstr(err_msg(), "does not match its SHA-256") != NULL);
	CHECK(fresh_targets() == 0);
	CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, 0, &nor, &disk) == -1);
	CHECK(strstr(err_msg(), "does not match its SHA-256") != NULL);
	/* a byte in a hole the image leaves alone is not read back, so not judged */
	CHECK(fresh_targets() == 0);
	medium.at = 500000;
	CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, 1, &nor, &disk) == 0);
	CHECK(targets_as_expected());
	medium.at = UINT64_MAX;
}

/* The disk holds APP's image over the whole partition (zeros where the image has none), and
 * the rest of the disk (past the 2 MiB partition) still holds what it held (0x5a). */
static int app_partition_is_the_image(int tell)
{
	static uint8_t disk[DISK_SIZE];
	if (load(p_disk, disk, sizeof(disk), 0))
		return 0;
	for (size_t i = 0; i < DISK_SIZE; i++) {
		uint8_t want = i < app_len ? app[i] : i < sizeof(app) ? 0 : 0x5a;
		if (disk[i] != want) {
			if (tell)
				fprintf(stderr, "  disk byte %zu: 0x%02x, want 0x%02x\n", i, disk[i],
					want);
			return 0;
		}
	}
	return 1;
}

/*
 * An update (whole_partitions) over a disk that holds other bytes (0x5a): the partition ends
 * as the image byte for byte, its hole (200000..900000) and its tail past the image's end
 * (an odd 1500001 bytes, up to the 2 MiB partition) zeroed, mostly by the file system (a
 * punched hole), and every byte of the partition read back; with threads and without. A
 * first flash without the image's flag leaves both as they were.
 */
static void test_whole_partition_holes_and_tail_zeroed_and_read_back(void)
{
	struct write_stats nor, disk;
	app_len = 1500001;
	CHECK(build_package() == 0);
	/* the windows holding data: 0..12, and 54..90 whole, 91 up to the image's end */
	const uint64_t data = 13 * CHUNK + 37 * CHUNK + (app_len - 91 * CHUNK);
	for (int threaded = 0; threaded < 2; threaded++) {
		CHECK(fresh_targets() == 0);
		use_whole = 1;
		CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, threaded, &nor, &disk) == 0);
		use_whole = 0;
		CHECK(app_partition_is_the_image(1));
		CHECK(disk.bytes_written == data);
		CHECK(disk.bytes_zeroed == sizeof(app) - data);
		CHECK(disk.bytes_zeroed_cheaply > disk.bytes_zeroed * 9 / 10);
		CHECK(disk.bytes_read_back == sizeof(app));
	}
	/* a first flash: the hole and the tail keep 0x5a */
	CHECK(fresh_targets() == 0);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	CHECK(!app_partition_is_the_image(0));
	CHECK(disk.bytes_zeroed == 0 && disk.bytes_read_back == data);
	app_len = sizeof(app);
}

/*
 * A hole the writer "forgot": a device whose zeroing does nothing, and one that stores a byte
 * of the zeros wrong, in the hole and in the tail. The read-back of the holes catches each,
 * naming the byte; threaded and not.
 */
static void test_hole_not_zeroed_fails_read_back(void)
{
	struct write_stats nor, disk;
	app_len = 1500001;
	CHECK(build_package() == 0);
	use_whole = 1;
	for (int threaded = 0; threaded < 2; threaded++) {
		CHECK(fresh_targets() == 0);
		use_liar = 1;
		CHECK(flash_with(UINT64_MAX, -1, UINT64_MAX, threaded, &nor, &disk) == -1);
		use_liar = 0;
		CHECK(strstr(err_msg(), "partition APP: read back 0x5a at offset") != NULL);
		CHECK(strstr(err_msg(), "where the image has a hole (zeros)") != NULL);
		const uint64_t flips[] = { 500000, 2000000 }; /* the hole, the tail */
		for (size_t k = 0; k < 2; k++) {
			char want[80];
			snprintf(want, sizeof(want), "read back 0x10 at offset %" PRIu64 " ", flips[k]);
			CHECK(fresh_targets() == 0);
			CHECK(flash_with(UINT64_MAX, -1, flips[k], threaded, &nor, &disk) == -1);
			CHECK(strstr(err_msg(), want) != NULL);
		}
	}
	use_whole = 0;
	app_len = sizeof(app);
}

/*
 * readback_check_range on its own, around the cache: ranges that start and end inside an
 * aligned block, and a device whose size is not a multiple of the alignment. A changed byte
 * just inside the range is caught; one just outside is not looked at.
 */
static void test_uncached_read_back_of_unaligned_ranges(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/odd.img", dir);
	static uint8_t dev[3 * 4096 + 1536];
	for (size_t i = 0; i < sizeof(dev); i++)
		dev[i] = (uint8_t)(i * 13 + 1);
	const uint64_t part = 512;
	const struct {
		uint64_t off, len;
	} ranges[] = { { 1000, 12000 }, { 1000, sizeof(dev) - part - 1000 }, { 0, 7 }, { 3583, 2 } };
	/* two aligned blocks: the longer ranges take several reads */
	static _Alignas(TARGET_DIRECT_ALIGN) uint8_t small[2 * TARGET_DIRECT_ALIGN];
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		struct pkg_chunk c = { .offset = ranges[r].off, .raw_size = (uint32_t)ranges[r].len };
		sha256_buffer(dev + part + ranges[r].off, ranges[r].len, c.sha256);
		const uint64_t first = part + ranges[r].off, last = first + ranges[r].len - 1;
		const uint64_t flips[] = { UINT64_MAX, first - 1, last + 1, first, last };
		const int caught[] = { 0, 0, 0, 1, 1 };
		for (size_t k = 0; k < sizeof(flips) / sizeof(flips[0]); k++) {
			if (flips[k] != UINT64_MAX && flips[k] >= sizeof(dev))
				continue;
			if (flips[k] != UINT64_MAX)
				dev[flips[k]] ^= 0x80;
			CHECK(save(path, dev, sizeof(dev)) == 0);
			if (flips[k] != UINT64_MAX)
				dev[flips[k]] ^= 0x80;
			struct target t;
			CHECK(target_open_block(&t, path) == 0);
			CHECK(t.ops->read_direct != NULL); /* files under /tmp allow O_DIRECT */
			if (!t.ops->read_direct) {
				fprintf(stderr, "  %s: %s\n", path, t.direct_error);
				target_close(&t);
				return;
			}
			struct image_job job = { .buf_a = small, .buf_size = sizeof(small) };
			snprintf(job.part.name, sizeof(job.part.name), "odd");
			job.part.offset = part;
			struct write_stats st = { 0 };
			int rc = readback_check_range(&t, &job, &c, ranges[r].off, ranges[r].len, &st);
			if (rc != (caught[k] ? -1 : 0))
				fprintf(stderr,
					"  range %" PRIu64 "+%" PRIu64 ", byte %" PRIu64 " changed: %s\n",
					ranges[r].off, ranges[r].len, flips[k], rc ? err_msg() : "passed");
			CHECK(rc == (caught[k] ? -1 : 0));
			CHECK(rc != 0 || st.bytes_read_back == ranges[r].len);
			target_close(&t);
		}
	}
}

/* A partition a first flash leaves without an image is blanked: only the blocks that hold
 * data are erased, a neighbour sharing a block keeps its bytes, and a second pass erases
 * nothing; a bit that does not come back erased is caught. */
/* A NOR partition holds its image and nothing else: bytes an older, longer image left after
 * the new one's end (in the image's last block and in blocks past it) are erased, as NVIDIA's
 * flash leaves them, so the partition as a whole is what the package says. */
static void test_nor_partition_past_its_image_is_erased(void)
{
	struct write_stats nor, disk;
	CHECK(build_package() == 0);
	CHECK(fresh_targets() == 0);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	static uint8_t q[NOR_SIZE];
	CHECK(load(p_nor, q, sizeof(q), 0) == 0);
	q[sizeof(mb1) + 5] = 0x00;      /* A_mb1: after the image, in its last block */
	q[262144 + sizeof(cfg)] = 0x00; /* cfg: right after the image */
	q[262144 + ERASE + 7] = 0x00;   /* cfg: its second block, no image byte in it */
	CHECK(save(p_nor, q, sizeof(q)) == 0);
	CHECK(flash(UINT64_MAX, -1, &nor, &disk) == 0);
	CHECK(targets_as_expected());
	/* A_mb1 (header-first): its header block taken away first, then its last block; cfg's
	 * image block; cfg's block past the image erased and not written */
	CHECK(nor.blocks_erased == 4 && nor.blocks_written == 3);
}

static void test_blank_erases_only_blocks_with_data(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/blank.img", dir);
	static uint8_t dev[4 * ERASE], got[4 * ERASE];
	memset(dev, 0xff, sizeof(dev));
	memset(dev, 0x11, ERASE / 2);                 /* neighbour in block 0 */
	memset(dev + ERASE / 2 + 100, 0x22, 10);      /* stale data in the partition, block 0 */
	memset(dev + 2 * ERASE + 5, 0x33, 1);         /* and in block 2; block 1 already blank */
	memset(dev + 3 * ERASE + ERASE / 2, 0x44, 8); /* neighbour after the end, block 3 */
	CHECK(save(path, dev, sizeof(dev)) == 0);
	struct pkg_partition part = { .name = "uefi_variables", .offset = ERASE / 2,
				      .size = 3 * ERASE };
	struct target t;
	CHECK(target_open_nor_file(&t, path, ERASE, UINT64_MAX) == 0);
	struct write_stats st = { 0 };
	int rc = write_nor_blank(&t, &part, buf_a, buf_b, sizeof(buf_a), &st);
	target_close(&t);
	CHECK(rc == 0);
	CHECK(st.blocks_compared == 4 && st.blocks_erased == 2 && st.blocks_skipped == 2);
	CHECK(st.blocks_written == 1); /* block 0 gave its neighbour's bytes back */
	CHECK(load(path, got, sizeof(got), 0) == 0);
	memset(dev + ERASE / 2, 0xff, 3 * ERASE);
	CHECK(memcmp(got, dev, sizeof(dev)) == 0);

	CHECK(target_open_nor_file(&t, path, ERASE, UINT64_MAX) == 0);
	memset(&st, 0, sizeof(st));
	rc = write_nor_blank(&t, &part, buf_a, buf_b, sizeof(buf_a), &st);
	target_close(&t);
	CHECK(rc == 0 && st.blocks_erased == 0 && st.blocks_skipped == 4);

	/* a partition past the device's end is refused before anything is erased */
	CHECK(target_open_nor_file(&t, path, ERASE, UINT64_MAX) == 0);
	struct pkg_partition past = { .name = "past", .offset = 3 * ERASE, .size = 2 * ERASE };
	rc = write_nor_blank(&t, &past, buf_a, buf_b, sizeof(buf_a), &st);
	target_close(&t);
	CHECK(rc == -1 && strstr(err_msg(), "past") != NULL);

	/* a device that flips a bit of what it is given back is caught by the read-back */
	memset(dev + ERASE / 2 + 100, 0x22, 10);
	CHECK(save(path, dev, sizeof(dev)) == 0);
	CHECK(target_open_nor_file(&t, path, ERASE, 7) == 0);
	rc = write_nor_blank(&t, &part, buf_a, buf_b, sizeof(buf_a), &st);
	target_close(&t);
	CHECK(rc == -1 && strstr(err_msg(), "read-back after erase at device offset 7") != NULL);
}

int main(void)
{
	setup();
	RUN(test_first_flash_writes_exactly_the_package);
	RUN(test_second_flash_erases_and_writes_nothing);
	RUN(test_changed_partition_costs_only_its_differing_blocks);
	RUN(test_header_first_partition_never_looks_valid_half_written);
	RUN(test_bit_flipping_target_is_caught_by_read_back);
	RUN(test_corrupt_chunk_is_never_written);
	RUN(test_threaded_flash_writes_exactly_the_package);
	RUN(test_threaded_flash_stops_at_a_damaged_chunk);
	RUN(test_threaded_delta_fetches_and_writes_only_what_differs);
	RUN(test_concurrent_read_back_catches_a_bad_disk);
	RUN(test_read_back_believes_the_medium_not_the_page_cache);
	RUN(test_whole_partition_holes_and_tail_zeroed_and_read_back);
	RUN(test_hole_not_zeroed_fails_read_back);
	RUN(test_uncached_read_back_of_unaligned_ranges);
	RUN(test_blank_erases_only_blocks_with_data);
	RUN(test_nor_partition_past_its_image_is_erased);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_EXIT();
}
