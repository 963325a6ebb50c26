/* SPDX-License-Identifier: MIT */
/* What every chunk source shares: fetch and unpack in one place. */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>

#include "chunk.h"
#include "error.h"

int chunk_source_fetch_unpacked(struct chunk_source *src, const struct pkg_chunk *c,
				uint32_t index, uint8_t *stored, uint8_t *raw)
{
	if (pkg_chunk_is_verbatim(c))
		stored = raw;
	if (src->ops->fetch(src, c, stored) != 0 || chunk_source_unpack_checked(src, c, stored, raw))
		return err_prefix("chunk %" PRIu32, index);
	return 0;
}

int chunk_source_unpack_checked(struct chunk_source *src, const struct pkg_chunk *c,
				uint8_t *stored, uint8_t *raw)
{
	char why[ERR_MSG_MAX];
	for (unsigned attempt = 1;; attempt++) {
		if (pkg_chunk_unpack(c, stored, raw) == 0)
			return 0;
		if (!src->ops->refetch || attempt > CHUNK_REFETCH_MAX)
			return attempt > 1 ? err_prefix("fetched %u times", attempt) : -1;
		snprintf(why, sizeof(why), "%s", err_msg());
		if (src->ops->refetch(src, c, stored, attempt, why) != 0)
			return err_prefix("fetching it again after '%s'", why);
	}
}

int chunk_source_expect(struct chunk_source *src, const struct pkg_chunk *c)
{
	return src->ops->expect ? src->ops->expect(src, c) : 0;
}
