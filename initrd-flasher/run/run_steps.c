/* SPDX-License-Identifier: MIT */
/* The steps a flash and an update share: identify, package, verify and variant, write. */
#include <stdlib.h>

#include "error.h"
#include "run.h"
#include "verify.h"

int run_step_identify(struct run *r)
{
	const struct flash_config *c = r->c;
	if (identify_read_board(c->eeprom, c->chip_sku, c->chip_sku_file, &r->id) != 0)
		return -1;
	char me[200];
	identify_describe(&r->id, me, sizeof(me));
	fprintf(c->log, "flasher: %s, serial %s\n", me, r->id.serial[0] ? r->id.serial : "?");
	return 0;
}

int run_step_open_package(struct run *r)
{
	const struct flash_config *c = r->c;
	struct package_source_opts o = { .where = c->source, .ca = c->ca,
					 .timeout_s = c->link_timeout_s, .serial = r->id.serial,
					 .run_end_ms = r->run_end_ms,
					 .run_timeout_s = flash_run_timeout_s(c),
					 .part_number = r->id.part_number, .console = r->log.console,
					 .log = c->log, .usb = c->usb };
	if (package_source_open(&r->source, &o) != 0)
		return -1;
	struct link_client *host = package_source_host(r->source);
	if (host) {
		r->progress.link = host;
		report_log_attach(&r->log, host);
	}
	const struct package_source_ops *ops = r->source->ops;
	return pkg_file_open_reader(&r->pkg, r->source->name, ops->size(r->source), ops->read,
				    r->source);
}

static int pick_variant(struct run *r)
{
	r->variant = identify_pick_variant(&r->pkg.manifest, &r->id);
	if (r->variant < 0)
		return -1;
	struct pkg_variant v;
	pkg_manifest_variant(&r->pkg.manifest, (uint32_t)r->variant, &v);
	fprintf(r->c->log, "flasher: package variant %s\n", v.name);
	return 0;
}

static int alloc_buffers(struct run *r)
{
	r->chunk_buf = image_largest_chunk(&r->pkg.manifest);
	r->raw = malloc(r->chunk_buf);
	r->stored = malloc(r->chunk_buf);
	/* aligned for the disks' O_DIRECT read-back */
	r->buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, RUN_WORK_BUF_SIZE);
	r->buf_b = aligned_alloc(TARGET_DIRECT_ALIGN, RUN_WORK_BUF_SIZE);
	if (!r->raw || !r->stored || !r->buf_a || !r->buf_b)
		return err_set("out of memory for the work buffers");
	return 0;
}

int run_step_verify(struct run *r)
{
	const struct flash_config *c = r->c;
	if (verify_package(&r->pkg, c->pubkey, c->allow_unsigned, c->log) != 0)
		return -1;
	/* the manifest is trusted now: a reconnect must find the same one */
	if (r->source->ops->pin &&
	    r->source->ops->pin(r->source, PKG_PREFIX_SIZE + r->pkg.header.manifest_size) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_IDENTIFY, "");
	return pick_variant(r) != 0 || alloc_buffers(r) != 0 ? -1 : 0;
}

int run_write_images(struct run *r, const uint8_t *only_parts,
		     const struct pkg_partition *alt_parts, int whole_partitions)
{
	const struct flash_config *c = r->c;
	const struct pkg_manifest *m = &r->pkg.manifest;
	progress_set_total(&r->progress,
			   progress_total(m, (uint32_t)r->variant, r->parts, only_parts,
					  whole_partitions));
	uint64_t data_offset = PKG_MANIFEST_OFFSET + r->pkg.header.manifest_size;
	struct write_plan w = { .m = m, .variant = (uint32_t)r->variant, .parts = r->parts,
				.targets = r->targets,
				.src = r->source->ops->chunks(r->source, data_offset),
				.raw = r->raw, .stored = r->stored, .chunk_buf = r->chunk_buf,
				.buf_a = r->buf_a, .buf_b = r->buf_b, .buf_size = RUN_WORK_BUF_SIZE,
				.threads = 0, .delta = !c->no_delta, .alt_parts = alt_parts,
				.only_parts = only_parts, .whole_partitions = whole_partitions,
				.parallel = !c->sequential,
				.progress = &r->progress.wp, .log = c->log };
	return write_images(&w, r->by_kind, &r->delta);
}
