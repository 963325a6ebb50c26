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

/* What one write_images works with: big, so on the heap, and its own, so two runs share
 * nothing. */
struct write_work {
	struct pipeline pipe;
	struct chunk_locator locator;
	struct nor_spool spool;
	struct readback_queue rb; /* checks the image being written beside its writer (disks) */
};

/* The row of the kind of target im goes to; NULL (err_msg() says so) when no row serves it. */
static const struct target_kind *kind_of(const struct write_plan *w, const struct pkg_image *im)
{
	return target_kind_of_partition(w->m, &w->parts[im->partition]);
}

/* An image this plan writes: of its variant, of a chosen partition where it chooses, and
 * blocks of a device (a file partition is staged by the slot backend, slot_backend.h). */
static int image_wanted(const struct write_plan *w, const struct pkg_image *im)
{
	return pkg_image_in_variant(im, w->variant) &&
	       (!w->only_parts || w->only_parts[im->partition]) &&
	       w->parts[im->partition].kind != PKG_PART_FILE; /* staged as a file, never written */
}

static void enter_phase(const struct write_plan *w, enum write_phase phase, const char *partition)
{
	if (w->progress && w->progress->phase)
		w->progress->phase(w->progress, phase, partition);
}

/* One image: written, then read back (inline kinds: checked beside the writer as it goes,
 * through rb). */
static int write_one(const struct write_plan *w, const struct pkg_image *im,
		     const struct target_kind *k, struct pipeline *pipe,
		     struct readback_queue *rb, struct write_stats *st)
{
	struct image_reader r;
	struct image_job job = { .part = w->parts[im->partition], .reader = &r,
				 .buf_a = w->buf_a, .buf_b = w->buf_b, .buf_size = w->buf_size,
				 .progress = w->progress };
	struct target *dev = &w->targets[job.part.target];
	if (image_reader_init(&r, w->m, im, w->src, w->raw, w->stored, w->chunk_buf) != 0)
		return -1;
	uint64_t zero_end = target_kind_zero_end(k, im, &job.part, w->whole_partitions);
	if (zero_end > im->size && image_reader_zero_through(&r, zero_end) != 0)
		return err_prefix("partition %s", job.part.name);
	if (pipe)
		image_reader_use_pipeline(&r, pipe);
	if (pipe && k->readback == TARGET_READBACK_INLINE) {
		if (readback_start(rb, dev, &job, w->threads) != 0)
			return -1;
		job.readback = rb;
	}
	enter_phase(w, WRITE_PHASE_WRITE, job.part.name);
	int rc = write_image(k, dev, &job, st);
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
 * The images of the variant in the order they are written: with a spool, the images of the
 * spooled kinds (NOR) first (they go to memory at link speed), then the rest; else manifest
 * order. *count: how many; *spooled_count: how many spooled images lead (0: no spool).
 * 0, or -1 when an image's target has a kind no row serves.
 */
static int image_order(const struct write_plan *w, int threaded, uint32_t *order,
		       uint32_t *count, uint32_t *spooled_count)
{
	uint32_t spooled = 0, other = 0, n = 0;
	uint64_t spooled_bytes = 0;
	for (uint32_t i = 0; i < w->m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(w->m, i, &im);
		if (!image_wanted(w, &im))
			continue;
		const struct target_kind *k = kind_of(w, &im);
		if (!k)
			return -1;
		spooled += k->spooled;
		other += !k->spooled;
		spooled_bytes += k->spooled ? im.size : 0;
	}
	/* a spool only when it overlaps something and fits in memory */
	int spool = threaded && w->parallel && spooled && other && spooled_bytes <= WRITE_SPOOL_MAX;
	*spooled_count = spool ? spooled : 0;
	for (int pass = spool ? 0 : 1; pass < 2; pass++) {
		for (uint32_t i = 0; i < w->m->image_count; i++) {
			struct pkg_image im;
			pkg_manifest_image(w->m, i, &im);
			if (image_wanted(w, &im) && (!spool || (pass == 0) == kind_of(w, &im)->spooled))
				order[n++] = i;
		}
	}
	*count = n;
	return 0;
}

/* What the pipeline found on the board and fetched, read after its threads are gone. */
static struct write_delta delta_of(const struct pipeline *pipe, uint64_t fetched)
{
	return (struct write_delta){
		.chunks_in_place = pipe->chunks_in_place,
		.chunks_copied = pipe->chunks_elsewhere,
		.chunks_fetched = pipe->count - pipe->chunks_in_place - pipe->chunks_elsewhere,
		.bytes_in_place = pipe->bytes_in_place,
		.bytes_copied = pipe->bytes_elsewhere,
		.bytes_fetched = fetched,
	};
}

/* The images in `order` after the spooled ones, each written and read back in turn. */
static int write_streamed(const struct write_plan *w, struct write_work *work, int threaded,
			  const uint32_t *order, uint32_t first, uint32_t count, int spooling,
			  struct write_stats by_kind[TARGET_KIND_COUNT])
{
	for (uint32_t n = first; n < count; n++) {
		if (spooling && nor_spool_failed(&work->spool))
			return 0; /* its error is the one to tell */
		struct pkg_image im;
		pkg_manifest_image(w->m, order[n], &im);
		const struct target_kind *k = kind_of(w, &im);
		struct write_stats st = { 0 };
		double start = timing_now_s();
		if (write_one(w, &im, k, threaded ? &work->pipe : NULL, &work->rb, &st) != 0)
			return -1;
		write_image_log(w->log, w->parts[im.partition].name, im.size, &st,
				timing_now_s() - start);
		write_stats_add(&by_kind[target_kind_slot(k)], &st);
	}
	return 0;
}

int write_images(const struct write_plan *w, struct write_stats by_kind[TARGET_KIND_COUNT],
		 struct write_delta *delta)
{
	int threaded = w->threads >= 0, use_delta = threaded && w->delta;
	struct write_delta found = { 0 };
	uint32_t *order = malloc(((size_t)w->m->image_count + 1) * sizeof(*order));
	struct write_work *work = calloc(1, sizeof(*work));
	uint32_t count = 0, spooled = 0;
	int rc = -1;
	if (!order || !work)
		err_set("out of memory for the %s", order ? "write's threads and queues" : "image order");
	else if (image_order(w, threaded, order, &count, &spooled) == 0)
		rc = 0;
	if (rc == 0 && use_delta &&
	    locate_init(&work->locator, w->m, w->variant, w->parts, w->targets, w->alt_parts) != 0)
		rc = -1;
	uint64_t fetched_before = w->src->bytes_fetched;
	if (rc == 0 && threaded &&
	    pipeline_start(&work->pipe, w->m, (int)w->variant, w->src, w->chunk_buf, w->threads,
			   use_delta ? &work->locator : NULL, order, count) != 0) {
		if (use_delta)
			locate_free(&work->locator);
		rc = -1;
	}
	if (rc != 0) {
		free(work);
		free(order);
		if (delta)
			*delta = found;
		return -1;
	}
	if (spooled)
		rc = nor_spool_start(&work->spool, w->m, order, spooled, w->parts, w->targets,
				     &work->pipe, w->src, w->raw, w->stored, w->chunk_buf,
				     w->buf_size, w->progress, w->log);
	if (rc == 0)
		rc = write_streamed(w, work, threaded, order, spooled, count, spooled != 0, by_kind);
	if (spooled && work->spool.images) {
		/* the disk is done (or failed): wait for the NOR, whose error comes first */
		char disk_error[ERR_MSG_MAX];
		snprintf(disk_error, sizeof(disk_error), "%s", rc ? err_msg() : "");
		if (nor_spool_finish(&work->spool, by_kind) != 0)
			rc = -1;
		else if (rc != 0)
			err_set("%s", disk_error);
	}
	if (threaded) {
		if (work->pipe.side_fetches && w->log)
			fprintf(w->log, "flasher: %" PRIu64 " chunks fetched again out of order\n",
				work->pipe.side_fetches);
		pipeline_stop(&work->pipe); /* its threads are gone: their counts can be read */
		found = delta_of(&work->pipe, w->src->bytes_fetched - fetched_before);
	}
	if (use_delta) {
		locate_free(&work->locator);
		if (rc == 0 && w->log)
			fprintf(w->log, "flasher: delta: %" PRIu32 " chunks (%" PRIu64 " bytes) already "
					"in place, %" PRIu32 " (%" PRIu64 " bytes) copied on the board, %"
					PRIu32 " fetched (%" PRIu64 " bytes)\n",
				found.chunks_in_place, found.bytes_in_place, found.chunks_copied,
				found.bytes_copied, found.chunks_fetched, found.bytes_fetched);
	}
	free(work);
	free(order);
	if (delta)
		*delta = found;
	return rc;
}
