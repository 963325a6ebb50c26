/* SPDX-License-Identifier: MIT */
/* Which writer serves which kind of target, and the read-back check shared by all. */
#include "write.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"

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

static int check_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return (int)i;
	return -1;
}

static int readback_zeros(struct target *t, const struct image_job *job, uint64_t off,
			  uint64_t len, struct write_stats *st)
{
	while (len) {
		size_t n = len < job->buf_size ? (size_t)len : job->buf_size;
		if (t->ops->read(t, job->part.offset + off, job->buf_a, n) != 0)
			return err_prefix("partition %s", job->part.name);
		int at = check_zero(job->buf_a, n);
		if (at >= 0)
			return err_set("partition %s: read back 0x%02x at offset %" PRIu64
				       " where the image has a hole (zeros)",
				       job->part.name, job->buf_a[at], off + (uint64_t)at);
		st->bytes_read_back += n;
		off += n;
		len -= n;
	}
	return 0;
}

int readback_image(struct target *t, const struct image_job *job, struct write_stats *st)
{
	const struct image_reader *r = job->reader;
	const int zero_holes = (r->im.flags & PKG_IMAGE_ZERO_HOLES) != 0;
	uint64_t pos = 0;
	for (uint32_t i = r->im.first_chunk; i < r->im.first_chunk + r->im.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(r->m, i, &c);
		if (zero_holes && c.offset > pos && readback_zeros(t, job, pos, c.offset - pos, st) != 0)
			return -1;
		struct sha256 h;
		sha256_init(&h);
		for (uint64_t done = 0; done < c.raw_size;) {
			size_t n = c.raw_size - done < job->buf_size ? (size_t)(c.raw_size - done)
								       : job->buf_size;
			if (t->ops->read(t, job->part.offset + c.offset + done, job->buf_a, n) != 0)
				return err_prefix("partition %s", job->part.name);
			sha256_update(&h, job->buf_a, n);
			done += n;
		}
		uint8_t digest[SHA256_LEN];
		sha256_final(&h, digest);
		if (memcmp(digest, c.sha256, SHA256_LEN) != 0)
			return err_set("partition %s: read-back of %" PRIu32 " bytes at offset %" PRIu64
				       " does not match its SHA-256",
				       job->part.name, c.raw_size, c.offset);
		st->bytes_read_back += c.raw_size;
		pos = c.offset + c.raw_size;
	}
	if (zero_holes && r->im.size > pos && readback_zeros(t, job, pos, r->im.size - pos, st) != 0)
		return -1;
	return 0;
}
