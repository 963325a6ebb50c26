/* SPDX-License-Identifier: MIT */
/*
 * The bytes an image defines, read by offset: chunk data fetched from the package source,
 * unpacked and checked against its SHA-256 before anyone sees it; holes read as zeros.
 */
#ifndef SELFFLASH_IMAGE_READER_H
#define SELFFLASH_IMAGE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"
#include "source/source.h"

struct pipeline;

struct image_reader {
	const struct pkg_manifest *m;
	struct pkg_image im;
	struct chunk_source *src;
	struct pipeline *pipe;  /* when set, chunks come from it instead of src */
	uint8_t *raw, *stored;  /* each room for the largest chunk */
	const uint8_t *current; /* the unpacked bytes of chunk `cached` */
	uint32_t cached;        /* chunk index held, or UINT32_MAX */
	int cached_where;       /* where it came from (enum locate_where) */
	/* an image made on the board (the QSPI GPT): its bytes, as one chunk with their SHA-256 */
	const uint8_t *mem;
	struct pkg_chunk mem_chunk;
	/* holes are walked (written and read back as zeros) up to here: 0, none (a disk writer
	 * leaves them); im.size when the image is flagged PKG_IMAGE_ZERO_HOLES; the partition's
	 * size when the whole partition is to equal the image (image_reader_zero_through) */
	uint64_t zero_end;
};

/*
 * Prepares a reader for image im; raw and stored are caller-owned buffers of at least
 * `buf_size` bytes, which must hold the image's largest chunk (checked).
 */
int image_reader_init(struct image_reader *r, const struct pkg_manifest *m,
		      const struct pkg_image *im, struct chunk_source *src, uint8_t *raw,
		      uint8_t *stored, size_t buf_size);

/*
 * Prepares a reader for an image held in memory (size bytes at bytes, which must stay valid:
 * the QSPI GPT made on the board, a NOR image spooled from checked chunks): it reads, views
 * and walks like a package image of one chunk, so the same writers and read-back checks serve
 * it. 0 or -1.
 */
int image_reader_init_memory(struct image_reader *r, const uint8_t *bytes, uint32_t size);

/*
 * From now on the walk gives every hole of the image and, as one more hole, the bytes from the
 * image's end to `end` (the partition's size): the whole partition is to equal the image, zeros
 * where it has none. 0, or -1 when end is before the image's end.
 */
int image_reader_zero_through(struct image_reader *r, uint64_t end);

/* Takes chunks from a started pipeline (pipeline.h) rather than fetching them itself. */
void image_reader_use_pipeline(struct image_reader *r, struct pipeline *pipe);

/* Fills buf with image bytes [off, off + len) (holes: zeros); 0 or -1. */
int image_read(struct image_reader *r, uint64_t off, uint8_t *buf, size_t len);

/*
 * Image bytes [off, off + len) of chunk c (a chunk image_walk gave), without copying them: a
 * pointer into the unpacked, verified chunk, valid until the next read or view. NULL with
 * err_msg() when the chunk cannot be had or the range is not inside it.
 */
const uint8_t *image_view(struct image_reader *r, const struct pkg_chunk *c, uint64_t off,
			  size_t len);

/*
 * Whether chunk c (a chunk image_walk gave) is already where the image puts it on the target
 * (found there by the delta prober and checked): 1 yes, 0 no, -1 with err_msg() when the chunk
 * cannot be had.
 */
int image_chunk_in_place(struct image_reader *r, const struct pkg_chunk *c);

/*
 * Walks an image in order: fn gets each chunk (c, its offset and raw size) and each hole
 * (c == NULL) before zero_end: with the image's flag its holes, after image_reader_zero_through
 * also the rest of the partition. Stops at the first non-zero return.
 */
typedef int (*image_walk_fn)(void *ctx, const struct pkg_chunk *c, uint64_t off, uint64_t len);
int image_walk(const struct image_reader *r, image_walk_fn fn, void *ctx);

/* The largest raw chunk of a manifest (1 if it has none). */
uint32_t image_largest_chunk(const struct pkg_manifest *m);

#endif
