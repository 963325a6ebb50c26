/* SPDX-License-Identifier: MIT */
/* The NOR spool: images of the spooled kinds received into memory, then written by a thread. */
#include "write_spool.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "readback.h"
#include "timing.h"
#include "write_image.h"

static void free_spool(struct nor_spool *s)
{
	for (uint32_t i = 0; i < s->count; i++)
		free(s->images[i].bytes);
	free(s->images);
	free(s->buf_a);
	free(s->buf_b);
	s->images = NULL;
	s->buf_a = s->buf_b = NULL;
	s->count = 0;
}

static void enter_phase(struct nor_spool *s, enum write_phase phase, const char *partition)
{
	if (s->progress && s->progress->phase)
		s->progress->phase(s->progress, phase, partition);
}

static void *spool_main(void *arg)
{
	struct nor_spool *s = arg;
	for (uint32_t i = 0; i < s->count; i++) {
		struct nor_spool_image *si = &s->images[i];
		struct target *dev = &s->targets[si->part.target];
		struct image_reader r;
		struct write_stats st = { 0 };
		double start = timing_now_s();
		struct image_job job = { .part = si->part, .reader = &r, .buf_a = s->buf_a,
					 .buf_b = s->buf_b, .buf_size = s->buf_size,
					 .progress = s->progress };
		int rc = image_reader_init_memory(&r, si->bytes, si->size);
		if (rc == 0) {
			enter_phase(s, WRITE_PHASE_WRITE, si->part.name);
			rc = write_image(si->kind, dev, &job, &st);
		}
		if (rc == 0) {
			enter_phase(s, WRITE_PHASE_READBACK, si->part.name);
			rc = readback_image(dev, &job, &st);
		}
		if (rc != 0) {
			/* err_msg() is this thread's: keep the words for the caller */
			snprintf(s->error, sizeof(s->error), "%s", err_msg());
			atomic_store(&s->failed, 1);
			break;
		}
		write_image_log(s->log, si->part.name, si->size, &st, timing_now_s() - start);
		write_stats_add(&s->stats[target_kind_slot(si->kind)], &st);
	}
	return NULL;
}

int nor_spool_start(struct nor_spool *s, const struct pkg_manifest *m, const uint32_t *images,
		    uint32_t n, const struct pkg_partition *parts, struct target *targets,
		    struct pipeline *pipe, struct chunk_source *src, uint8_t *reader_raw,
		    uint8_t *reader_stored, size_t chunk_buf, size_t buf_size,
		    struct write_progress *progress, FILE *log)
{
	memset(s, 0, sizeof(*s));
	s->targets = targets;
	s->progress = progress;
	s->log = log;
	s->buf_size = buf_size;
	s->images = calloc(n ? n : 1, sizeof(*s->images));
	s->buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, buf_size);
	s->buf_b = aligned_alloc(TARGET_DIRECT_ALIGN, buf_size);
	if (!s->images || !s->buf_a || !s->buf_b) {
		free_spool(s);
		return err_set("out of memory for the NOR spool");
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, images[i], &im);
		struct nor_spool_image *si = &s->images[s->count];
		si->part = parts[im.partition];
		si->kind = target_kind_of_partition(m, &si->part);
		if (!si->kind) {
			free_spool(s);
			return -1;
		}
		si->size = (uint32_t)im.size; /* the caller bounds the spool by WRITE_SPOOL_MAX */
		si->bytes = malloc(im.size ? (size_t)im.size : 1);
		if (!si->bytes) {
			free_spool(s);
			return err_set("out of memory for the NOR spool (%s, %" PRIu64 " bytes)",
				       parts[im.partition].name, im.size);
		}
		s->count++;
		struct image_reader r;
		if (image_reader_init(&r, m, &im, src, reader_raw, reader_stored, chunk_buf) != 0) {
			free_spool(s);
			return -1;
		}
		image_reader_use_pipeline(&r, pipe);
		if (image_read(&r, 0, si->bytes, si->size) != 0) {
			err_prefix("partition %s", si->part.name);
			free_spool(s);
			return -1;
		}
	}
	if (pthread_create(&s->thread, NULL, spool_main, s) != 0) {
		free_spool(s);
		return err_set("cannot start the NOR writer thread");
	}
	s->started = 1;
	return 0;
}

int nor_spool_failed(struct nor_spool *s)
{
	return atomic_load(&s->failed);
}

int nor_spool_finish(struct nor_spool *s, struct write_stats by_kind[TARGET_KIND_COUNT])
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = 0;
	int rc = atomic_load(&s->failed) ? err_set("%s", s->error) : 0;
	for (unsigned k = 0; k < TARGET_KIND_COUNT; k++)
		write_stats_add(&by_kind[k], &s->stats[k]);
	free_spool(s);
	return rc;
}
