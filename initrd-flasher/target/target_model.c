/* SPDX-License-Identifier: MIT */
/*
 * A target that takes the time a real part takes (target_model.h): it wraps an open target,
 * and each operation reserves the device's time, does the operation and sleeps to the
 * reservation's absolute end.
 *
 * A device is one queue: one "busy until" per target under a mutex. An operation starts when
 * the device is free or now, whichever is later, and ends its modelled time after that; many
 * threads reserve one after another and each waits for its own end (an NVMe drive has parallel
 * queues, but a sustained rate is a sustained rate). A sleeper wakes a little late; that
 * lateness is not the device's: the next operation is credited with it, so that thousands of
 * short operations cost their modelled time and not one wake-up latency each. Operations are
 * synchronous, as MTD's are; an SSD behind the page cache would overlap the host's work with
 * its writes, so for disks the model is conservative (never faster than the part).
 */
#include "target_model.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "timing.h"

/* No modelled operation lasts longer (31 years): a cost is never an overflowed integer. */
#define MAX_COST_NS 1e18

struct target_model {
	struct target inner;
	struct target_ops ops; /* the inner target's operations, each timed */
	struct target_model_params p;
	pthread_mutex_t lock; /* guards everything below */
	uint64_t busy_until_ns; /* when the device has done everything asked of it */
	uint64_t late_ns;       /* how late the sleeper for busy_until_ns woke */
	struct target_model_stats stats;
};

static uint64_t cost_ns(double ns)
{
	return ns >= MAX_COST_NS ? (uint64_t)MAX_COST_NS : (uint64_t)(ns + 0.5);
}

uint64_t target_model_read_ns(const struct target_model_params *p, uint64_t len)
{
	return p->read_mbps > 0 ? cost_ns((double)len * 1e3 / p->read_mbps) : 0;
}

uint64_t target_model_write_ns(const struct target_model_params *p, uint64_t off, uint64_t len)
{
	if (len == 0)
		return 0;
	if (p->page_us > 0) {
		/* NOR programs a page at a time: every page the write touches takes a page time */
		uint64_t pages = (off + len - 1) / p->page - off / p->page + 1;
		return cost_ns((double)pages * p->page_us * 1e3);
	}
	return p->write_mbps > 0 ? cost_ns((double)len * 1e3 / p->write_mbps) : 0;
}

uint64_t target_model_erase_ns(const struct target_model_params *p, uint64_t blocks)
{
	return p->erase_ms > 0 ? cost_ns((double)blocks * p->erase_ms * 1e6) : 0;
}

/* Reserves ns of device time after whatever is queued; the reservation's end, or 0 when the
 * operation takes no modelled time (it then waits for nothing). */
static uint64_t reserve(struct target_model *m, uint64_t ns)
{
	if (ns == 0)
		return 0;
	uint64_t now = timing_now_ns();
	pthread_mutex_lock(&m->lock);
	if (now > m->busy_until_ns) {
		/* the device went idle: for as long as the last operation ran late, it did not */
		uint64_t idle = now - m->busy_until_ns;
		now -= m->late_ns < idle ? m->late_ns : idle;
	}
	m->late_ns = 0;
	uint64_t start = now > m->busy_until_ns ? now : m->busy_until_ns;
	m->busy_until_ns = start + ns;
	m->stats.busy_ns += ns;
	uint64_t end = m->busy_until_ns;
	pthread_mutex_unlock(&m->lock);
	return end;
}

/*
 * Sleeps to end (a reserve() result) and notes how late it woke, while no later reservation
 * has made that lateness moot. Late is late whatever the cause: the sleeper's wake-up (timer
 * slack, scheduling) or the stand-in's own work outlasting the modelled time (a file emulating
 * NOR, another program on this machine taking the CPU); none of it is the part's time. The
 * host's work between operations is not credited: a real part waits for that too.
 */
static void wait_for(struct target_model *m, uint64_t end)
{
	if (end == 0)
		return;
	timing_sleep_until_ns(end);
	uint64_t woke = timing_now_ns();
	pthread_mutex_lock(&m->lock);
	if (m->busy_until_ns == end && woke > end)
		m->late_ns = woke - end;
	pthread_mutex_unlock(&m->lock);
}

static void count(struct target_model *m, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&m->lock);
	*counter += n;
	pthread_mutex_unlock(&m->lock);
}

static int model_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	struct target_model *m = t->priv;
	uint64_t end = reserve(m, target_model_read_ns(&m->p, len));
	int rc = m->inner.ops->read(&m->inner, off, buf, len);
	count(m, &m->stats.bytes_read, len);
	wait_for(m, end);
	return rc;
}

static int model_read_direct(struct target *t, uint64_t off, void *buf, size_t len,
			     size_t *got)
{
	struct target_model *m = t->priv;
	*got = 0;
	int rc = m->inner.ops->read_direct(&m->inner, off, buf, len, got);
	/* the device's answer says how much it read: charged after */
	count(m, &m->stats.bytes_read, *got);
	wait_for(m, reserve(m, target_model_read_ns(&m->p, *got)));
	return rc;
}

static int model_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	struct target_model *m = t->priv;
	uint64_t end = reserve(m, target_model_write_ns(&m->p, off, len));
	int rc = m->inner.ops->write(&m->inner, off, buf, len);
	count(m, &m->stats.bytes_written, len);
	wait_for(m, end);
	return rc;
}

static int model_erase(struct target *t, uint64_t off, uint64_t len)
{
	struct target_model *m = t->priv;
	uint64_t blocks = t->erase_size ? len / t->erase_size : 0;
	uint64_t end = reserve(m, target_model_erase_ns(&m->p, blocks));
	int rc = m->inner.ops->erase(&m->inner, off, len);
	count(m, &m->stats.blocks_erased, blocks);
	wait_for(m, end);
	return rc;
}

/*
 * Zeroing counts as writing the bytes at the write rate. A hole punched into a file, or a
 * BLKZEROOUT the SSD serves as a deallocation, may cost a real SSD far less; charging the
 * write rate keeps the model conservative (never faster than the part could be).
 */
static int model_zero(struct target *t, uint64_t off, uint64_t len)
{
	struct target_model *m = t->priv;
	int rc = m->inner.ops->zero(&m->inner, off, len);
	if (rc == 0) { /* 1: not done here, the caller writes the zeros (and is charged then) */
		count(m, &m->stats.bytes_written, len);
		wait_for(m, reserve(m, target_model_write_ns(&m->p, off, len)));
	}
	return rc;
}

static int model_flush(struct target *t)
{
	struct target_model *m = t->priv;
	return m->inner.ops->flush(&m->inner);
}

static int model_is_hole(struct target *t, uint64_t off, uint64_t len)
{
	struct target_model *m = t->priv;
	return m->inner.ops->is_hole(&m->inner, off, len);
}

static void model_close(struct target *t)
{
	struct target_model *m = t->priv;
	target_close(&m->inner);
	pthread_mutex_destroy(&m->lock);
	free(m);
	t->priv = NULL;
	t->model = NULL;
}

int target_model_wrap(struct target *t, const struct target_model_params *p)
{
	struct target_model_params params = *p;
	if (params.page > t->erase_size && t->erase_size) {
		if (params.given & TARGET_MODEL_PAGE)
			return err_set("%s: program page %" PRIu32 " is larger than the erase block %"
				       PRIu32, t->name, params.page, t->erase_size);
		params.page = t->erase_size; /* the default page on a NOR with smaller blocks */
	}
	struct target_model *m = calloc(1, sizeof(*m));
	if (!m)
		return err_set("out of memory");
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return err_set("%s: cannot make the model's lock", t->name);
	}
	m->inner = *t;
	m->p = params;
	/* the same operations the inner target has, each timed */
	static const struct target_ops base = { .read = model_read, .write = model_write,
						.flush = model_flush, .close = model_close };
	m->ops = base;
	if (t->ops->erase)
		m->ops.erase = model_erase;
	if (t->ops->read_direct)
		m->ops.read_direct = model_read_direct;
	if (t->ops->is_hole)
		m->ops.is_hole = model_is_hole;
	if (t->ops->zero)
		m->ops.zero = model_zero;
	t->ops = &m->ops;
	t->priv = m;
	t->model = m;
	/* fd and direct_fd stay: the O_DIRECT read-back and libblkid use the inner descriptors,
	 * which the inner target closes */
	return 0;
}

int target_model_read_stats(const struct target *t, struct target_model_stats *st)
{
	struct target_model *m = t->model;
	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	*st = m->stats;
	pthread_mutex_unlock(&m->lock);
	return 1;
}
