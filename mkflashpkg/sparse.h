/* SPDX-License-Identifier: MIT */
/* Android sparse images (AOSP libsparse, DESIGN.md §10) read as extents: data, fill, hole. */
#ifndef SELFFLASH_SPARSE_H
#define SELFFLASH_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#define SPARSE_MAGIC 0xED26FF3Au
#define SPARSE_FILE_HEADER_SIZE 28u  /* the smallest file header: version 1.0 */
#define SPARSE_CHUNK_HEADER_SIZE 12u /* the smallest chunk header */
/* Largest expanded image accepted (1 PiB): a bound far above any partition, low enough that
 * every size derived from it fits 64-bit arithmetic with room to spare. */
#define SPARSE_MAX_IMAGE_SIZE (1ull << 50)

enum sparse_chunk_type {
	SPARSE_CHUNK_RAW = 0xCAC1,
	SPARSE_CHUNK_FILL = 0xCAC2,
	SPARSE_CHUNK_DONT_CARE = 0xCAC3,
	SPARSE_CHUNK_CRC32 = 0xCAC4,
};

enum sparse_extent_kind {
	SPARSE_EXTENT_HOLE, /* DONT_CARE, or a FILL of zeros: nothing to store */
	SPARSE_EXTENT_DATA, /* RAW: bytes at file_offset in the sparse file */
	SPARSE_EXTENT_FILL, /* FILL with a non-zero 4-byte pattern */
};

/* One run of the expanded image. The extents of an image tile [0, size) in order. */
struct sparse_extent {
	uint64_t offset;      /* in the expanded image */
	uint64_t length;      /* > 0, a multiple of the block size */
	uint64_t file_offset; /* DATA: where its bytes start in the sparse file */
	uint8_t fill[4];      /* FILL: the pattern, in file order */
	uint32_t kind;        /* enum sparse_extent_kind */
};

/* Where the sparse file's bytes come from (a file for mkflashpkg, memory for tests). */
struct sparse_source {
	/* Reads exactly len bytes at off (off + len <= size); 0, or -1 with err_set(). */
	int (*read)(void *ctx, void *buf, size_t len, uint64_t off);
	void *ctx;
	uint64_t size; /* the sparse file's size in bytes */
};

/* A checked sparse image. Owns `extents`; release with sparse_free_image(). */
struct sparse_image {
	uint32_t block_size;
	uint32_t total_blocks;
	uint64_t size; /* expanded size: total_blocks × block_size */
	struct sparse_extent *extents;
	size_t count;
};

/*
 * Whether the source starts with the sparse magic (little-endian 0xED26FF3A): 1 yes, 0 no
 * (also for files shorter than 4 bytes), -1 when reading failed (err_msg() says why).
 */
int sparse_detect_image(const struct sparse_source *src);

/*
 * Reads and checks the whole sparse file: headers, every chunk's sizes against the header's
 * block size, the file's end and the image's end, the block and chunk totals, and, when the
 * file has CRC32 chunks or a non-zero image checksum, the CRC-32 of the expanded image (this
 * reads every RAW byte once). On success fills `out` (the caller frees it with
 * sparse_free_image) and returns 0; on failure returns -1 with err_msg() naming the chunk,
 * what was expected and what was found, and `out` holds nothing to free.
 */
int sparse_parse_image(const struct sparse_source *src, struct sparse_image *out);

/*
 * Fills buf with bytes [off, off + len) of the expanded image. Returns 1 when that whole range
 * is a hole (buf is left untouched and nothing is read), 0 when buf holds the bytes (holes
 * inside the range read as zeros, fills as their pattern), -1 with err_msg() set when the range
 * runs past the image or reading failed.
 */
int sparse_read_range(const struct sparse_image *im, const struct sparse_source *src,
		      uint64_t off, void *buf, size_t len);

/* Releases what sparse_parse_image() allocated; safe on a zeroed struct. */
void sparse_free_image(struct sparse_image *im);

#endif
