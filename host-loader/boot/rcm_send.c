/* SPDX-License-Identifier: MIT */
/* A bundle file's bytes to the device in bulk OUT pieces, from the file or a swapped blob in
 * memory; and the step log every stage writes. */
#include "rcm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

void rcm_log_step(const struct rcm_tegra_options *o, const char *fmt, ...)
{
	if (!o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("rcm: ", o->log);
	vfprintf(o->log, fmt, ap);
	fputc('\n', o->log);
	va_end(ap);
}

uint32_t rcm_packet_size(const struct usb_transport *t)
{
	return t->max_packet ? t->max_packet : 512;
}

int rcm_is_replaced_blob(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f)
{
	return b->blob && strcmp(f->kind, "blob") == 0;
}

int rcm_source_open(const struct rcm_tegra_bundle *b, const struct rcm_tegra_file *f,
		    struct rcm_source *src)
{
	src->fd = -1;
	src->mem = NULL;
	if (rcm_is_replaced_blob(b, f)) {
		src->mem = b->blob;
		return 0;
	}
	char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
	if (rcm_bundle_path(b, f->name, path, sizeof(path)) != 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s file %s: %s", rcm_stage_name(f->stage), f->kind, path,
			       strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size) {
		close(fd);
		return err_set("%s: %s file %s changed size since the bundle was checked "
			       "(was %llu bytes)", rcm_stage_name(f->stage), f->kind, path,
			       (unsigned long long)f->size);
	}
	src->fd = fd;
	return 0;
}

void rcm_source_close(struct rcm_source *src)
{
	if (src->fd >= 0)
		close(src->fd);
	src->fd = -1;
}

static int rcm_source_read(const struct rcm_source *src, void *buf, size_t n, uint64_t off)
{
	if (src->mem) {
		memcpy(buf, src->mem + off, n);
		return 0;
	}
	return io_pread_all(src->fd, buf, n, off);
}

/* What a transfer is called in messages and in the dry-run listing. */
static void piece_name(char *what, size_t size, const struct rcm_tegra_bundle *b,
		       const struct rcm_tegra_file *f, uint64_t off)
{
	snprintf(what, size, "%s %s%s @%llu", f->kind, f->name,
		 rcm_is_replaced_blob(b, f) ? " (kernel swapped)" : "", (unsigned long long)off);
}

int rcm_send_pieces(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		    unsigned timeout_ms, const struct rcm_source *src,
		    const struct rcm_tegra_file *f, uint64_t off, uint64_t len, uint32_t *sum,
		    int nvda)
{
	uint8_t buf[RCM_TEGRA_PIECE_MAX];
	uint64_t end = off + len;
	while (off < end) {
		size_t n = end - off < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		if (rcm_source_read(src, buf, n, off) != 0)
			return err_set("%s: reading %s file %s at %llu: %s", rcm_stage_name(f->stage),
				       f->kind, f->name, (unsigned long long)off, io_error());
		if (nvda && off == 0 && (n < 4 || memcmp(buf, RCM_NVDA_MAGIC, 4) != 0))
			return err_set("%s: %s file %s does not start with \"NVDA\" (nothing of it "
				       "was sent)", rcm_stage_name(f->stage), f->kind, f->name);
		char what[RCM_TEGRA_NAME_MAX + 64];
		piece_name(what, sizeof(what), b, f, off);
		size_t sent = 0;
		if (t->ops->bulk_out(t, buf, n, timeout_ms, &sent, what) != 0)
			return err_prefix("%s", rcm_stage_name(f->stage));
		if (sent != n)
			return err_set("%s: %s (%s): the device took %zu of %zu bytes at offset %llu",
				       rcm_stage_name(f->stage), f->kind, f->name, sent, n,
				       (unsigned long long)off);
		if (sum)
			for (size_t i = 0; i < n; i++)
				*sum += buf[i];
		off += n;
	}
	return 0;
}

int rcm_send_file(struct usb_transport *t, const struct rcm_tegra_bundle *b,
		  const struct rcm_tegra_file *f, const struct rcm_tegra_options *o,
		  unsigned timeout_ms)
{
	struct rcm_source src;
	if (rcm_source_open(b, f, &src) != 0)
		return -1;
	rcm_log_step(o, "%s: sending %s %s%s (%llu bytes)", rcm_stage_name(f->stage), f->kind,
		     f->name, rcm_is_replaced_blob(b, f) ? " (kernel swapped)" : "",
		     (unsigned long long)f->size);
	/* the NVDA header is a T234 fact (§6 step 4): T194 files are sent as they are */
	int rc = rcm_send_pieces(t, b, timeout_ms, &src, f, 0, f->size, NULL,
				 b->chip == RCM_TEGRA_T234 && rcm_kind_wants_nvda(f->kind));
	rcm_source_close(&src);
	return rc;
}
