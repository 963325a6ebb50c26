/* SPDX-License-Identifier: MIT */
/* Which writer serves which kind of target, and the loop that writes every image of a variant. */
#include "write.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "locate.h"
#include "pipeline.h"
#include "readback.h"
#include "timing.h"

static const struct {
	uint8_t target_kind;
	int (*write)(struct target *t, const struct image_job *job, struct write_stats *st);
} image_writers[] = {
	{ PKG_TARGET_MTD, write_nor_image },
	{ PKG_TARGET_DISK, write_block_image },
};

int write_image(uint8_t target_kind, struct target *t, const struct image_job *job,
		struct write_stats *st)
{
	uint64_t end = job->part.offset + job->reader->im.size;
	if (job->reader->im.size > job->part.size || end > t->size || end < job->part.offset)
		return err_set("partition %s: image of %" PRIu64 " bytes at %" PRIu64
			       " does not fit (partition %" PRIu64 " bytes, device %" PRIu64 ")",
			       job->part.name, job->reader->im.size, job->part.offset, job->part.size,
			       t->size);
	for (size_t i = 0; i < sizeof(image_writers) / sizeof(image_writers[0]); i++)
		if (image_writers[i].target_kind == target_kind)
			return image_writers[i].write(t, job, st);
	return err_set("partition %s: no writer for target kind %u", job->part.name, target_kind);
}


static void add_stats(struct write_stats *to, const struct write_stats *st)
{
	to->blocks_compared += st->blocks_compared;
	to->blocks_skipped += st->blocks_skipped;
	to->blocks_erased += st->blocks_erased;
	to->blocks_written += st->blocks_written;
	to->bytes_written += st->bytes_written;
	to->bytes_read_back += st->bytes_read_back;
	to->bytes_in_place += st->bytes_in_place;
}

static struct write_delta last_delta;

const struct write_delta *write_last_delta(void)
{
	return &last_delta;
}

/* ", 123 in place" for a disk image that delta found partly written already, else "" */
static const char *in_place_note(const struct write_stats *st)
{
	static char text[48];
	if (!st->bytes_in_place)
		return "";
	snprintf(text, sizeof(text), ", %" PRIu64 " in place", st->bytes_in_place);
	return text;
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

int write_images(const struct write_plan *w, struct write_stats by_kind[2])
{
	static struct pipeline pipe;
	static struct chunk_locator locator;
	int threaded = w->threads >= 0, delta = threaded && w->delta;
	memset(&last_delta, 0, sizeof(last_delta));
	if (delta && locate_init(&locator, w->m, w->variant, w->parts, w->targets, w->alt_parts) != 0)
		return -1;
	uint64_t fetched_before = w->src->bytes_fetched;
	if (threaded && pipeline_start(&pipe, w->m, (int)w->variant, w->src, w->chunk_buf,
				       w->threads, delta ? &locator : NULL) != 0) {
		if (delta)
			locate_free(&locator);
		return -1;
	}
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < w->m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(w->m, i, &im);
		if (!pkg_image_in_variant(&im, w->variant))
			continue;
		struct pkg_target tg;
		pkg_manifest_target(w->m, w->parts[im.partition].target, &tg);
		struct write_stats st = { 0 };
		double start = timing_now_s();
		rc = write_one(w, &im, threaded ? &pipe : NULL, &st);
		if (rc != 0)
			break;
		if (w->log)
			fprintf(w->log, "flasher: %-24s %10" PRIu64 " bytes: %" PRIu64 " written, %" PRIu64
					" read back%s; blocks compared %" PRIu64 ", skipped %" PRIu64
					", erased %" PRIu64 ", written %" PRIu64 "; %.2f s\n",
				w->parts[im.partition].name, im.size, st.bytes_written,
				st.bytes_read_back, in_place_note(&st), st.blocks_compared,
				st.blocks_skipped, st.blocks_erased, st.blocks_written,
				timing_now_s() - start);
		add_stats(&by_kind[tg.kind == PKG_TARGET_MTD ? 0 : 1], &st);
	}
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
