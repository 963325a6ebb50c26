/* SPDX-License-Identifier: MIT */
/*
 * NOR writer (mtd-utils `flashcp -p` done per erase block): read the block, compare with what
 * the image wants; equal -> skip; different -> erase (unless already blank), program the pages
 * that are not to stay erased, read back,
 * compare. The partition past its image is left erased (0xFF), as NVIDIA's flash leaves it (it
 * erases the whole QSPI before it writes): an old, longer image's bytes never stay behind the
 * new one, so the partition as a whole is what the package says. Bytes of a block outside the
 * partition (a neighbour sharing the block) keep their contents. A header-first partition
 * has its first page kept erased until every other block of the image is written and checked.
 * A partition that a flash leaves without an image is blanked the same way, block by block:
 * only blocks holding data are erased, and each is read back.
 */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "le.h"
#include "target_kind.h"

#define HEADER_PAGE 4096
/* The program page of SPI NOR parts (JEDEC JESD216's default; the MX25U51279G of Orin modules
 * has 256-byte pages): the unit in which pages left erased are skipped. */
#define NOR_PROGRAM_PAGE 256

struct nor_job {
	struct target *t;
	const struct image_job *job;
	struct write_stats *st;
	uint64_t part_off, image_size, part_end;
	uint32_t header_len; /* 0: not header-first */
	uint64_t block_image_bytes; /* image bytes in the block compute_block() last built */
	uint8_t header[HEADER_PAGE];
	int header_pending;
};

/* What the block should hold: its current bytes with the image's bytes laid over them, and
 * erased bytes over the partition's part past the image. */
static int compute_block(struct nor_job *n, uint64_t eb, uint8_t *cur, uint8_t *want)
{
	struct target *t = n->t;
	uint64_t base = eb * t->erase_size, block_end = base + t->erase_size;
	if (t->ops->read(t, base, cur, t->erase_size) != 0)
		return -1;
	memcpy(want, cur, t->erase_size);
	uint64_t lo = base > n->part_off ? base : n->part_off;
	uint64_t image_end = n->part_off + n->image_size;
	uint64_t hi = block_end < image_end ? block_end : image_end;
	n->block_image_bytes = hi - lo;
	uint64_t tail_end = block_end < n->part_end ? block_end : n->part_end;
	if (tail_end > hi)
		memset(want + (hi - base), 0xff, (size_t)(tail_end - hi));
	return image_read(n->job->reader, lo - n->part_off, want + (lo - base), (size_t)(hi - lo));
}

static int all_ff(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0xff)
			return 0;
	return 1;
}

/*
 * Programs an erased block with want, page by page: pages that are to stay erased (all 0xFF)
 * are not sent, as programming 0xFF changes nothing on NOR and still costs the part its page
 * program time (a firmware image's last block is mostly such pages, and so is a partition's
 * tail). Runs of pages to program go out as one write. The read-back checks every byte anyway.
 */
static int program_block(struct target *t, uint64_t base, const uint8_t *want,
			 struct write_stats *st)
{
	uint32_t page = NOR_PROGRAM_PAGE;
	if (t->write_size > page)
		page = t->write_size;
	if (page > t->erase_size || t->erase_size % page)
		page = t->erase_size;
	for (uint32_t at = 0; at < t->erase_size;) {
		if (all_ff(want + at, page)) {
			at += page;
			continue;
		}
		uint32_t end = at + page;
		while (end < t->erase_size && !all_ff(want + end, page))
			end += page;
		if (t->ops->write(t, base + at, want + at, end - at) != 0)
			return -1;
		st->bytes_written += end - at;
		at = end;
	}
	return 0;
}

/* Erases (unless blank) and writes one block, then reads it back and compares. */
static int rewrite_block(struct nor_job *n, uint64_t eb, uint8_t *cur, uint8_t *want,
			 int hold_header)
{
	struct target *t = n->t;
	const char *name = n->job->part.name;
	uint64_t base = eb * t->erase_size;
	if (hold_header) {
		/* the header stays erased (0xFF) until the end */
		size_t at = (size_t)(n->part_off - base);
		memcpy(n->header, want + at, n->header_len);
		memset(want + at, 0xff, n->header_len);
		n->header_pending = 1;
	}
	if (!all_ff(cur, t->erase_size)) {
		if (t->ops->erase(t, base, t->erase_size) != 0)
			return err_prefix("partition %s", name);
		n->st->blocks_erased++;
	}
	if (program_block(t, base, want, n->st) != 0)
		return err_prefix("partition %s", name);
	n->st->blocks_written++;
	if (t->ops->read(t, base, cur, t->erase_size) != 0)
		return err_prefix("partition %s", name);
	for (uint32_t i = 0; i < t->erase_size; i++)
		if (cur[i] != want[i])
			return err_set("partition %s: read-back mismatch at device offset %" PRIu64
				       " (wrote 0x%02x, read 0x%02x)",
				       name, base + i, want[i], cur[i]);
	return 0;
}

static int write_header(struct nor_job *n, uint8_t *cur)
{
	struct target *t = n->t;
	if (t->ops->write(t, n->part_off, n->header, n->header_len) != 0 ||
	    t->ops->read(t, n->part_off, cur, n->header_len) != 0)
		return err_prefix("partition %s", n->job->part.name);
	n->st->bytes_written += n->header_len;
	if (memcmp(cur, n->header, n->header_len) != 0)
		return err_set("partition %s: read-back mismatch in the header page at %" PRIu64,
			       n->job->part.name, n->part_off);
	return 0;
}

/* [from, end) of partition NAME erased: only blocks holding data there are erased, a block
 * shared with a neighbour keeps the neighbour's bytes, every erased block is read back. */
static int blank_range(struct target *t, const char *name, uint64_t from, uint64_t end,
		       uint8_t *cur, uint8_t *want, struct write_stats *st)
{
	const uint32_t es = t->erase_size;
	for (uint64_t eb = from / es; from < end && eb <= (end - 1) / es; eb++) {
		uint64_t base = eb * es;
		uint64_t lo = base > from ? base : from;
		uint64_t hi = base + es < end ? base + es : end;
		if (t->ops->read(t, base, cur, es) != 0)
			return err_prefix("partition %s", name);
		st->blocks_compared++;
		if (all_ff(cur + (lo - base), (size_t)(hi - lo))) {
			st->blocks_skipped++;
			continue;
		}
		/* a block shared with a neighbour keeps the neighbour's bytes */
		memcpy(want, cur, es);
		memset(want + (lo - base), 0xff, (size_t)(hi - lo));
		if (t->ops->erase(t, base, es) != 0)
			return err_prefix("partition %s", name);
		st->blocks_erased++;
		if (!all_ff(want, es)) {
			if (t->ops->write(t, base, want, es) != 0)
				return err_prefix("partition %s", name);
			st->blocks_written++;
			st->bytes_written += es;
		}
		if (t->ops->read(t, base, cur, es) != 0)
			return err_prefix("partition %s", name);
		st->bytes_read_back += es;
		for (uint32_t i = 0; i < es; i++)
			if (cur[i] != want[i])
				return err_set("partition %s: read-back after erase at device offset %"
					       PRIu64 " (want 0x%02x, read 0x%02x)",
					       name, base + i, want[i], cur[i]);
	}
	return 0;
}

int write_nor_image(struct target *t, const struct image_job *job, struct write_stats *st)
{
	static struct nor_job n; /* the header copy is large: not on PID 1's stack */
	memset(&n, 0, sizeof(n));
	n.t = t;
	n.job = job;
	n.st = st;
	n.part_off = job->part.offset;
	n.image_size = job->reader->im.size;
	if (!t->ops->erase || t->erase_size == 0 || job->buf_size < t->erase_size)
		return err_set("partition %s: %s is not NOR flash with erase blocks that fit the "
			       "buffers", job->part.name, t->name);
	if (u64_add(n.part_off, job->part.size, &n.part_end) != 0 || n.part_end > t->size ||
	    n.image_size > job->part.size)
		return err_set("partition %s: %" PRIu64 " bytes at %" PRIu64 " (image %" PRIu64
			       " bytes) do not fit it or the %" PRIu64 "-byte %s", job->part.name,
			       job->part.size, n.part_off, n.image_size, t->size, t->name);
	uint8_t *cur = job->buf_a, *want = job->buf_b;
	if (n.image_size == 0)
		return blank_range(t, job->part.name, n.part_off, n.part_end, cur, want, st);
	if (job->part.flags & PKG_PART_HEADER_FIRST) {
		uint64_t room = t->erase_size - n.part_off % t->erase_size;
		uint64_t len = n.image_size < HEADER_PAGE ? n.image_size : HEADER_PAGE;
		n.header_len = (uint32_t)(len < room ? len : room);
	}
	uint64_t first = n.part_off / t->erase_size;
	uint64_t last = (n.part_off + n.image_size - 1) / t->erase_size;
	for (uint64_t eb = first; eb <= last; eb++) {
		if (compute_block(&n, eb, cur, want) != 0)
			return -1;
		st->blocks_compared++;
		uint64_t image_bytes = n.block_image_bytes;
		if (memcmp(cur, want, t->erase_size) == 0) {
			st->blocks_skipped++;
			image_job_advance(job, image_bytes);
			continue;
		}
		if (n.header_len && !n.header_pending && eb != first) {
			/* the header block itself is unchanged, but the partition is about to be:
			 * take its header away first, so a cut-off update never looks valid */
			if (compute_block(&n, first, cur, want) != 0 ||
			    rewrite_block(&n, first, cur, want, 1) != 0 ||
			    compute_block(&n, eb, cur, want) != 0)
				return -1;
		}
		if (rewrite_block(&n, eb, cur, want, n.header_len && eb == first) != 0)
			return -1;
		image_job_advance(job, image_bytes);
	}
	/* the partition's blocks past the image's last: erased (that block's own tail was laid
	 * over by compute_block); before the header, so the header is still the last write */
	if (blank_range(t, job->part.name, (last + 1) * t->erase_size, n.part_end, cur, want,
			st) != 0)
		return -1;
	if (n.header_pending && write_header(&n, cur) != 0)
		return -1;
	return 0;
}

int write_nor_blank(struct target *t, const struct pkg_partition *part, uint8_t *cur,
		    uint8_t *want, size_t buf_size, struct write_stats *st)
{
	if (part->size == 0)
		return 0;
	if (!t->ops->erase || t->erase_size == 0 || buf_size < t->erase_size)
		return err_set("partition %s: %s is not NOR flash with erase blocks that fit the "
			       "buffers", part->name, t->name);
	uint64_t end;
	if (u64_add(part->offset, part->size, &end) != 0 || end > t->size)
		return err_set("partition %s: %" PRIu64 " bytes at %" PRIu64 " end past the %" PRIu64
			       "-byte %s", part->name, part->size, part->offset, t->size, t->name);
	return blank_range(t, part->name, part->offset, end, cur, want, st);
}
