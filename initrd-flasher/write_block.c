/* SPDX-License-Identifier: MIT */
/* Disk writer: chunk data at its extents; holes skipped unless the image says zero them. */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "write.h"

static int write_range(struct target *t, const struct image_job *job, uint64_t off, uint64_t len,
		       int zeros, struct write_stats *st)
{
	while (len) {
		size_t n = len < job->buf_size ? (size_t)len : job->buf_size;
		if (zeros)
			memset(job->buf_a, 0, n);
		else if (image_read(job->reader, off, job->buf_a, n) != 0)
			return err_prefix("partition %s", job->part.name);
		if (t->ops->write(t, job->part.offset + off, job->buf_a, n) != 0)
			return err_prefix("partition %s", job->part.name);
		st->bytes_written += n;
		off += n;
		len -= n;
	}
	return 0;
}

int write_block_image(struct target *t, const struct image_job *job, struct write_stats *st)
{
	const struct image_reader *r = job->reader;
	const int zero_holes = (r->im.flags & PKG_IMAGE_ZERO_HOLES) != 0;
	uint64_t pos = 0;
	for (uint32_t i = r->im.first_chunk; i < r->im.first_chunk + r->im.chunk_count; i++) {
		struct pkg_chunk c;
		pkg_manifest_chunk(r->m, i, &c);
		if (zero_holes && c.offset > pos && write_range(t, job, pos, c.offset - pos, 1, st) != 0)
			return -1;
		if (write_range(t, job, c.offset, c.raw_size, 0, st) != 0)
			return -1;
		pos = c.offset + c.raw_size;
	}
	if (zero_holes && r->im.size > pos && write_range(t, job, pos, r->im.size - pos, 1, st) != 0)
		return -1;
	if (t->ops->flush(t) != 0)
		return err_prefix("partition %s", job->part.name);
	return 0;
}
