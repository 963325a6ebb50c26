/* SPDX-License-Identifier: MIT */
/*
 * A window onto part of another target: the QEMU board's two flash banks form one 128 MiB
 * MTD device whose second half is the QSPI (DESIGN.md §7).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "target.h"

struct window {
	struct target inner;
	uint64_t base;
};

static int win_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	struct window *w = t->priv;
	return w->inner.ops->read(&w->inner, w->base + off, buf, len);
}

static int win_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	struct window *w = t->priv;
	return w->inner.ops->write(&w->inner, w->base + off, buf, len);
}

static int win_erase(struct target *t, uint64_t off, uint64_t len)
{
	struct window *w = t->priv;
	return w->inner.ops->erase(&w->inner, w->base + off, len);
}

static int win_flush(struct target *t)
{
	struct window *w = t->priv;
	return w->inner.ops->flush(&w->inner);
}

static void win_close(struct target *t)
{
	struct window *w = t->priv;
	target_close(&w->inner);
	free(w);
	t->priv = NULL;
}

/* no read_direct: windows cut MTD devices, whose reads already reach the flash */
static const struct target_ops window_ops = { .read = win_read,
					      .write = win_write,
					      .erase = win_erase,
					      .flush = win_flush,
					      .close = win_close };
static const struct target_ops window_ops_no_erase = { .read = win_read,
						       .write = win_write,
						       .flush = win_flush,
						       .close = win_close };

int target_window(struct target *t, uint64_t base, uint64_t size)
{
	if (base > t->size || size > t->size - base || size == 0 ||
	    (t->erase_size && (base % t->erase_size || size % t->erase_size)))
		return err_set("%s: window %" PRIu64 "+%" PRIu64 " does not fit the device (%" PRIu64
			       " bytes, erase size %" PRIu32 ")",
			       t->name, base, size, t->size, t->erase_size);
	struct window *w = malloc(sizeof(*w));
	if (!w)
		return err_set("out of memory");
	w->inner = *t;
	w->base = base;
	struct target outer = *t;
	outer.ops = t->ops->erase ? &window_ops : &window_ops_no_erase;
	outer.priv = w;
	outer.size = size;
	outer.fd = outer.direct_fd = -1; /* the inner target owns the descriptors */
	snprintf(outer.name, sizeof(outer.name), "%.200s@%" PRIu64, t->name, base);
	*t = outer;
	return 0;
}
