/* SPDX-License-Identifier: MIT */
/*
 * A target that refuses every write and erase outside the ranges it was given: an update opens
 * the whole disk (delta reads the running slot through it), and this is what makes "the
 * running slot is never written" a property of the device handle rather than of the planner.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "target.h"

struct guard {
	struct target inner;
	struct target_ops ops; /* the inner target's operations, each writing one checked */
	struct target_range allowed[TARGET_GUARD_MAX];
	size_t count;
};

static int allowed(const struct guard *g, const char *what, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < g->count; i++) {
		const struct target_range *r = &g->allowed[i];
		if (off >= r->offset && len <= r->size && off - r->offset <= r->size - len)
			return 0;
	}
	return err_set("%s: %s of %" PRIu64 " bytes at %" PRIu64 " refused: outside the "
		       "partitions this update may write", g->inner.name, what, len, off);
}

static int guard_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	struct guard *g = t->priv;
	return g->inner.ops->read(&g->inner, off, buf, len);
}

static int guard_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	struct guard *g = t->priv;
	if (allowed(g, "write", off, len) != 0)
		return -1;
	return g->inner.ops->write(&g->inner, off, buf, len);
}

static int guard_erase(struct target *t, uint64_t off, uint64_t len)
{
	struct guard *g = t->priv;
	if (allowed(g, "erase", off, len) != 0)
		return -1;
	return g->inner.ops->erase(&g->inner, off, len);
}

static int guard_zero(struct target *t, uint64_t off, uint64_t len)
{
	struct guard *g = t->priv;
	if (allowed(g, "zeroing", off, len) != 0)
		return -1;
	return g->inner.ops->zero(&g->inner, off, len);
}

static int guard_flush(struct target *t)
{
	struct guard *g = t->priv;
	return g->inner.ops->flush(&g->inner);
}

static int guard_read_direct(struct target *t, uint64_t off, void *buf, size_t len, size_t *got)
{
	struct guard *g = t->priv;
	return g->inner.ops->read_direct(&g->inner, off, buf, len, got);
}

static int guard_is_hole(struct target *t, uint64_t off, uint64_t len)
{
	struct guard *g = t->priv;
	return g->inner.ops->is_hole(&g->inner, off, len);
}

static void guard_close(struct target *t)
{
	struct guard *g = t->priv;
	target_close(&g->inner);
	free(g);
	t->priv = NULL;
}

int target_guard_writes(struct target *t, const struct target_range *ranges, size_t count)
{
	if (count > TARGET_GUARD_MAX)
		return err_set("%s: %zu writable ranges, at most %d", t->name, count,
			       TARGET_GUARD_MAX);
	struct guard *g = calloc(1, sizeof(*g));
	if (!g)
		return err_set("out of memory");
	g->inner = *t;
	memcpy(g->allowed, ranges, count * sizeof(*ranges));
	g->count = count;
	/* the same operations the inner target has, each through the check where it writes */
	static const struct target_ops base = { .read = guard_read, .write = guard_write,
						.flush = guard_flush, .close = guard_close };
	struct target_ops *ops = &g->ops;
	*ops = base;
	if (t->ops->erase)
		ops->erase = guard_erase;
	if (t->ops->read_direct)
		ops->read_direct = guard_read_direct;
	if (t->ops->is_hole)
		ops->is_hole = guard_is_hole;
	if (t->ops->zero)
		ops->zero = guard_zero;
	t->ops = ops;
	t->priv = g;
	/* fd and direct_fd stay: libblkid and the O_DIRECT read-back use the inner descriptors,
	 * which the inner target closes */
	return 0;
}
