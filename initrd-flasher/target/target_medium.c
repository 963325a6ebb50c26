/* SPDX-License-Identifier: MIT */
/* Reading a device range from the medium itself (O_DIRECT on disks), piece by piece. */
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
