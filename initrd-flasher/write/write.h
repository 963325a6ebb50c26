/* SPDX-License-Identifier: MIT */
/*
 * Writing: one image into its partition with the writer for its target's kind (one const
 * table, target_kind.h: NOR compares every erase block and erases and writes only what
 * differs; disks write the chunks and zero holes where asked, whole_partitions), and every image of a variant in order, each
 * read back (readback.h) — the write loop the flasher and the tests both run.
 */
#ifndef SELFFLASH_WRITE_H
#define SELFFLASH_WRITE_H

#include <stdint.h>
#include <stdio.h>

#include "image_job.h"
#include "target_kind.h"
#include "write_image.h"
#include "source/source.h"
#include "target/target.h"

/* Every image of one variant, and what writing them needs. The caller owns every buffer. */
struct write_plan {
	const struct pkg_manifest *m;
	uint32_t variant;
	const struct pkg_partition *parts; /* placed on the real devices (plan.h) */
	struct target *targets;            /* indexed like the manifest's targets */
	struct chunk_source *src;          /* where the chunks come from (source.h) */
	uint8_t *raw, *stored;             /* image_reader buffers, chunk_buf bytes each */
	size_t chunk_buf;
	uint8_t *buf_a, *buf_b;            /* work buffers, buf_size bytes each, aligned for
					    * the disks' O_DIRECT read-back */
	size_t buf_size;
	/* -1: no threads (each chunk fetched as the writer needs it, read back after the image);
	 * 0: fetch/hash and disk read-back threads, one per CPU; n: n of each */
	int threads;
	/* delta (with threads): each chunk is looked for on the board first (locate.h), and
	 * fetched only when it is not there; alt_parts (may be NULL) names a second place per
	 * partition to copy from (the running slot) */
	int delta;
	const struct pkg_partition *alt_parts;
	/*
	 * 1 (an update): every disk image makes its whole partition equal it — holes and the
	 * partition past the image's end zeroed, and read back as zeros — so that an armed slot is
	 * the signed image byte for byte, whatever the slot held (another system's journal). 0 (a
	 * first flash): only images flagged PKG_IMAGE_ZERO_HOLES do; the others' holes keep what
	 * the disk held (a fresh disk: zeros already; faster). target_kind_zero_end() decides.
	 */
	int whole_partitions;
	/* NULL: every image of the variant; else only images of partitions i with
	 * only_parts[i] != 0 (an update writes the inactive slot's partitions, nothing else) */
	const uint8_t *only_parts;
	/* with threads: the images of spooled kinds (NOR) are received into memory first and
	 * written by a thread of their own while the disk images stream (write_spool.h) */
	int parallel;
	struct write_progress *progress; /* may be NULL */
	FILE *log;                       /* a line per image; NULL: quiet */
};

/* What delta found: chunks already in place, copied on the board, fetched. */
struct write_delta {
	uint32_t chunks_in_place, chunks_copied, chunks_fetched;
	uint64_t bytes_in_place, bytes_copied, bytes_fetched; /* raw bytes; fetched: stored */
};

/*
 * Writes every image of w->variant in manifest order, each read back and checked before the
 * next, and adds each image's counts to the slot of its target's kind
 * (by_kind[target_kind_slot()]). Stops at the first failure; 0 or -1 naming the partition.
 * With delta it logs what was found on the board and what had to be fetched. *delta (may be
 * NULL) gets what this run found: zeros without threads, chunks fetched with them.
 */
int write_images(const struct write_plan *w, struct write_stats by_kind[TARGET_KIND_COUNT],
		 struct write_delta *delta);

#endif
