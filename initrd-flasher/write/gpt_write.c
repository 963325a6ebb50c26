/* SPDX-License-Identifier: MIT */
/*
 * GPT stage: a disk's partition table written from the plan, then checked with libblkid; a
 * QSPI's GPT as NVIDIA writes it (DESIGN.md section 8), written through the NOR writer.
 */
#include "gpt_write.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <linux/fs.h>

#include <blkid/blkid.h>

#include "error.h"
#include "gpt.h"
#include "readback.h"
#include "target_kind.h"
#include "write_image.h"

int gpt_probe_partitions(struct target *dev, blkid_probe *pr, blkid_partlist *pl)
{
	*pl = NULL;
	*pr = blkid_new_probe();
	if (!*pr)
		return err_set("libblkid: cannot create a probe");
	if (dev->fd < 0 || blkid_probe_set_device(*pr, dev->fd, 0, 0) != 0)
		return err_set("%s: libblkid cannot read the device", dev->name);
	blkid_probe_enable_partitions(*pr, 1);
	blkid_probe_set_partitions_flags(*pr, BLKID_PARTS_ENTRY_DETAILS);
	if (blkid_do_fullprobe(*pr) < 0 || !(*pl = blkid_probe_get_partitions(*pr)))
		return 1;
	return 0;
}

static int write_disk_gpt(const struct pkg_manifest *m, uint16_t t,
			  const struct pkg_partition *parts, struct target *dev, uint8_t *buf_a,
			  uint8_t *buf_b, size_t buf_size, FILE *log)
{
	struct pkg_target tg;
	pkg_manifest_target(m, t, &tg);
	static struct gpt_part gp[GPT_ENTRIES];
	uint32_t n = 0;
	char text[128];
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->target != t || p->kind != PKG_PART_DATA)
			continue;
		if (n == GPT_ENTRIES)
			return err_set("%s: more than %d partitions for a GPT", dev->name, GPT_ENTRIES);
		struct gpt_part *g = &gp[n++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", p->name);
		static const uint8_t zero[16];
		memcpy(g->type_guid, memcmp(p->type_guid, zero, 16) ? p->type_guid : gpt_type_linux_data,
		       16);
		if (memcmp(p->unique_guid, zero, 16)) {
			memcpy(g->unique_guid, p->unique_guid, 16);
		} else {
			snprintf(text, sizeof(text), "selfflash:%s:%" PRIu32 ":%s", tg.type, tg.instance,
				 p->name);
			gpt_guid_from_text(text, g->unique_guid);
		}
		g->offset = p->offset;
		g->size = p->size;
	}
	struct gpt_disk d = { .sector_size = tg.sector_size, .size = dev->size, .parts = gp,
			      .count = n };
	snprintf(text, sizeof(text), "selfflash-disk:%s:%" PRIu32, tg.type, tg.instance);
	gpt_guid_from_text(text, d.disk_guid);
	size_t psize = gpt_primary_size(tg.sector_size), bsize = gpt_backup_size(tg.sector_size);
	if (psize > buf_size || bsize > buf_size)
		return err_set("GPT larger than the buffers");
	if (gpt_build(&d, buf_a, buf_b) != 0)
		return err_prefix("%s", dev->name);
	if (dev->ops->write(dev, 0, buf_a, psize) != 0 ||
	    dev->ops->write(dev, dev->size - bsize, buf_b, bsize) != 0 ||
	    dev->ops->flush(dev) != 0)
		return -1;
	/* read back: an independent parser (libblkid) must find every partition where it goes */
	blkid_probe pr;
	blkid_partlist pl;
	int rc = gpt_probe_partitions(dev, &pr, &pl);
	if (rc > 0)
		rc = err_set("%s: libblkid finds no partition table after writing it", dev->name);
	if (rc == 0 && blkid_partlist_numof_partitions(pl) != (int)n)
		rc = err_set("%s: libblkid finds %d partitions, %" PRIu32 " were written", dev->name,
			     blkid_partlist_numof_partitions(pl), n);
	for (uint32_t i = 0; rc == 0 && i < n; i++) {
		blkid_partition bp = blkid_partlist_get_partition(pl, (int)i);
		const char *name = bp ? blkid_partition_get_name(bp) : NULL;
		if (!name || strcmp(name, gp[i].name) != 0 ||
		    (uint64_t)blkid_partition_get_start(bp) * 512 != gp[i].offset ||
		    (uint64_t)blkid_partition_get_size(bp) * 512 != gp[i].size)
			rc = err_set("%s: partition %s is not where the GPT was to put it", dev->name,
				     gp[i].name);
	}
	if (pr)
		blkid_free_probe(pr);
	if (rc == 0)
		fprintf(log, "flasher: %s: GPT with %" PRIu32 " partitions written and checked\n",
			dev->name, n);
	/* a disk: make the kernel see the new table (its partition devices follow it) */
	struct stat st;
	if (rc == 0 && fstat(dev->fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(dev->fd, BLKRRPART) != 0)
		fprintf(log, "flasher: %s: warning: the kernel did not re-read the partition "
			     "table (%s); partition devices may be stale until reboot\n",
			dev->name, strerror(errno));
	return rc;
}

int gpt_qspi_parts(const struct pkg_target *tg, uint16_t t, const struct pkg_partition *parts,
		   uint32_t nparts, struct gpt_part *out, uint32_t *count)
{
	static const uint8_t zero[16];
	uint32_t n = 0;
	int has_gpt = 0;
	char text[128];
	for (uint32_t i = 0; i < nparts; i++) {
		const struct pkg_partition *p = &parts[i];
		if (p->target != t)
			continue;
		/* NVIDIA lists every partition in layout order but the GPT's own place */
		if (p->kind == PKG_PART_SECONDARY_GPT) {
			has_gpt = 1;
			continue;
		}
		if (n == GPT_ENTRIES)
			return err_set("%s:%" PRIu32 ": more than %d partitions for a GPT", tg->type,
				       tg->instance, GPT_ENTRIES);
		struct gpt_part *g = &out[n++];
		memset(g, 0, sizeof(*g));
		snprintf(g->name, sizeof(g->name), "%s", p->name);
		memcpy(g->type_guid, memcmp(p->type_guid, zero, 16) ? p->type_guid : gpt_type_basic_data,
		       16);
		if (memcmp(p->unique_guid, zero, 16)) {
			memcpy(g->unique_guid, p->unique_guid, 16);
		} else {
			/* stable for the partition: an identical re-flash finds the same bytes */
			snprintf(text, sizeof(text), "selfflash:%s:%" PRIu32 ":%s", tg->type,
				 tg->instance, p->name);
			gpt_guid_from_text(text, g->unique_guid);
		}
		g->offset = p->offset;
		g->size = p->size;
	}
	*count = n;
	return has_gpt;
}

/* Writes bytes at part's place through the NOR writer, then reads them back and checks them. */
static int write_nor_bytes(struct target *dev, const struct pkg_partition *part,
			   const uint8_t *bytes, uint32_t len, uint8_t *buf_a, uint8_t *buf_b,
			   size_t buf_size, struct write_stats *st)
{
	struct image_reader r;
	if (image_reader_init_memory(&r, bytes, len) != 0)
		return err_prefix("partition %s", part->name);
	struct image_job job = { .part = *part, .reader = &r, .buf_a = buf_a, .buf_b = buf_b,
				 .buf_size = buf_size };
	if (write_image(&target_kinds[TARGET_KIND_NOR], dev, &job, st) != 0 || readback_image(dev, &job, st) != 0)
		return -1;
	return 0;
}

const struct pkg_partition *gpt_qspi_backup(const struct pkg_manifest *m, uint16_t t,
					    const struct pkg_partition *parts)
{
	const struct pkg_partition *backup = NULL;
	int has_gpt = 0;
	for (uint32_t i = 0; i < m->partition_count; i++) {
		if (parts[i].target != t)
			continue;
		has_gpt |= parts[i].kind == PKG_PART_SECONDARY_GPT;
		if (strcmp(parts[i].name, "secondary_gpt_backup") == 0)
			backup = &parts[i];
	}
	return has_gpt ? backup : NULL;
}

static int write_qspi_gpt(const struct pkg_manifest *m, uint16_t t,
			  const struct pkg_partition *parts, uint32_t variant, struct target *dev,
			  uint8_t *buf_a, uint8_t *buf_b, size_t buf_size, struct write_stats *st,
			  FILE *log)
{
	static struct gpt_part gp[GPT_ENTRIES];
	static uint8_t blob[GPT_ENTRIES_BYTES + 4096];
	uint32_t n;
	struct pkg_target tg;
	pkg_manifest_target(m, t, &tg);
	int has_gpt = gpt_qspi_parts(&tg, t, parts, m->partition_count, gp, &n);
	if (has_gpt <= 0)
		return has_gpt; /* no secondary_gpt in the layout: NVIDIA writes none either */
	struct gpt_disk d = { .sector_size = tg.sector_size, .size = dev->size, .parts = gp,
			      .count = n };
	char text[128];
	snprintf(text, sizeof(text), "selfflash-disk:%s:%" PRIu32, tg.type, tg.instance);
	gpt_guid_from_text(text, d.disk_guid);
	size_t size = gpt_qspi_size(tg.sector_size);
	if (size > sizeof(blob))
		return err_set("%s: sector size %" PRIu32 " too large for a QSPI GPT", dev->name,
			       tg.sector_size);
	if (gpt_build_qspi(&d, blob) != 0)
		return err_prefix("%s", dev->name);
	/* at the real end of the device, not where the XML's size would put it */
	struct pkg_partition at_end = { .name = "secondary_gpt", .target = t,
					.kind = PKG_PART_SECONDARY_GPT,
					.offset = dev->size - size, .size = size };
	if (write_nor_bytes(dev, &at_end, blob, (uint32_t)size, buf_a, buf_b, buf_size, st) != 0)
		return -1;
	/* and the same bytes at the start of secondary_gpt_backup, as NVIDIA's flash does */
	const struct pkg_partition *backup = gpt_qspi_backup(m, t, parts);
	if (backup) {
		if (backup->size < size)
			return err_set("partition %s: %" PRIu64 " bytes cannot hold the %zu-byte GPT",
				       backup->name, backup->size, size);
		for (uint32_t i = 0; i < m->image_count; i++) {
			struct pkg_image im;
			pkg_manifest_image(m, i, &im);
			if (pkg_image_in_variant(&im, variant) && &parts[im.partition] == backup)
				return err_set("partition %s: the package has an image for it, but it "
					       "holds the copy of the QSPI GPT", backup->name);
		}
		if (write_nor_bytes(dev, backup, blob, (uint32_t)size, buf_a, buf_b, buf_size, st) != 0)
			return -1;
	}
	fprintf(log, "flasher: %s: QSPI GPT with %" PRIu32 " partitions written at %" PRIu64
		     "%s and checked\n",
		dev->name, n, at_end.offset, backup ? " and in secondary_gpt_backup" : "");
	return 0;
}

int gpt_write_target(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     uint32_t variant, struct target *dev, uint8_t *buf_a, uint8_t *buf_b,
		     size_t buf_size, struct write_stats *st, FILE *log)
{
	if (dev->erase_size)
		return write_qspi_gpt(m, t, parts, variant, dev, buf_a, buf_b, buf_size, st, log);
	return write_disk_gpt(m, t, parts, dev, buf_a, buf_b, buf_size, log);
}
