/* SPDX-License-Identifier: MIT */
/* Chunk work (read, zero check, SHA-256, zlib or zstd, stored form) on a pool of threads, in order. */
#include "chunker.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "error.h"
#include "pkg.h"

/*
 * Buffer pairs per worker: one being worked on, one finished and waiting for its turn to be
 * written (results leave in window order, so a fast window waits for a slow one before it),
 * one queued so that no worker idles while the writer catches up.
 */
#define CHUNKER_SLOTS_PER_JOB 3

/* One window in flight. The submitting thread owns it until it is queued, a worker from
 * then until `done`, the submitting thread again afterwards. */
struct chunk_slot {
	uint8_t *window, *packed;
	ZSTD_CCtx *zstd;  /* zstd's tables, kept from window to window (PKG_COMP_ZSTD only) */
	chunker_read_fn read;
	void *read_ctx;
	int failed;       /* the read failed: `err` holds the worker's message */
	int done;         /* guarded by the chunker's lock */
	struct chunk_result result;
	char err[ERR_MSG_MAX];
};

struct chunker {
	uint32_t chunk_size;
	struct chunk_codec codec;
	unsigned jobs;
	uint32_t nslots;
	struct chunk_slot *slots;
	pthread_t *threads;
	unsigned nthreads;    /* started so far: what chunker_free() joins */
	/* Sequence numbers of windows, across images: slot = seq % nslots. Each counts up;
	 * taken <= submitted, consumed <= submitted, submitted - consumed <= nslots. */
	uint64_t submitted, taken, consumed;
	int cancel;           /* a window failed: workers drop queued windows unread */
	int quit;
	pthread_mutex_t lock;
	pthread_cond_t work_cv; /* workers wait here for a queued window */
	pthread_cond_t done_cv; /* the submitter waits here for the oldest window */
};

static int chunk_is_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * zstd's level, measured on tests/bench/image.py's image (2 GiB ext4, 466 MiB used: 320 MiB
 * random, 80 MiB text; 1 MiB chunks; `build -j2` on 2 CPUs): the 91 compressible chunks
 * (95 MB) store in 18.2 MB with zlib (build 22 s: zlib grinds through the random data too),
 * 19.4 MB at zstd level 3 (5 s), 15.8 MB at 9 (9 s), 12.4 MB at 12 (6-9 s), 10.6 MB at 15
 * (39 s), 10.1 MB at 19 (106 s). 12 is the knee: a third smaller than zlib, still faster to
 * build than zlib; beyond it each MB costs tens of seconds. Decoding speed hardly depends on
 * the level. The output is the same for a given level and input, whatever the thread count.
 */
#ifndef CHUNKER_ZSTD_LEVEL
#define CHUNKER_ZSTD_LEVEL 12
#endif

/* Room for a window's compressed form: whichever codec's worst case is larger. */
static size_t packed_bound(uint32_t chunk_size)
{
	size_t z = compressBound(chunk_size), s = ZSTD_compressBound(chunk_size);
	return z > s ? z : s;
}

/* The work on one window; the single-threaded build did exactly this, inline. */
static void chunk_slot_work(struct chunk_slot *s, uint32_t chunk_size,
			    const struct chunk_codec *codec)
{
	struct chunk_result *r = &s->result;
	int hole = s->read(s->read_ctx, r->offset, s->window, r->raw_size);
	if (hole < 0) {
		s->failed = 1;
		memcpy(s->err, err_msg(), sizeof(s->err));
		return;
	}
	if (hole) {
		r->kind = CHUNK_HOLE;
		return;
	}
	if (chunk_is_zero(s->window, r->raw_size)) {
		r->kind = CHUNK_ZERO;
		return;
	}
	r->kind = CHUNK_DATA;
	sha256_buffer(s->window, r->raw_size, r->sha256);
	r->stored = s->window;
	r->stored_size = r->raw_size;
	r->compression = PKG_COMP_NONE;
	size_t packed_len = packed_bound(chunk_size);
	if (codec->id == PKG_COMP_ZSTD) {
		packed_len = ZSTD_compressCCtx(s->zstd, s->packed, packed_len, s->window, r->raw_size,
					       codec->level ? codec->level : CHUNKER_ZSTD_LEVEL);
		if (ZSTD_isError(packed_len))
			packed_len = SIZE_MAX;
	} else {
		uLongf zlib_len = packed_len;
		packed_len = compress2(s->packed, &zlib_len, s->window, r->raw_size,
				       Z_DEFAULT_COMPRESSION) == Z_OK ? zlib_len : SIZE_MAX;
	}
	/* compressed only where that is smaller: the rest stays verbatim (already compressed
	 * files, random data) and costs the board nothing to decode */
	if (packed_len < r->raw_size) {
		r->stored = s->packed;
		r->stored_size = (uint32_t)packed_len;
		r->compression = codec->id;
	}
	r->stored_crc32 = (uint32_t)crc32(0, r->stored, r->stored_size);
}

static void *chunker_run_worker(void *arg)
{
	struct chunker *c = arg;
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->quit && c->taken == c->submitted)
			pthread_cond_wait(&c->work_cv, &c->lock);
		if (c->quit)
			break;
		uint64_t seq = c->taken++;
		struct chunk_slot *s = &c->slots[seq % c->nslots];
		int cancel = c->cancel;
		pthread_mutex_unlock(&c->lock);
		/* after a failure the build stops: windows behind it are not worth reading */
		if (!cancel)
			chunk_slot_work(s, c->chunk_size, &c->codec);
		pthread_mutex_lock(&c->lock);
		s->done = 1;
		/* the submitter only ever waits for the oldest window: wake it for no other */
		if (seq == c->consumed)
			pthread_cond_signal(&c->done_cv);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

unsigned chunker_count_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > CHUNKER_MAX_JOBS ? CHUNKER_MAX_JOBS : (unsigned)n;
}

struct chunker *chunker_new(uint32_t chunk_size, unsigned jobs, const struct chunk_codec *codec)
{
	if (chunk_size < 4096 || chunk_size > PKG_MAX_CHUNK_SIZE) {
		err_set("chunk size %u outside 4096..%u", (unsigned)chunk_size, PKG_MAX_CHUNK_SIZE);
		return NULL;
	}
	if (jobs < 1 || jobs > CHUNKER_MAX_JOBS) {
		err_set("%u jobs, expected 1..%d", jobs, CHUNKER_MAX_JOBS);
		return NULL;
	}
	if ((codec->id != PKG_COMP_ZLIB && codec->id != PKG_COMP_ZSTD) ||
	    (codec->level && (codec->id != PKG_COMP_ZSTD || codec->level < CHUNKER_ZSTD_LEVEL_MIN ||
			      codec->level > CHUNKER_ZSTD_LEVEL_MAX))) {
		err_set("codec %u level %d, expected zlib, or zstd at %d..%d", codec->id, codec->level,
			CHUNKER_ZSTD_LEVEL_MIN, CHUNKER_ZSTD_LEVEL_MAX);
		return NULL;
	}
	struct chunker *c = calloc(1, sizeof(*c));
	if (!c) {
		err_set("out of memory");
		return NULL;
	}
	c->chunk_size = chunk_size;
	c->codec = *codec;
	c->jobs = jobs;
	/* one slot without threads: the caller's thread works each window before the next */
	c->nslots = jobs == 1 ? 1 : jobs * CHUNKER_SLOTS_PER_JOB;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	int rc = c->slots ? 0 : err_set("out of memory");
	for (uint32_t i = 0; rc == 0 && i < c->nslots; i++) {
		c->slots[i].window = malloc(chunk_size);
		c->slots[i].packed = malloc(packed_bound(chunk_size));
		if (codec->id == PKG_COMP_ZSTD)
			c->slots[i].zstd = ZSTD_createCCtx();
		if (!c->slots[i].window || !c->slots[i].packed ||
		    (codec->id == PKG_COMP_ZSTD && !c->slots[i].zstd))
			rc = err_set("out of memory (%u buffers of %u bytes for %u jobs)",
				     (unsigned)c->nslots, (unsigned)chunk_size, jobs);
	}
	if (rc != 0) {
		chunker_free(c);
		return NULL;
	}
	if (jobs == 1)
		return c;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work_cv, NULL);
	pthread_cond_init(&c->done_cv, NULL);
	c->threads = calloc(jobs, sizeof(*c->threads));
	if (!c->threads)
		rc = err_set("out of memory");
	for (unsigned i = 0; rc == 0 && i < jobs; i++) {
		int e = pthread_create(&c->threads[i], NULL, chunker_run_worker, c);
		if (e != 0)
			rc = err_set("starting worker thread %u of %u: %s", i + 1, jobs, strerror(e));
		else
			c->nthreads++;
	}
	if (rc != 0) {
		chunker_free(c);
		return NULL;
	}
	return c;
}

/* The caller's share of one window: queue it (or, without threads, work on it now). */
static void chunker_submit_window(struct chunker *c, chunker_read_fn read, void *read_ctx,
				  uint64_t offset, uint32_t len)
{
	struct chunk_slot *s = &c->slots[c->submitted % c->nslots];
	s->read = read;
	s->read_ctx = read_ctx;
	s->failed = 0;
	memset(&s->result, 0, sizeof(s->result));
	s->result.offset = offset;
	s->result.raw_size = len;
	if (!c->threads) {
		chunk_slot_work(s, c->chunk_size, &c->codec);
		s->done = 1;
		c->submitted++;
		return;
	}
	pthread_mutex_lock(&c->lock);
	s->done = 0;
	c->submitted++;
	pthread_cond_signal(&c->work_cv);
	pthread_mutex_unlock(&c->lock);
}

/* Waits until the oldest window in flight is finished; returns its slot. */
static struct chunk_slot *chunker_wait_oldest(struct chunker *c)
{
	struct chunk_slot *s = &c->slots[c->consumed % c->nslots];
	if (!c->threads)
		return s;
	pthread_mutex_lock(&c->lock);
	while (!s->done)
		pthread_cond_wait(&c->done_cv, &c->lock);
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* The oldest window's slot is free again; workers read `consumed`, so under the lock. */
static void chunker_release_oldest(struct chunker *c)
{
	if (!c->threads) {
		c->consumed++;
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->consumed++;
	pthread_mutex_unlock(&c->lock);
}

static void chunker_set_cancel(struct chunker *c, int cancel)
{
	if (!c->threads)
		return;
	pthread_mutex_lock(&c->lock);
	c->cancel = cancel;
	pthread_mutex_unlock(&c->lock);
}

int chunker_cut_image(struct chunker *c, chunker_read_fn read, void *read_ctx, uint64_t size,
		      chunker_emit_fn emit, void *emit_ctx)
{
	const uint32_t cs = c->chunk_size;
	/* no window of an earlier image is in flight: every call drains before it returns */
	chunker_set_cancel(c, 0);
	uint64_t next = 0; /* offset of the next window to submit */
	int rc = 0;
	for (;;) {
		while (rc == 0 && next < size && c->submitted - c->consumed < c->nslots) {
			uint32_t len = size - next < cs ? (uint32_t)(size - next) : cs;
			chunker_submit_window(c, read, read_ctx, next, len);
			next += len; /* len <= size - next: cannot wrap */
		}
		if (c->consumed == c->submitted)
			break;
		struct chunk_slot *s = chunker_wait_oldest(c);
		if (rc == 0 && s->failed) {
			rc = err_set("%s", s->err);
			chunker_set_cancel(c, 1);
		} else if (rc == 0 && emit(emit_ctx, &s->result) != 0) {
			rc = -1;
			chunker_set_cancel(c, 1);
		}
		chunker_release_oldest(c);
	}
	return rc;
}

void chunker_free(struct chunker *c)
{
	if (!c)
		return;
	if (c->threads) {
		pthread_mutex_lock(&c->lock);
		c->quit = 1;
		pthread_cond_broadcast(&c->work_cv);
		pthread_mutex_unlock(&c->lock);
		for (unsigned i = 0; i < c->nthreads; i++)
			pthread_join(c->threads[i], NULL);
		free(c->threads);
		pthread_cond_destroy(&c->done_cv);
		pthread_cond_destroy(&c->work_cv);
		pthread_mutex_destroy(&c->lock);
	}
	for (uint32_t i = 0; c->slots && i < c->nslots; i++) {
		free(c->slots[i].window);
		free(c->slots[i].packed);
		ZSTD_freeCCtx(c->slots[i].zstd);
	}
	free(c->slots);
	free(c);
}
