/* SPDX-License-Identifier: MIT */
/* An update's checks against the board: its GPT, and the new slot's boot image. */
#include "update_check.h"

#include <blkid/blkid.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "write/gpt_write.h"

/* A kernel partition's boot image is read whole into memory: kernels are tens of MiB. */
#define BOOTIMG_READ_MAX (256u << 20)

int update_check_gpt(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     struct target *dev)
{
	blkid_probe pr;
	blkid_partlist pl;
	int rc = gpt_probe_partitions(dev, &pr, &pl);
	if (rc > 0)
		rc = err_set("%s: no partition table; an update needs the board flashed first (in "
			     "recovery mode)", dev->name);
	int n = rc == 0 ? blkid_partlist_numof_partitions(pl) : 0;
	for (uint32_t i = 0; rc == 0 && i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->target != t || p->kind != PKG_PART_DATA)
			continue;
		blkid_partition found = NULL;
		for (int k = 0; k < n && !found; k++) {
			blkid_partition bp = blkid_partlist_get_partition(pl, k);
			const char *name = bp ? blkid_partition_get_name(bp) : NULL;
			if (name && strcmp(name, p->name) == 0)
				found = bp;
		}
		if (!found) {
			rc = err_set("%s: the board's GPT has no partition %s, which the package has: "
				     "the layout changed, which needs a flash in recovery mode",
				     dev->name, p->name);
			break;
		}
		uint64_t start = (uint64_t)blkid_partition_get_start(found) * 512;
		uint64_t size = (uint64_t)blkid_partition_get_size(found) * 512;
		if (start != p->offset || size != p->size)
			rc = err_set("%s: partition %s is at %" PRIu64 " (%" PRIu64 " bytes) on the "
				     "board, at %" PRIu64 " (%" PRIu64 " bytes) in the package: the "
				     "layout changed, which needs a flash in recovery mode",
				     dev->name, p->name, start, size, p->offset, p->size);
	}
	if (pr)
		blkid_free_probe(pr);
	return rc;
}

int update_read_bootimg(const struct pkg_manifest *m, uint32_t variant,
			const struct pkg_partition *parts, uint32_t part, struct target *dev,
			uint8_t **data, struct bootimg_info *info)
{
	*data = NULL;
	uint64_t size = 0;
	for (uint32_t k = 0; k < m->image_count; k++) {
		struct pkg_image im;
		pkg_manifest_image(m, k, &im);
		if (im.partition == part && pkg_image_in_variant(&im, variant))
			size = im.size;
	}
	const struct pkg_partition *p = &parts[part];
	if (size == 0 || size > p->size || size > BOOTIMG_READ_MAX)
		return err_set("partition %s: its image is %" PRIu64 " bytes; a boot image of 1.."
			       "%u bytes within the partition (%" PRIu64 ") was expected",
			       p->name, size, BOOTIMG_READ_MAX, p->size);
	uint8_t *buf = malloc(size);
	if (!buf)
		return err_set("out of memory for the boot image of %s (%" PRIu64 " bytes)",
			       p->name, size);
	if (dev->ops->read(dev, p->offset, buf, size) != 0 || bootimg_parse(info, buf, size) != 0) {
		free(buf);
		return err_prefix("partition %s", p->name);
	}
	*data = buf;
	return 0;
}
