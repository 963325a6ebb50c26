/* SPDX-License-Identifier: MIT */
/* An update's checks against the board: anti-rollback, its GPT, the new slot's boot image. */
#include "update_check.h"

#include <blkid/blkid.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "write/gpt_write.h"

int update_check_version(const struct slot_view *running, int floor_known, uint64_t floor,
			 uint64_t pkg, int allow_downgrade, FILE *log)
{
	char floor_text[64] = "not recorded";
	if (floor_known)
		snprintf(floor_text, sizeof(floor_text), "%" PRIu64, floor);
	if (!running->has_version) {
		fprintf(log, "update: system version: package %" PRIu64 ", installed not recorded, "
			     "floor %s\n", pkg, floor_text);
		if (allow_downgrade) {
			fprintf(log, "update: the installed version is unknown; installing anyway "
				     "(--allow-downgrade)\n");
			return 0;
		}
		return err_set("the running system's version is not recorded, so the package's "
			       "%" PRIu64 " cannot be compared with it; refused (anti-rollback). "
			       "Run `selfflash mark-good` with the system's version in "
			       "/etc/selfflash/system-version (system-version-file) to record it, or "
			       "--allow-downgrade to install the package anyway", pkg);
	}
	fprintf(log, "update: system version: package %" PRIu64 ", installed %" PRIu64 ", floor "
		     "%s\n", pkg, running->version, floor_text);
	const int below_floor = floor_known && pkg < floor;
	if (pkg >= running->version && !below_floor)
		return 0;
	if (allow_downgrade) {
		fprintf(log, "update: downgrade allowed (--allow-downgrade)%s\n",
			below_floor ? "; the floor stays where it is" : "");
		return 0;
	}
	const char *none = pkg ? "" : " (the package has none)";
	if (pkg < running->version)
		return err_set("the package's system version %" PRIu64 " is older than the "
			       "installed %" PRIu64 "%s; refused (anti-rollback): --allow-downgrade "
			       "to install it anyway", pkg, running->version, none);
	return err_set("the package's system version %" PRIu64 " is below the board's "
		       "anti-rollback floor %" PRIu64 " (the newest version ever confirmed on it)%s; "
		       "refused: --allow-downgrade to install it anyway", pkg, floor, none);
}

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
