/* SPDX-License-Identifier: MIT */
/* QSPI NOR through the kernel's MTD character device and libmtd. */
#include "target.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmtd.h>

#include "error.h"

struct mtd_target {
	libmtd_t lib;
	struct mtd_dev_info info;
	/*
	 * libmtd reads and writes with lseek() then read()/write() on the one descriptor, so two
	 * threads (the delta prober and the NOR writer) would move each other's file position
	 * and read or write the wrong place: every operation holds this lock.
	 */
	pthread_mutex_t lock;
};

/* Calls fn for each piece of [off, off + len) that lies in one erase block. */
static int per_block(struct target *t, uint64_t off, size_t len, const char *what,
		     int (*fn)(struct mtd_target *m, int fd, int eb, int offs, uint8_t *p, int n),
		     uint8_t *buf)
{
	struct mtd_target *m = t->priv;
	if (off > t->size || len > t->size - off)
		return err_set("%s: %s of %zu bytes at %" PRIu64 " is past the end", t->name, what, len,
			       off);
	while (len) {
		int eb = (int)(off / t->erase_size);
		int offs = (int)(off % t->erase_size);
		size_t n = t->erase_size - (uint32_t)offs;
		if (n > len)
			n = len;
		pthread_mutex_lock(&m->lock);
		int rc = fn(m, t->fd, eb, offs, buf, (int)n);
		int e = errno;
		pthread_mutex_unlock(&m->lock);
		if (rc != 0)
			return err_set("%s: %s at %" PRIu64 " (erase block %d): %s", t->name, what, off,
				       eb, strerror(e));
		off += n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int do_read(struct mtd_target *m, int fd, int eb, int offs, uint8_t *p, int n)
{
	return mtd_read(&m->info, fd, eb, offs, p, n);
}

static int do_write(struct mtd_target *m, int fd, int eb, int offs, uint8_t *p, int n)
{
	return mtd_write(m->lib, &m->info, fd, eb, offs, p, n, NULL, 0, 0);
}

static int mtd_target_read(struct target *t, uint64_t off, void *buf, size_t len)
{
	return per_block(t, off, len, "read", do_read, buf);
}

static int mtd_target_write(struct target *t, uint64_t off, const void *buf, size_t len)
{
	/* libmtd takes a non-const buffer but does not modify it */
	return per_block(t, off, len, "write", do_write, (uint8_t *)(uintptr_t)buf);
}

static int mtd_target_erase(struct target *t, uint64_t off, uint64_t len)
{
	struct mtd_target *m = t->priv;
	if (off % t->erase_size || len % t->erase_size || off > t->size || len > t->size - off)
		return err_set("%s: erase of %" PRIu64 " bytes at %" PRIu64 " is not whole blocks",
			       t->name, len, off);
	int eb = (int)(off / t->erase_size), blocks = (int)(len / t->erase_size);
	pthread_mutex_lock(&m->lock);
	int rc = mtd_erase_multi(m->lib, &m->info, t->fd, eb, blocks);
	int e = errno;
	pthread_mutex_unlock(&m->lock);
	if (rc != 0)
		return err_set("%s: erase of blocks %d..%d: %s", t->name, eb, eb + blocks - 1,
			       strerror(e));
	return 0;
}

static int mtd_target_flush(struct target *t)
{
	(void)t; /* MTD writes are synchronous */
	return 0;
}

static void mtd_target_close(struct target *t)
{
	struct mtd_target *m = t->priv;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (m && m->lib)
		libmtd_close(m->lib);
	if (m)
		pthread_mutex_destroy(&m->lock);
	free(m);
	t->priv = NULL;
}

static const struct target_ops mtd_ops = { .read = mtd_target_read,
					   .write = mtd_target_write,
					   .erase = mtd_target_erase,
					   .flush = mtd_target_flush,
					   .close = mtd_target_close };

int target_open_mtd(struct target *t, const char *dev_path)
{
	memset(t, 0, sizeof(*t));
	t->fd = t->direct_fd = -1;
	struct mtd_target *m = calloc(1, sizeof(*m));
	if (!m)
		return err_set("out of memory");
	pthread_mutex_init(&m->lock, NULL);
	t->priv = m;
	snprintf(t->name, sizeof(t->name), "%s", dev_path);
	m->lib = libmtd_open();
	if (!m->lib) {
		mtd_target_close(t);
		return err_set("%s: MTD is not available in this kernel (%s)", dev_path,
			       strerror(errno));
	}
	if (mtd_get_dev_info(m->lib, dev_path, &m->info) != 0) {
		mtd_target_close(t);
		return err_set("%s: not an MTD device: %s", dev_path, strerror(errno));
	}
	if (!m->info.writable || m->info.eb_size <= 0 || m->info.size <= 0) {
		mtd_target_close(t);
		return err_set("%s: MTD device is read-only or has no erase blocks", dev_path);
	}
	t->fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;
		mtd_target_close(t);
		return err_set("%s: %s", dev_path, strerror(e));
	}
	snprintf(t->name, sizeof(t->name), "%s (%s)", dev_path, m->info.name);
	t->size = (uint64_t)m->info.size;
	t->erase_size = (uint32_t)m->info.eb_size;
	t->write_size = m->info.min_io_size > 0 ? (uint32_t)m->info.min_io_size : 1;
	t->ops = &mtd_ops;
	return 0;
}
