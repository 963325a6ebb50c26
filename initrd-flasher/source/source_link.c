/* SPDX-License-Identifier: MIT */
/* The package that hostload serves over the link: each chunk is a byte range of it, and the
 * host also gets the board's log, progress and result. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "package_source.h"
#include "source.h"

/* Chunks requested over the link from hostload; expected chunks are requested ahead. */
struct link_source {
	struct chunk_source src;
	struct link_client *link;
	uint64_t data_offset;
};

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

static void link_source_init(struct link_source *ls, struct link_client *link, uint64_t data_offset)
{
	memset(ls, 0, sizeof(*ls));
	ls->link = link;
	ls->data_offset = data_offset;
	ls->src.ops = &link_source_ops;
	ls->src.priv = ls;
}

/* ---- the package source ---------------------------------------------------------------- */

struct link_package {
	struct package_source base;
	struct link_client link;
	struct link_source chunks;
};

static int link_open(struct package_source **out, const struct package_source_opts *o)
{
	struct link_package *lp = calloc(1, sizeof(*lp));
	if (!lp)
		return err_set("out of memory");
	lp->base.ops = &link_package_source;
	/* how the host names this board: the module's serial number and part number */
	char board[LINK_NAME_MAX];
	snprintf(board, sizeof(board), "%s %s", o->serial && o->serial[0] ? o->serial : "?",
		 o->part_number ? o->part_number : "");
	struct link_client_opts lo = { .spec = o->where, .board = board, .console = o->console,
				       .reconnect_ms = o->timeout_s * 1000u, .usb = o->usb };
	if (!lo.usb.serial)
		lo.usb.serial = o->serial; /* the USB serial number is the module's */
	if (link_client_open(&lp->link, &lo) != 0) {
		free(lp);
		return -1;
	}
	lp->base.name = lp->link.package;
	*out = &lp->base;
	return 0;
}

static uint64_t link_size(const struct package_source *s)
{
	return link_client_package_size(&((const struct link_package *)s)->link);
}

static int link_read(void *s, void *buf, size_t len, uint64_t off)
{
	return link_client_read(&((struct link_package *)s)->link, off, buf, len);
}

static int link_pin(struct package_source *s, uint64_t len)
{
	return link_client_pin(&((struct link_package *)s)->link, len);
}

static struct chunk_source *link_chunks(struct package_source *s, uint64_t data_offset)
{
	struct link_package *lp = (struct link_package *)s;
	link_source_init(&lp->chunks, &lp->link, data_offset);
	return &lp->chunks.src;
}

static struct link_client *link_host(struct package_source *s)
{
	return &((struct link_package *)s)->link;
}

static void link_log_stats(struct package_source *s, FILE *log)
{
	const struct link_client *lc = &((struct link_package *)s)->link;
	if (lc->reconnects)
		fprintf(log, "flasher: link: %u reconnects, %" PRIu64 " bytes asked for again\n",
			lc->reconnects, lc->bytes_requested_again);
}

static void link_close(struct package_source *s)
{
	struct link_package *lp = (struct link_package *)s;
	link_client_close(&lp->link);
	free(lp);
}

const struct package_source_ops link_package_source = {
	.name = "link",
	.open = link_open,
	.size = link_size,
	.read = link_read,
	.pin = link_pin,
	.chunks = link_chunks,
	.host = link_host,
	.log_stats = link_log_stats,
	.close = link_close,
};
