/* SPDX-License-Identifier: MIT */
/*
 * Delta: finds a chunk that is already on the board, so it is neither fetched nor written.
 * Before a chunk is fetched, what the target holds at the chunk's place is read from the
 * medium (O_DIRECT on disks) and hashed: equal to the chunk's SHA-256 means "in place" (an
 * identical re-flash fetches and writes nothing). A second place may be given per partition
 * (the running slot, during an update): a chunk found there is copied on the board instead of
 * fetched. What is found is read again and re-hashed when it is used, so nothing unchecked is
 * ever written or skipped.
 */
#ifndef SELFFLASH_LOCATE_H
#define SELFFLASH_LOCATE_H

#include <stddef.h>
#include <stdint.h>

#include "pkg.h"
#include "target/target.h"

enum locate_where {
	LOCATE_UNKNOWN = 0, /* not looked for yet */
	LOCATE_ABSENT,      /* to be fetched */
	LOCATE_IN_PLACE,    /* the target already holds it where it goes */
	LOCATE_ELSEWHERE,   /* another place on the board holds it: copied from there */
};

struct chunk_locator {
	const struct pkg_manifest *m;
	uint32_t *chunk_part;              /* chunk index -> partition index, UINT32_MAX: none */
	const struct pkg_partition *parts; /* as placed */
	struct target *targets;            /* indexed like the manifest's targets */
	/* may be NULL: for partition i, alt_parts[i] (size 0: none; its target indexes targets)
	 * holds the same layout (the running slot's copy of it) */
	const struct pkg_partition *alt_parts;
};

/*
 * Prepares a locator for the images of `variant`. parts, targets and alt_parts (may be NULL)
 * must outlive it. 0 or -1 (out of memory).
 */
int locate_init(struct chunk_locator *l, const struct pkg_manifest *m, uint32_t variant,
		const struct pkg_partition *parts, struct target *targets,
		const struct pkg_partition *alt_parts);

void locate_free(struct chunk_locator *l);

/*
 * Bytes a bounce buffer for locate_probe/locate_read needs for chunks of up to max_chunk
 * bytes (whole aligned blocks around them); allocate it aligned to TARGET_DIRECT_ALIGN.
 */
size_t locate_buffer_size(size_t max_chunk);

/*
 * Where chunk c (number index) is on the board: its place (hashed), else the other place if
 * there is one, else absent. buf: a bounce buffer (locate_buffer_size). Returns the
 * enum locate_where, or -1 with err_msg() when a device cannot be read.
 */
int locate_probe(const struct chunk_locator *l, uint32_t index, const struct pkg_chunk *c,
		 uint8_t *buf, size_t buf_size);

/*
 * Reads chunk c from where (LOCATE_IN_PLACE or LOCATE_ELSEWHERE) into raw (c->raw_size
 * bytes) through buf, and checks its SHA-256 again. 0, or -1 naming the chunk (changed since
 * it was probed, or unreadable).
 */
int locate_read(const struct chunk_locator *l, uint32_t index, const struct pkg_chunk *c,
		int where, uint8_t *buf, size_t buf_size, uint8_t *raw);

#endif
