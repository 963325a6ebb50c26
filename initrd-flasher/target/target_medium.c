/* SPDX-License-Identifier: MIT */
/* Reading a device range from the medium itself (O_DIRECT on disks), piece by piece, and
 * zeroing one without writing its zeros where the device can. */
#include <inttypes.h>
#include <stdint.h>

#include "error.h"
#include "target.h"

int target_read_medium(struct target *t, uint64_t off, uint64_t len, uint8_t *buf,
		       size_t buf_size, target_piece_fn fn, void *ctx)
{
	/*
	 * A disk is read around the page cache: whole aligned blocks covering the range go into
	 * the (aligned) buffer and only the range's bytes are handed on. Without read_direct the
	 * range is read as it is.
	 */
	const int direct = t->ops->read_direct != NULL;
	const uint64_t align = direct ? TARGET_DIRECT_ALIGN : 1;
	if (direct && ((uintptr_t)buf % align || buf_size % align || buf_size == 0))
		return err_set("the read-back buffer is not aligned to %" PRIu64
			       " bytes (needed for O_DIRECT)", align);
	if (off > t->size || len > t->size - off)
		return err_set("%s: bytes %" PRIu64 "+%" PRIu64 " are past the device's end", t->name,
			       off, len);
	const uint64_t end = off + len;
	for (uint64_t pos = off - off % align; pos < end;) {
		uint64_t want = end - pos < buf_size ? end - pos : buf_size;
		if (direct) {
			size_t n = (size_t)((want + align - 1) / align * align), got;
			if (t->ops->read_direct(t, pos, buf, n, &got) != 0)
				return -1;
			if (got < want)
				return err_set("read-back at device offset %" PRIu64 " got %zu of %" PRIu64
					       " bytes", pos, got, want);
		} else if (t->ops->read(t, pos, buf, (size_t)want) != 0) {
			return -1;
		}
		uint64_t skip = pos < off ? off - pos : 0; /* the aligned head before the range */
		if (fn(ctx, buf + skip, (size_t)(want - skip), pos + skip - off) != 0)
			return -1;
		pos += want;
	}
	return 0;
}

/* Writes [off, off + len) of t from zero_buf, a buffer at a time. */
static int write_zeros(struct target *t, uint64_t off, uint64_t len, const uint8_t *zero_buf,
		       size_t zero_buf_size)
{
	while (len) {
		size_t n = len < zero_buf_size ? (size_t)len : zero_buf_size;
		if (t->ops->write(t, off, zero_buf, n) != 0)
			return -1;
		off += n;
		len -= n;
	}
	return 0;
}

int target_zero(struct target *t, uint64_t off, uint64_t len, const uint8_t *zero_buf,
		size_t zero_buf_size, uint64_t *cheaply)
{
	if (cheaply)
		*cheaply = 0;
	if (off > t->size || len > t->size - off)
		return err_set("%s: zeroing %" PRIu64 " bytes at %" PRIu64 " is past the device's end",
			       t->name, len, off);
	if (zero_buf_size == 0)
		return err_set("zeroing needs a buffer of zeros");
	/* the unaligned head and tail are written; the aligned middle zeroed by the device */
	const uint64_t align = TARGET_DIRECT_ALIGN, end = off + len;
	uint64_t mid = (off + align - 1) / align * align, mid_end = end / align * align;
	if (!t->ops->zero || mid >= mid_end)
		return write_zeros(t, off, len, zero_buf, zero_buf_size);
	int rc = t->ops->zero(t, mid, mid_end - mid);
	if (rc < 0)
		return -1;
	if (rc > 0) /* not on this device: zeros written, as a device without the op gets */
		return write_zeros(t, off, len, zero_buf, zero_buf_size);
	if (cheaply)
		*cheaply = mid_end - mid;
	if (write_zeros(t, off, mid - off, zero_buf, zero_buf_size) != 0)
		return -1;
	return write_zeros(t, mid_end, end - mid_end, zero_buf, zero_buf_size);
}
