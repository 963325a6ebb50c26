/* SPDX-License-Identifier: MIT */
/* The loop that writes every image of a variant, each read back, with delta and the NOR spool. */
#include "write.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "locate.h"
#include "pipeline.h"
#include "readback.h"
#include "timing.h"
#include "write_spool.h"

static uint8_t target_kind_of(const struct write_plan *w, const struct pkg_image *im)
{
	struct pkg_target tg;
	pkg_manifest_target(w->m, w->parts[im->partition].target, &tg);
	return tg.kind;
}

/* An image this plan writes: of its variant, and of a chosen partition where it chooses. */
static int image_wanted(const struct write_plan *w, const struct pkg_image *im)
{
	return pkg_image_in_variant(im, w->variant) &&
	       (!w->only_parts || w->only_parts[im->partition]);
}

static struct write_delta last_delta;

const struct write_delta *write_last_delta(void)
{
	return &last_delta;
}

static void enter_phase(const struct write_plan *w, enum write_phase phase, const char *partition)
{
	if (w->progress && w->progress->phase)
		w->progress->phase(w->progress, phase, partition);
}

/* One image: written, then read back (disks: checked beside the writer as it goes). */
static int write_one(const struct write_plan *w, const struct pkg_image *im,
		     struct pipeline *pipe, struct write_stats *st)
{
	/* one at a time: static keeps the queue (and its worker table) off the stack */
	static struct readback_queue rb;
	struct image_reader r;
	struct image_job job = { .part = w->parts[im->partition], .reader = &r,
				 .buf_a = w->buf_a, .buf_b = w->buf_b, .buf_size = w->buf_size,
				 .progress = w->progress };
	struct pkg_target tg;
	pkg_manifest_target(w->m, job.part.target, &tg);
	struct target *dev = &w->targets[job.part.target];
	if (image_reader_init(&r, w->m, im, w->src, w->raw, w->stored, w->chunk_buf) != 0)
		return -1;
	if (pipe)
		image_reader_use_pipeline(&r, pipe);
	/* NOR checks each block as it goes, then the whole image after */
	if (pipe && tg.kind == PKG_TARGET_DISK) {
		if (readback_start(&rb, dev, &job, w->threads) != 0)
			return -1;
		job.readback = &rb;
	}
	enter_phase(w, WRITE_PHASE_WRITE, job.part.name);
	int rc = write_image(tg.kind, dev, &job, st);
	if (rc == 0) {
		if (!job.readback)
			enter_phase(w, WRITE_PHASE_READBACK, job.part.name);
		rc = readback_image(dev, &job, st);
	} else if (job.readback) {
		struct write_stats ignored = { 0 };
		readback_finish(job.readback, &ignored); /* the write's error is the one to tell */
	}
	return rc;
}

/*
 * The images of the variant in the order they are written: with a NOR spool, the NOR images
 * first (they go to memory at link speed), then the rest; else manifest order. Returns the
 * count; *nor_count: how many NOR images lead (0: no spool).
 */
static uint32_t image_order(const struct write_plan *w, int threaded, uint32_t *order,
			    uint32_t *nor_count)
{
	uint32_t nor = 0, other = 0, n = 0;
	uint64_t nor_bytes = 0;
	for (uint32_t i = 0; i < w->m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(w->m, i, &im);
		if (!image_wanted(w, &im))
			continue;
		int is_nor = target_kind_of(w, &im) == PKG_TARGET_MTD;
		nor += is_nor;
		other += !is_nor;
		nor_bytes += is_nor ? im.size : 0;
	}
	/* a spool only when it overlaps something and fits in memory */
	int spool = threaded && w->parallel && nor && other && nor_bytes <= WRITE_SPOOL_MAX;
	*nor_count = spool ? nor : 0;
	for (int pass = spool ? 0 : 1; pass < 2; pass++) {
		for (uint32_t i = 0; i < w->m->image_count; i++) {
			struct pkg_image im;
			pkg_manifest_image(w->m, i, &im);
			if (!image_wanted(w, &im))
				continue;
			int is_nor = target_kind_of(w, &im) == PKG_TARGET_MTD;
			if (!spool || (pass == 0) == is_nor)
				order[n++] = i;
		}
	}
	return n;
}

int write_images(const struct write_plan *w, struct write_stats by_kind[2])
{
	static struct pipeline pipe;
	static struct chunk_locator locator;
	static struct nor_spool spool;
	int threaded = w->threads >= 0, delta = threaded && w->delta;
	memset(&last_delta, 0, sizeof(last_delta));
	uint32_t *order = malloc(((size_t)w->m->image_count + 1) * sizeof(*order)), nor_count = 0;
	if (!order)
		return err_set("out of memory for the image order");
	uint32_t count = image_order(w, threaded, order, &nor_count);
	if (delta && locate_init(&locator, w->m, w->variant, w->parts, w->targets, w->alt_parts) != 0) {
		free(order);
		return -1;
	}
	uint64_t fetched_before = w->src->bytes_fetched;
	if (threaded && pipeline_start(&pipe, w->m, (int)w->variant, w->src, w->chunk_buf,
				       w->threads, delta ? &locator : NULL, order, count) != 0) {
		if (delta)
			locate_free(&locator);
		free(order);
		return -1;
	}
	int rc = 0;
	uint32_t first = 0;
	if (nor_count) {
		rc = nor_spool_start(&spool, w->m, order, nor_count, w->parts, w->targets, &pipe, w->src,
				     w->raw, w->stored, w->chunk_buf, w->buf_size, w->progress, w->log);
		first = nor_count;
	}
	for (uint32_t k = first; rc == 0 && k < count; k++) {
		if (nor_count && nor_spool_failed(&spool))
			break; /* its error is the one to tell */
		struct pkg_image im;
		pkg_manifest_image(w->m, order[k], &im);
		struct pkg_target tg;
		pkg_manifest_target(w->m, w->parts[im.partition].target, &tg);
		struct write_stats st = { 0 };
		double start = timing_now_s();
		rc = write_one(w, &im, threaded ? &pipe : NULL, &st);
		if (rc != 0)
			break;
		write_image_log(w->log, w->parts[im.partition].name, im.size, &st,
				timing_now_s() - start);
		write_stats_add(&by_kind[tg.kind == PKG_TARGET_MTD ? 0 : 1], &st);
	}
	if (nor_count && spool.images) {
		/* the disk is done (or failed): wait for the NOR, whose error comes first */
		char disk_error[ERR_MSG_MAX];
		snprintf(disk_error, sizeof(disk_error), "%s", rc ? err_msg() : "");
		if (nor_spool_finish(&spool, &by_kind[0]) != 0)
			rc = -1;
		else if (rc != 0)
			err_set("%s", disk_error);
	}
	free(order);
	if (threaded) {
		if (pipe.side_fetches && w->log)
			fprintf(w->log, "flasher: %" PRIu64 " chunks fetched again out of order\n",
				pipe.side_fetches);
		pipeline_stop(&pipe); /* its threads are gone: their counts can be read */
		last_delta.chunks_in_place = pipe.chunks_in_place;
		last_delta.chunks_copied = pipe.chunks_elsewhere;
		last_delta.bytes_in_place = pipe.bytes_in_place;
		last_delta.bytes_copied = pipe.bytes_elsewhere;
		last_delta.chunks_fetched =
			pipe.count - pipe.chunks_in_place - pipe.chunks_elsewhere;
		last_delta.bytes_fetched = w->src->bytes_fetched - fetched_before;
	}
	if (delta) {
		locate_free(&locator);
		if (rc == 0 && w->log)
			fprintf(w->log, "flasher: delta: %" PRIu32 " chunks (%" PRIu64 " bytes) already "
					"in place, %" PRIu32 " (%" PRIu64 " bytes) copied on the board, %"
					PRIu32 " fetched (%" PRIu64 " bytes)\n",
				last_delta.chunks_in_place, last_delta.bytes_in_place,
				last_delta.chunks_copied, last_delta.bytes_copied,
				last_delta.chunks_fetched, last_delta.bytes_fetched);
	}
	return rc;
}
