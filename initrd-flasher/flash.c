/* SPDX-License-Identifier: MIT */
/* The data path: verify -> identify -> plan -> write -> read back -> report. */
#include "flash.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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
#include "link_client.h"
#include "pipeline.h"
#include "readback.h"
#include "pkg_file.h"
#include "plan.h"
#include "source.h"
#include "target.h"
#include "write.h"

/* Buffers sized once at start: the write loop allocates nothing. */
#define WORK_BUF_SIZE (1u << 20)

struct flash_progress {
	struct write_progress wp;
	pthread_mutex_t lock; /* the writer and the read-back thread both advance it */
	struct link_client *link;
	struct link_progress now;
	double last_sent;
};

struct flash_state {
	const struct flash_config *c;
	struct link_client link;
	int link_open;
	FILE *console; /* where the log goes on the board; over a link, to the host too */
	char line[1024]; /* a log line being assembled for the host (stdio flushes mid-line) */
	const char *phase_name;
	double phase_start;
	char phases[512];
	size_t phase_len;
	size_t line_len;
	char early[4096]; /* whole log lines written before the link was up */
	size_t early_len;
	struct flash_progress progress;
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
		return pkg_file_authenticate(&s->pkg, &key);
	}
	if (!c->allow_unsigned)
		return err_set("no trusted public key: refusing to flash");
	if (h->flags & PKG_FLAG_SIGNED)
		return err_set("package is signed but no key was given to check it");
	fprintf(c->log, "flasher: WARNING: DEVELOPMENT MODE: flashing an UNSIGNED package\n");
	return pkg_file_decode_unverified(&s->pkg);
}

/* Reads the module EEPROM and chip SKU: who this board is, before any package is read. */
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
	return 0;
}

/* The package variant made for this board. */
static int pick_variant(struct flash_state *s)
{
	const struct flash_config *c = s->c;
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
		if (dev->direct_error[0])
			fprintf(s->c->log,
				"flasher: warning: %s: read-back goes through the page cache (%s)\n",
				dev->name, dev->direct_error);
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

static void progress_send(struct flash_progress *p, int force)
{
	if (!p->link)
		return;
	double t = now();
	if (!force && t - p->last_sent < 0.25)
		return;
	p->last_sent = t;
	link_client_progress(p->link, &p->now);
}

static void progress_phase(struct flash_progress *p, uint8_t phase, const char *partition)
{
	pthread_mutex_lock(&p->lock);
	p->now.phase = phase;
	snprintf(p->now.partition, sizeof(p->now.partition), "%s", partition);
	progress_send(p, 1);
	pthread_mutex_unlock(&p->lock);
}

static void progress_advance(struct write_progress *wp, uint64_t bytes)
{
	struct flash_progress *p = (struct flash_progress *)wp;
	pthread_mutex_lock(&p->lock);
	p->now.done = p->now.done + bytes < p->now.total ? p->now.done + bytes : p->now.total;
	progress_send(p, 0);
	pthread_mutex_unlock(&p->lock);
}

static int write_images(struct flash_state *s, struct chunk_source *src, struct write_stats *total)
{
	const struct pkg_manifest *m = &s->pkg.manifest;
	static struct pipeline pipe;
	if (pipeline_start(&pipe, m, s->variant, src, s->chunk_buf, 0) != 0)
		return -1;
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, i, &im);
		if (!((im.variant_mask >> s->variant) & 1))
			continue;
		struct image_reader r;
		struct image_job job = { .part = s->parts[im.partition], .reader = &r,
					 .buf_a = s->buf_a, .buf_b = s->buf_b, .buf_size = WORK_BUF_SIZE,
					 .progress = &s->progress.wp };
		struct pkg_target tg;
		pkg_manifest_target(m, job.part.target, &tg);
		struct target *dev = &s->targets[job.part.target];
		struct write_stats st = { 0 };
		double start = now();
		rc = image_reader_init(&r, m, &im, src, s->raw, s->stored, s->chunk_buf);
		if (rc != 0)
			break;
		image_reader_use_pipeline(&r, &pipe);
		/* disks are read back beside the writer; NOR checks each block as it goes, then
		 * the whole image after */
		static struct readback_queue rb;
		if (tg.kind == PKG_TARGET_DISK) {
			rc = readback_start(&rb, dev, &job, 0);
			if (rc != 0)
				break;
			job.readback = &rb;
		}
		progress_phase(&s->progress, LINK_PHASE_WRITE, job.part.name);
		rc = write_image(tg.kind, dev, &job, &st);
		if (rc == 0) {
			if (!job.readback)
				progress_phase(&s->progress, LINK_PHASE_READBACK, job.part.name);
			rc = readback_image(dev, &job, &st);
		} else if (job.readback) {
			struct write_stats ignored = { 0 };
			readback_finish(job.readback, &ignored); /* the write's error is the one to tell */
		}
		if (rc != 0)
			break;
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
	if (pipe.side_fetches)
		fprintf(s->c->log, "flasher: %" PRIu64 " chunks fetched again out of order\n",
			pipe.side_fetches);
	pipeline_stop(&pipe);
	return rc;
}

/* The board's log also goes to the host, line by line, when there is a link. */
static ssize_t tee_write(void *cookie, const char *buf, size_t len)
{
	struct flash_state *s = cookie;
	fwrite(buf, 1, len, s->console);
	fflush(s->console);
	/* one LOG frame per whole line: a line longer than the buffer goes in pieces; lines
	 * from before the link is up wait for it */
	for (size_t i = 0; i < len; i++) {
		s->line[s->line_len++] = buf[i];
		if (buf[i] != '\n' && s->line_len < sizeof(s->line))
			continue;
		if (s->link_open) {
			link_client_log(&s->link, s->line, s->line_len);
		} else if (s->early_len + s->line_len <= sizeof(s->early)) {
			memcpy(s->early + s->early_len, s->line, s->line_len);
			s->early_len += s->line_len;
		}
		s->line_len = 0;
	}
	return (ssize_t)len;
}

static int link_pkg_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return link_client_read(ctx, off, buf, len);
}

/* Opens the package: a file, or the one hostload serves over the link. */
static int open_package(struct flash_state *s)
{
	const struct flash_config *c = s->c;
	if (!c->link)
		return pkg_file_open(c->package, &s->pkg);
	char board[LINK_NAME_MAX];
	snprintf(board, sizeof(board), "%s %s", s->id.serial[0] ? s->id.serial : "?",
		 s->id.part_number);
	struct link_client_opts o = { .spec = c->link, .board = board, .console = s->console,
				      .reconnect_ms = c->link_timeout_s * 1000u, .usb = c->usb };
	if (!o.usb.serial)
		o.usb.serial = s->id.serial; /* the USB serial number is the module's */
	if (link_client_open(&s->link, &o) != 0)
		return -1;
	s->link_open = 1;
	s->progress.link = &s->link;
	for (size_t at = 0; at < s->early_len;) {
		const char *nl = memchr(s->early + at, '\n', s->early_len - at);
		size_t n = nl ? (size_t)(nl - (s->early + at)) + 1 : s->early_len - at;
		link_client_log(&s->link, s->early + at, n);
		at += n;
	}
	return pkg_file_open_reader(&s->pkg, s->link.package, link_client_package_size(&s->link),
				    link_pkg_read, &s->link);
}

/* The bytes the writers will report for this variant: written (or compared), then read back. */
static uint64_t progress_total(const struct flash_state *s)
{
	const struct pkg_manifest *m = &s->pkg.manifest;
	uint64_t n = 0;
	for (uint32_t i = 0; i < m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, i, &im);
		if (!((im.variant_mask >> s->variant) & 1))
			continue;
		uint64_t data = 0;
		for (uint32_t k = 0; k < im.chunk_count; k++) {
			struct pkg_chunk c;
			pkg_manifest_chunk(m, im.first_chunk + k, &c);
			data += c.raw_size;
		}
		if (im.flags & PKG_IMAGE_ZERO_HOLES)
			data = im.size;
		struct pkg_target tg;
		pkg_manifest_target(m, s->parts[im.partition].target, &tg);
		/* NOR compares every block of the image; disks write only the data */
		n += (tg.kind == PKG_TARGET_MTD ? im.size : data) + data;
	}
	return n;
}

/* Seconds spent per step, printed at the end: where a slow flash spends its time. */
static void phase_mark(struct flash_state *s, const char *name)
{
	double t = now();
	if (s->phase_name && s->phase_len < sizeof(s->phases))
		s->phase_len += (size_t)snprintf(s->phases + s->phase_len,
						 sizeof(s->phases) - s->phase_len, "%s%s %.2f s",
						 s->phase_len ? ", " : "", s->phase_name,
						 t - s->phase_start);
	s->phase_name = name;
	s->phase_start = t;
}

static int flash_steps(struct flash_state *s, struct write_stats *total)
{
	const struct flash_config *c = s->c;
	phase_mark(s, "identify");
	if (identify_board(s) != 0)
		return -1;
	phase_mark(s, "link and manifest");
	if (open_package(s) != 0)
		return -1;
	progress_phase(&s->progress, LINK_PHASE_VERIFY, "");
	phase_mark(s, "verify");
	if (verify_package(s) != 0)
		return -1;
	if (s->link_open &&
	    link_client_pin(&s->link, PKG_PREFIX_SIZE + s->pkg.header.manifest_size) != 0)
		return -1;
	progress_phase(&s->progress, LINK_PHASE_IDENTIFY, "");
	if (pick_variant(s) != 0)
		return -1;
	s->chunk_buf = image_largest_chunk(&s->pkg.manifest);
	s->raw = malloc(s->chunk_buf);
	s->stored = malloc(s->chunk_buf);
	/* aligned for the disks' O_DIRECT read-back */
	s->buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, WORK_BUF_SIZE);
	s->buf_b = aligned_alloc(TARGET_DIRECT_ALIGN, WORK_BUF_SIZE);
	if (!s->raw || !s->stored || !s->buf_a || !s->buf_b)
		return err_set("out of memory for the work buffers");
	progress_phase(&s->progress, LINK_PHASE_PLAN, "");
	phase_mark(s, "plan");
	if (open_targets(s) != 0)
		return -1;
	plan_print(c->log, &s->pkg.manifest, s->parts, s->variant);
	fflush(c->log);
	if (c->plan_only)
		return 0;
	/* the partition tables first: images are written where they will be found */
	progress_phase(&s->progress, LINK_PHASE_GPT, "");
	phase_mark(s, "gpt");
	for (uint16_t t = 0; t < s->pkg.manifest.target_count; t++)
		if (s->targets[t].erase_size == 0 && write_gpt(s, t) != 0)
			return -1;
	s->progress.now.total = progress_total(s);
	struct file_source fs;
	struct link_source ls;
	uint64_t data_offset = PKG_MANIFEST_OFFSET + s->pkg.header.manifest_size;
	struct chunk_source *src;
	if (s->link_open) {
		link_source_init(&ls, &s->link, data_offset);
		src = &ls.src;
	} else {
		file_source_init(&fs, s->pkg.fd, data_offset);
		src = &fs.src;
	}
	phase_mark(s, "write and read-back");
	if (write_images(s, src, total) != 0)
		return -1;
	/* last, and only when every read-back passed: the board boots what was written */
	progress_phase(&s->progress, LINK_PHASE_BOOTSLOT, "");
	phase_mark(s, "boot slot");
	if (c->efivars)
		return bootslot_set_efivars(c->efivars, PKG_SLOT_A, c->log);
	fprintf(c->log, "flasher: boot slot A (no EFI variable store configured)\n");
	return 0;
}

int flash_run(const struct flash_config *config)
{
	static struct flash_state s;
	memset(&s, 0, sizeof(s));
	struct flash_config c = *config;
	s.c = &c;
	s.console = config->log;
	s.pkg.fd = -1;
	s.progress.wp.advance = progress_advance;
	pthread_mutex_init(&s.progress.lock, NULL);
	FILE *tee = NULL;
	if (c.link) {
		static const cookie_io_functions_t tee_io = { .write = tee_write };
		tee = fopencookie(&s, "w", tee_io);
		if (tee) {
			setvbuf(tee, NULL, _IOLBF, 0);
			c.log = tee;
		}
	}
	double start = now();
	struct write_stats total = { 0 };
	int rc = flash_steps(&s, &total);
	phase_mark(&s, NULL);
	if (rc == 0 && !c.plan_only)
		fprintf(c.log, "flasher: time per step: %s\n", s.phases);
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++)
		if (s.opened[t])
			target_close(&s.targets[t]);
	char summary[512];
	if (rc == 0 && !c.plan_only) {
		snprintf(summary, sizeof(summary),
			 "done: %" PRIu64 " bytes written, %" PRIu64 " read back and verified; NOR "
			 "blocks compared %" PRIu64 ", erased %" PRIu64 ", written %" PRIu64 "; %.2f s",
			 total.bytes_written, total.bytes_read_back, total.blocks_compared,
			 total.blocks_erased, total.blocks_written, now() - start);
		fprintf(c.log, "flasher: %s\n", summary);
	} else if (rc == 0) {
		snprintf(summary, sizeof(summary), "plan printed, nothing written");
	} else {
		snprintf(summary, sizeof(summary), "%s", err_msg());
	}
	if (s.link_open) {
		fflush(c.log);
		if (s.link.reconnects)
			fprintf(c.log, "flasher: link: %u reconnects, %" PRIu64 " bytes asked for again\n",
				s.link.reconnects, s.link.bytes_requested_again);
		progress_phase(&s.progress, LINK_PHASE_DONE, "");
		fflush(c.log);
		link_client_result(&s.link, rc == 0 ? 0 : 1, summary);
		if (rc != 0)
			err_set("%s", summary); /* the link may have recorded its own messages since */
	}
	if (tee)
		fclose(tee);
	if (s.link_open)
		link_client_close(&s.link);
	pkg_file_close(&s.pkg);
	free(s.raw);
	free(s.stored);
	free(s.buf_a);
	free(s.buf_b);
	pthread_mutex_destroy(&s.progress.lock);
	return rc;
}
