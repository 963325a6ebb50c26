/* SPDX-License-Identifier: MIT */
/* GPT stage: a disk's partition table written from the plan, then checked with libblkid. */
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

int gpt_write_target(const struct pkg_manifest *m, uint16_t t, const struct pkg_partition *parts,
		     struct target *dev, uint8_t *buf_a, uint8_t *buf_b, size_t buf_size, FILE *log)
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
	blkid_probe pr = blkid_new_probe();
	int rc = pr ? 0 : err_set("libblkid: cannot create a probe");
	if (rc == 0 && (dev->fd < 0 || blkid_probe_set_device(pr, dev->fd, 0, 0) != 0))
		rc = err_set("%s: libblkid cannot read the device", dev->name);
	blkid_partlist pl = NULL;
	if (rc == 0) {
		blkid_probe_enable_partitions(pr, 1);
		blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
		if (blkid_do_fullprobe(pr) < 0 || !(pl = blkid_probe_get_partitions(pr)))
			rc = err_set("%s: libblkid finds no partition table after writing it", dev->name);
	}
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
