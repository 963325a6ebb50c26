/* SPDX-License-Identifier: MIT */
/*
 * The kinds of target a package writes (PKG_TARGET_*), one const row each: its writer, how it
 * is read back, whether its images are spooled, where its counts go, what its device must be.
 * Everything that differs between QSPI NOR and disks asks this table, RAUC's image_type_map[]
 * way; adding a kind is one row in target_kind.c and one writer file.
 */
#ifndef SELFFLASH_TARGET_KIND_H
#define SELFFLASH_TARGET_KIND_H

#include <stdint.h>

#include "image_job.h"
#include "pkg.h"
#include "target/target.h"

/* The rows of target_kinds[], which are also the slots of a run's write statistics:
 * `struct write_stats by_kind[TARGET_KIND_COUNT]`, by_kind[TARGET_KIND_NOR] the NOR's. */
enum target_kind_slot {
	TARGET_KIND_NOR,
	TARGET_KIND_DISK,
	TARGET_KIND_COUNT
};

enum target_readback {
	/* the writer checks each block it writes; the whole image is read back after it (NOR) */
	TARGET_READBACK_AFTER,
	/* with threads, ranges are checked beside the writer as it writes them (readback.h);
	 * without, the whole image after it (disks) */
	TARGET_READBACK_INLINE,
};

/* Writes job's image into t (bounds already checked by write_image()); 0 or -1. */
typedef int (*target_kind_write_fn)(struct target *t, const struct image_job *job,
				    struct write_stats *st);

struct target_kind {
	uint8_t pkg_kind; /* PKG_TARGET_* of the manifest */
	/* what the summary calls its counts ("NOR blocks compared ...") */
	const char *name;
	target_kind_write_fn write;
	enum target_readback readback;
	/* with threads: its images are received into memory first and written by a thread of
	 * their own while the other images stream (write_spool.h) */
	int spooled;
	/* its device must have erase blocks (erase_size != 0), or must have none; the writer of
	 * an erasable kind counts the blocks it compares, erases and writes */
	int erasable;
	/* the writer goes over every byte of the image (it compares whole blocks), not only
	 * the data: what progress counts for the write */
	int writes_whole_image;
	/* holds the boot chain's firmware (the QSPI): an update writes it only when the config
	 * says update-qspi */
	int boot_firmware;
	/* its partition table is the device's own GPT: an update checks the package's places
	 * against it before writing (update_check.h) */
	int update_checks_gpt;
	/* its writer can make a whole partition equal the image, zeros past the image's end
	 * (disks, whose holes and tail would otherwise keep old bytes); NOR partitions keep
	 * their erased bytes past the image */
	int fills_partition;
};

/* Indexed by enum target_kind_slot. */
extern const struct target_kind target_kinds[TARGET_KIND_COUNT];

/* The writers the rows name, one file each. */
int write_nor_image(struct target *t, const struct image_job *job, struct write_stats *st);
int write_block_image(struct target *t, const struct image_job *job, struct write_stats *st);

/*
 * Leaves the bytes of part on NOR target t erased (0xFF), the NOR writer's way: each erase block
 * it touches is read; one whose bytes of part are all 0xFF already is left alone (counted
 * skipped), any other is erased (counted), the bytes of a neighbour sharing the block written
 * back, and the block read back and compared. cur and want: buf_size bytes each, at least an
 * erase block. Counts go into st. 0, or -1 naming the partition.
 */
int write_nor_blank(struct target *t, const struct pkg_partition *part, uint8_t *cur,
		    uint8_t *want, size_t buf_size, struct write_stats *st);

/* The row of a manifest's target kind, or NULL when no row serves it. */
const struct target_kind *target_kind_find(uint8_t pkg_kind);

/* The row of the kind of target partition part lies on; NULL, with err_msg() naming the
 * partition, when no row serves it. */
const struct target_kind *target_kind_of_partition(const struct pkg_manifest *m,
						   const struct pkg_partition *part);

/*
 * Where the zeros of image im in partition part end on a target of kind k: the partition's
 * size when the whole partition is to equal the image (an update, `whole_partitions`, or an
 * image flagged PKG_IMAGE_ZERO_HOLES, on a kind that fills_partition); im's size for a flagged
 * image on another kind; 0 when its holes are left as they are (image_reader.h, zero_end).
 */
uint64_t target_kind_zero_end(const struct target_kind *k, const struct pkg_image *im,
			      const struct pkg_partition *part, int whole_partitions);

/* Its slot in by_kind[TARGET_KIND_COUNT]. */
static inline unsigned target_kind_slot(const struct target_kind *k)
{
	return (unsigned)(k - target_kinds);
}

/*
 * Whether dev, opened for package target tg, is the kind of device tg's kind writes (an
 * erasable kind on a device with erase blocks, another on one without). 0, or -1 naming
 * the device and the package's kind.
 */
int target_kind_check_device(const struct pkg_target *tg, const struct target *dev);

#endif
