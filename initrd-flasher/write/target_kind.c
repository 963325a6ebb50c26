/* SPDX-License-Identifier: MIT */
/* The table of target kinds: one row per kind a package writes (target_kind.h). */
#include "target_kind.h"

#include "error.h"

const struct target_kind target_kinds[TARGET_KIND_COUNT] = {
	/* QSPI NOR through MTD: flashcp -p per erase block (write_nor.c) */
	[TARGET_KIND_NOR] = { .pkg_kind = PKG_TARGET_MTD,
			      .name = "NOR",
			      .write = write_nor_image,
			      .readback = TARGET_READBACK_AFTER,
			      .spooled = 1,
			      .erasable = 1,
			      .writes_whole_image = 1,
			      .boot_firmware = 1 },
	/* eMMC, NVMe, SD: the chunks written where they go, holes zeroed or left (write_block.c) */
	[TARGET_KIND_DISK] = { .pkg_kind = PKG_TARGET_DISK,
			       .name = "disk",
			       .write = write_block_image,
			       .readback = TARGET_READBACK_INLINE,
			       .update_checks_gpt = 1,
			       .fills_partition = 1 },
};

uint64_t target_kind_zero_end(const struct target_kind *k, const struct pkg_image *im,
			      const struct pkg_partition *part, int whole_partitions)
{
	const int flagged = (im->flags & PKG_IMAGE_ZERO_HOLES) != 0;
	/*
	 * The package places the partition: with the image's bytes over its whole size, what the
	 * partition holds is a function of the signed package alone. Bytes past the image's end
	 * are part of it: a smaller file system leaves the old one's backup superblocks and
	 * signatures there for blkid or e2fsck -b to find, and dm-verity or a hash over the
	 * partition would see them. So the tail is zeroed too (part->size >= im->size: checked
	 * by write_image before anything is written).
	 */
	if (k->fills_partition && (whole_partitions || flagged) && part->size >= im->size)
		return part->size;
	return flagged ? im->size : 0;
}

const struct target_kind *target_kind_find(uint8_t pkg_kind)
{
	for (unsigned i = 0; i < TARGET_KIND_COUNT; i++)
		if (target_kinds[i].pkg_kind == pkg_kind && target_kinds[i].write)
			return &target_kinds[i];
	return NULL;
}

const struct target_kind *target_kind_of_partition(const struct pkg_manifest *m,
						   const struct pkg_partition *part)
{
	struct pkg_target tg;
	pkg_manifest_target(m, part->target, &tg);
	const struct target_kind *k = target_kind_find(tg.kind);
	if (!k)
		err_set("partition %s: no writer for target kind %u", part->name, tg.kind);
	return k;
}

int target_kind_check_device(const struct pkg_target *tg, const struct target *dev)
{
	const struct target_kind *k = target_kind_find(tg->kind);
	if (!k)
		return err_set("%s: package target %s has kind %u, which no writer serves",
			       dev->name, tg->type, tg->kind);
	if (k->erasable != (dev->erase_size != 0))
		return err_set("%s: package target %s is %s, the device is not", dev->name,
			       tg->type, pkg_target_kind_name(tg->kind));
	return 0;
}
