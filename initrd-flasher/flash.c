/* SPDX-License-Identifier: MIT */
/* The data path: verify -> identify -> plan -> write -> read back -> report. */
#include "flash.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include <linux/fs.h>

#include <blkid/blkid.h>

#include "bootslot.h"
#include "error.h"
#include "gpt.h"
#include "identify.h"
#include "keys.h"
#include "pkg_file.h"
#include "plan.h"
#include "source.h"
#include "target.h"
#include "write.h"

/* Buffers sized once at start: the write loop allocates nothing. */
#define WORK_BUF_SIZE (1u << 20)

struct flash_state {
	const struct flash_config *c;
	struct pkg_file pkg;
	struct board_id id;
	int variant;
	struct target targets[PKG_MAX_TARGETS];
	int opened[PKG_MAX_TARGETS];
	struct pkg_partition parts[PKG_MAX_PARTITIONS];
	uint8_t *raw, *stored, *buf_a, *buf_b;
	size_t chunk_buf;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int verify_package(struct flash_state *s)
{
	const struct flash_config *c = s->c;
	const struct pkg_header *h = &s->pkg.header;
	if (c->pubkey) {
		struct pkg_pubkey key;
		if (pkg_pubkey_load(c->pubkey, &key) != 0)
			return -1;
		return pkg_verify_signature(&key, h, s->pkg.prefix, s->pkg.manifest_buf,
					    h->manifest_size);
	}
	if (!c->allow_unsigned)
		return err_set("no trusted public key: refusing to flash");
	if (h->flags & PKG_FLAG_SIGNED)
		return err_set("package is signed but no key was given to check it");
	fprintf(c->log, "flasher: WARNING: DEVELOPMENT MODE: flashing an UNSIGNED package\n");
	return 0;
}

static int identify_board(struct flash_state *s)
{
	const struct flash_config *c = s->c;
	if (!c->eeprom)
		return err_set("no module EEPROM to identify the board by");
	size_t len;
	char *ee = read_small_file(c->eeprom, 4096, &len);
	if (!ee)
		return err_prefix("module EEPROM");
	int rc = identify_parse_eeprom((const uint8_t *)ee, len, &s->id);
	free(ee);
	if (rc != 0)
		return err_prefix("%s", c->eeprom);
	if (c->chip_sku && identify_set_chip_sku(&s->id, c->chip_sku) != 0)
		return -1;
	if (!c->chip_sku && c->chip_sku_file) {
		char *text = read_small_file(c->chip_sku_file, 64, &len);
		if (text) {
			rc = identify_set_chip_sku(&s->id, text);
			free(text);
			if (rc != 0)
				return err_prefix("%s", c->chip_sku_file);
		}
	}
	char me[200];
	identify_describe(&s->id, me, sizeof(me));
	fprintf(c->log, "flasher: %s, serial %s\n", me, s->id.serial[0] ? s->id.serial : "?");
	s->variant = identify_pick_variant(&s->pkg.manifest, &s->id);
	if (s->variant < 0)
		return -1;
	struct pkg_variant v;
	pkg_manifest_variant(&s->pkg.manifest, (uint32_t)s->variant, &v);
	fprintf(c->log, "flasher: package variant %s\n", v.name);
	return 0;
}

static int open_targets(struct flash_state *s)
{
	const struct pkg_manifest *m = &s->pkg.manifest;
	for (uint32_t i = 0; i < m->partition_count; i++)
		pkg_manifest_partition(m, i, &s->parts[i]);
	for (uint16_t t = 0; t < m->target_count; t++) {
		struct pkg_target tg;
		pkg_manifest_target(m, t, &tg);
		const char *spec = NULL;
		for (size_t k = 0; k < s->c->ntargets; k++)
			if (strcmp(s->c->targets[k].type, tg.type) == 0)
				spec = s->c->targets[k].spec;
		if (!spec)
			return err_set("package writes %s:%" PRIu32 " but no device was given for it",
				       tg.type, tg.instance);
		if (target_open_spec(&s->targets[t], spec, tg.size) != 0)
			return -1;
		s->opened[t] = 1;
		struct target *dev = &s->targets[t];
		if ((tg.kind == PKG_TARGET_MTD) != (dev->erase_size != 0))
			return err_set("%s: package target %s is %s, the device is not", dev->name,
				       tg.type, pkg_target_kind_name(tg.kind));
		if (tg.kind == PKG_TARGET_MTD && dev->erase_size > WORK_BUF_SIZE)
			return err_set("%s: erase size %" PRIu32 " larger than the buffers", dev->name,
				       dev->erase_size);
		if (plan_place(m, t, dev->size, s->parts) != 0)
			return err_prefix("%s", dev->name);
		fprintf(s->c->log, "flasher: %s:%" PRIu32 " -> %s, %" PRIu64 " bytes\n", tg.type,
			tg.instance, dev->name, dev->size);
	}
	return 0;
}

/* The partition table of a disk target, built from its data partitions as placed. */
static int write_gpt(struct flash_state *s, uint16_t t)
{
	const struct pkg_manifest *m = &s->pkg.manifest;
	struct pkg_target tg;
	pkg_manifest_target(m, t, &tg);
	struct target *dev = &s->targets[t];
	static struct gpt_part gp[GPT_ENTRIES];
	uint32_t n = 0;
	char text[128];
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct pkg_partition *p = &s->parts[i];
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
	if (psize > WORK_BUF_SIZE || bsize > WORK_BUF_SIZE)
		return err_set("GPT larger than the buffers");
	if (gpt_build(&d, s->buf_a, s->buf_b) != 0)
		return err_prefix("%s", dev->name);
	if (dev->ops->write(dev, 0, s->buf_a, psize) != 0 ||
	    dev->ops->write(dev, dev->size - bsize, s->buf_b, bsize) != 0 ||
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
		fprintf(s->c->log, "flasher: %s: GPT with %" PRIu32 " partitions written and checked\n",
			dev->name, n);
	/* a disk: make the kernel see the new table (its partition devices follow it) */
	struct stat st;
	if (rc == 0 && fstat(dev->fd, &st) == 0 && S_ISBLK(st.st_mode) &&
	    ioctl(dev->fd, BLKRRPART) != 0)
		fprintf(s->c->log, "flasher: %s: warning: the kernel did not re-read the partition "
				   "table (%s); partition devices may be stale until reboot\n",
			dev->name, strerror(errno));
	return rc;
}

static int write_images(struct flash_state *s, struct write_stats *total)
{
	const struct pkg_manifest *m = &s->pkg.manifest;
	struct file_source fs;
	file_source_init(&fs, s->pkg.fd, PKG_MANIFEST_OFFSET + s->pkg.header.manifest_size);
	for (uint32_t i = 0; i < m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, i, &im);
		if (!((im.variant_mask >> s->variant) & 1))
			continue;
		struct image_reader r;
		struct image_job job = { .part = s->parts[im.partition], .reader = &r,
					 .buf_a = s->buf_a, .buf_b = s->buf_b, .buf_size = WORK_BUF_SIZE };
		struct pkg_target tg;
		pkg_manifest_target(m, job.part.target, &tg);
		struct target *dev = &s->targets[job.part.target];
		struct write_stats st = { 0 };
		double start = now();
		if (image_reader_init(&r, m, &im, &fs.src, s->raw, s->stored, s->chunk_buf) != 0 ||
		    write_image(tg.kind, dev, &job, &st) != 0 || readback_image(dev, &job, &st) != 0)
			return -1;
		fprintf(s->c->log, "flasher: %-24s %10" PRIu64 " bytes: %" PRIu64 " written, %" PRIu64
				   " read back; blocks compared %" PRIu64 ", skipped %" PRIu64
				   ", erased %" PRIu64 ", written %" PRIu64 "; %.2f s\n",
			job.part.name, im.size, st.bytes_written, st.bytes_read_back,
			st.blocks_compared, st.blocks_skipped, st.blocks_erased, st.blocks_written,
			now() - start);
		total->blocks_compared += st.blocks_compared;
		total->blocks_skipped += st.blocks_skipped;
		total->blocks_erased += st.blocks_erased;
		total->blocks_written += st.blocks_written;
		total->bytes_written += st.bytes_written;
		total->bytes_read_back += st.bytes_read_back;
	}
	return 0;
}

int flash_run(const struct flash_config *c)
{
	static struct flash_state s;
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.pkg.fd = -1;
	double start = now();
	int rc = pkg_file_open(c->package, &s.pkg);
	if (rc == 0)
		rc = verify_package(&s);
	if (rc == 0)
		rc = identify_board(&s);
	if (rc == 0) {
		s.chunk_buf = image_largest_chunk(&s.pkg.manifest);
		s.raw = malloc(s.chunk_buf);
		s.stored = malloc(s.chunk_buf);
		s.buf_a = malloc(WORK_BUF_SIZE);
		s.buf_b = malloc(WORK_BUF_SIZE);
		if (!s.raw || !s.stored || !s.buf_a || !s.buf_b)
			rc = err_set("out of memory for the work buffers");
	}
	if (rc == 0)
		rc = open_targets(&s);
	if (rc == 0) {
		plan_print(c->log, &s.pkg.manifest, s.parts, s.variant);
		fflush(c->log);
	}
	struct write_stats total = { 0 };
	if (rc == 0 && !c->plan_only) {
		/* the partition tables first: images are written where they will be found */
		for (uint16_t t = 0; rc == 0 && t < s.pkg.manifest.target_count; t++)
			if (s.targets[t].erase_size == 0)
				rc = write_gpt(&s, t);
		if (rc == 0)
			rc = write_images(&s, &total);
		/* last, and only when every read-back passed: the board boots what was written */
		if (rc == 0 && c->efivars)
			rc = bootslot_set_efivars(c->efivars, PKG_SLOT_A, c->log);
		else if (rc == 0)
			fprintf(c->log, "flasher: boot slot A (no EFI variable store configured)\n");
	}
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++)
		if (s.opened[t])
			target_close(&s.targets[t]);
	if (rc == 0 && !c->plan_only)
		fprintf(c->log, "flasher: done: %" PRIu64 " bytes written, %" PRIu64
				" read back and verified; NOR blocks compared %" PRIu64 ", erased %" PRIu64
				", written %" PRIu64 "; %.2f s\n",
			total.bytes_written, total.bytes_read_back, total.blocks_compared,
			total.blocks_erased, total.blocks_written, now() - start);
	pkg_file_close(&s.pkg);
	free(s.raw);
	free(s.stored);
	free(s.buf_a);
	free(s.buf_b);
	return rc;
}
