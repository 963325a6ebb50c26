/* SPDX-License-Identifier: MIT */
/* Chunks over the link: each is a byte range of the package that hostload serves. */
#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "source.h"

static int link_fetch(struct chunk_source *src, const struct pkg_chunk *c, uint8_t *buf)
{
	struct link_source *ls = src->priv;
	uint64_t off = ls->data_offset + c->stored_offset;
	if (link_client_read(ls->link, off, buf, c->stored_size) != 0)
		return err_prefix("package bytes %" PRIu64 "+%" PRIu32 " over the link", off,
				  c->stored_size);
	return 0;
}

static int link_expect(struct chunk_source *src, const struct pkg_chunk *c)
{
	struct link_source *ls = src->priv;
	return link_client_expect(ls->link, ls->data_offset + c->stored_offset, c->stored_size);
}

static const struct chunk_source_ops link_source_ops = {
	.name = "link",
	.fetch = link_fetch,
	.expect = link_expect,
};

void link_source_init(struct link_source *ls, struct link_client *link, uint64_t data_offset)
{
	memset(ls, 0, sizeof(*ls));
	ls->link = link;
	ls->data_offset = data_offset;
	ls->src.ops = &link_source_ops;
	ls->src.priv = ls;
}
