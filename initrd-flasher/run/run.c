/* SPDX-License-Identifier: MIT */
/* The stages a flash and an update share: identify, package, verify, variant; the ending. */
#include "run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "run_report.h"
#include "timing.h"
#include "verify.h"
#include "write/write.h"

/* The last run stopped because the package changed on the server: its message, for
 * run_restarting (runs are sequential: one flash or update at a time). */
static char last_changed[ERR_MSG_MAX];
static int restarts_done;

void run_begin(struct flash_run *r, const struct flash_config *config)
{
	memset(r, 0, sizeof(*r));
	r->config = *config;
	r->c = &r->config;
	r->pkg.fd = -1;
	r->kind = "flash";
	r->slot = PKG_SLOT_A;
	r->start_s = timing_now_s();
	last_changed[0] = '\0';
	progress_init(&r->progress);
	r->tee = config->link ? report_log_open(&r->log, config->log) : NULL;
	r->log.console = config->log;
	if (r->tee)
		r->config.log = r->tee;
}

static int link_pkg_read(void *ctx, void *buf, size_t len, uint64_t off)
{
	return link_client_read(ctx, off, buf, len);
}

/* The package on a web server: its size and ETag pinned by the first answer. */
static int open_http_package(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	struct http_source_opts o = { .url = c->url, .ca = c->ca, .log = c->log,
				      .board = r->id.serial, .retry_s = c->link_timeout_s ? c->link_timeout_s : 600 };
	if (http_source_open(&r->http_src, &o) != 0)
		return -1;
	const char *etag = http_source_etag(r->http_src);
	fprintf(c->log, "flasher: package %s, %" PRIu64 " bytes, ETag %s\n", c->url,
		http_source_size(r->http_src), etag[0] ? etag : "none (the size is checked instead)");
	return pkg_file_open_reader(&r->pkg, c->url, http_source_size(r->http_src),
				    http_source_read, r->http_src);
}

/* The package: a file, a URL, or the one hostload serves over the link (header and
 * manifest bytes). */
static int open_package(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	if (c->url)
		return open_http_package(r);
	if (!c->link)
		return pkg_file_open(c->package, &r->pkg);
	char board[LINK_NAME_MAX];
	snprintf(board, sizeof(board), "%s %s", r->id.serial[0] ? r->id.serial : "?",
		 r->id.part_number);
	struct link_client_opts o = { .spec = c->link, .board = board, .console = r->log.console,
				      .reconnect_ms = c->link_timeout_s * 1000u, .usb = c->usb };
	if (!o.usb.serial)
		o.usb.serial = r->id.serial; /* the USB serial number is the module's */
	if (link_client_open(&r->link, &o) != 0)
		return -1;
	r->link_open = 1;
	r->progress.link = &r->link;
	report_log_attach(&r->log, &r->link);
	return pkg_file_open_reader(&r->pkg, r->link.package, link_client_package_size(&r->link),
				    link_pkg_read, &r->link);
}

int run_identify(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	if (identify_read_board(c->eeprom, c->chip_sku, c->chip_sku_file, &r->id) != 0)
		return -1;
	char me[200];
	identify_describe(&r->id, me, sizeof(me));
	fprintf(c->log, "flasher: %s, serial %s\n", me, r->id.serial[0] ? r->id.serial : "?");
	return 0;
}

static int pick_variant(struct flash_run *r)
{
	r->variant = identify_pick_variant(&r->pkg.manifest, &r->id);
	if (r->variant < 0)
		return -1;
	struct pkg_variant v;
	pkg_manifest_variant(&r->pkg.manifest, (uint32_t)r->variant, &v);
	fprintf(r->c->log, "flasher: package variant %s\n", v.name);
	return 0;
}

static int alloc_buffers(struct flash_run *r)
{
	r->chunk_buf = image_largest_chunk(&r->pkg.manifest);
	r->raw = malloc(r->chunk_buf);
	r->stored = malloc(r->chunk_buf);
	/* aligned for the disks' O_DIRECT read-back */
	r->buf_a = aligned_alloc(TARGET_DIRECT_ALIGN, RUN_WORK_BUF_SIZE);
	r->buf_b = aligned_alloc(TARGET_DIRECT_ALIGN, RUN_WORK_BUF_SIZE);
	if (!r->raw || !r->stored || !r->buf_a || !r->buf_b)
		return err_set("out of memory for the work buffers");
	return 0;
}

int run_open_verified(struct flash_run *r)
{
	const struct flash_config *c = r->c;
	report_step(&r->steps, "link and manifest");
	if (open_package(r) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_VERIFY, "");
	report_step(&r->steps, "verify");
	if (verify_package(&r->pkg, c->pubkey, c->allow_unsigned, c->log) != 0)
		return -1;
	/* the manifest is trusted now: a reconnect must find the same one */
	if (r->link_open &&
	    link_client_pin(&r->link, PKG_PREFIX_SIZE + r->pkg.header.manifest_size) != 0)
		return -1;
	progress_phase(&r->progress, LINK_PHASE_IDENTIFY, "");
	return pick_variant(r) != 0 || alloc_buffers(r) != 0 ? -1 : 0;
}

struct chunk_source *run_chunk_source(struct flash_run *r)
{
	uint64_t data_offset = PKG_MANIFEST_OFFSET + r->pkg.header.manifest_size;
	if (r->http_src)
		return http_source_chunks(r->http_src, data_offset);
	if (r->link_open) {
		link_source_init(&r->link_src, &r->link, data_offset);
		return &r->link_src.src;
	}
	file_source_init(&r->file_src, r->pkg.fd, data_offset);
	return &r->file_src.src;
}

/* The result POSTed to the configured report URL (run_report.h); the error message is kept. */
static void report_result(struct flash_run *r, int rc, const char *summary)
{
	const struct flash_config *c = r->c;
	char saved[ERR_MSG_MAX];
	snprintf(saved, sizeof(saved), "%s", err_msg());
	const struct write_delta *d = &r->delta;
	struct run_result res = {
		.kind = r->kind, .serial = r->id.serial,
		.package = c->url ? c->url : c->link ? c->link : c->package,
		.system_version = r->pkg.decoded ? r->pkg.manifest.system_version : 0,
		.slot = pkg_slot_name(r->slot), .ok = rc == 0, .message = summary,
		.bytes_fetched = rc == 0 ? d->bytes_fetched : 0,
		.bytes_copied = rc == 0 ? d->bytes_copied : 0,
		.bytes_in_place = rc == 0 ? d->bytes_in_place : 0,
		.seconds = timing_now_s() - r->start_s,
	};
	run_report_send(c->report_url, c->ca, &res, c->log);
	err_set("%s", saved);
}

void run_end(struct flash_run *r, int rc, const char *summary)
{
	FILE *log = r->c->log;
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++)
		if (r->opened[t])
			target_close(&r->targets[t]);
	if (r->link_open) {
		fflush(log);
		if (r->link.reconnects)
			fprintf(log, "flasher: link: %u reconnects, %" PRIu64 " bytes asked for again\n",
				r->link.reconnects, r->link.bytes_requested_again);
		progress_phase(&r->progress, LINK_PHASE_DONE, "");
		fflush(log);
		link_client_result(&r->link, rc == 0 ? 0 : 1, summary);
		if (rc != 0)
			err_set("%s", summary); /* the link may have recorded its own messages since */
	}
	if (r->http_src) {
		unsigned requests, retries, ahead;
		http_source_stats(r->http_src, &requests, &retries, &ahead);
		fprintf(log, "flasher: http: %u requests (%u chunks read ahead), %u connections "
			"reopened after a failure\n", requests, ahead, retries);
		const char *changed = http_source_changed(r->http_src);
		if (rc != 0 && changed)
			snprintf(last_changed, sizeof(last_changed), "%s", changed);
		http_source_close(r->http_src);
		r->http_src = NULL;
	}
	/* a run about to start again is not the result yet */
	if (r->c->report_url && !(last_changed[0] && restarts_done < RUN_RESTARTS_MAX))
		report_result(r, rc, summary);
	if (r->tee)
		fclose(r->tee);
	if (r->link_open)
		link_client_close(&r->link);
	pkg_file_close(&r->pkg);
	free(r->raw);
	free(r->stored);
	free(r->buf_a);
	free(r->buf_b);
	progress_destroy(&r->progress);
}

int run_restarting(int (*once)(const struct flash_config *c), const struct flash_config *c)
{
	for (int restarts = 0;; restarts++) {
		restarts_done = restarts;
		int rc = once(c);
		if (rc == 0 || !last_changed[0])
			return rc;
		if (restarts == RUN_RESTARTS_MAX)
			return err_set("%s; gave up after %d restarts", last_changed, RUN_RESTARTS_MAX);
		fprintf(c->log, "flasher: %s: starting again from the manifest (restart %d of %d)\n",
			last_changed, restarts + 1, RUN_RESTARTS_MAX);
		fflush(c->log);
	}
}
