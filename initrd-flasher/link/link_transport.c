/* SPDX-License-Identifier: MIT */
/* Which transport a link spec names (the one table), and what every transport shares. */
#include "link_transport.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

/* One kind of spec: "PREFIX" + an argument (a path, HOST:PORT, a port or UDC name). */
struct link_transport_kind {
	const char *prefix;  /* "unix:" */
	const char *usage;   /* "unix:PATH", for the message that lists the kinds */
	int arg_optional;    /* usb-gadget: may name no UDC (the first one is used) */
	const struct link_transport_ops *ops;
};

/* The only place a spec's prefix is looked at: a new transport is one more row. */
static const struct link_transport_kind link_transport_kinds[] = {
	{ "unix:", "unix:PATH", 0, &link_unix_ops },
	{ "tcp:", "tcp:HOST:PORT", 0, &link_tcp_ops },
	{ "virtio:", "virtio:NAME", 0, &link_virtio_ops },
	{ "dev:", "dev:PATH", 0, &link_tty_ops },
	{ "tty:", "tty:PATH", 0, &link_tty_ops },
	{ "usb-gadget:", "usb-gadget:[UDC]", 1, &link_ffs_ops },
};
#define KIND_COUNT (sizeof(link_transport_kinds) / sizeof(link_transport_kinds[0]))

static const struct link_transport_kind *kind_find(const char *spec)
{
	for (size_t i = 0; i < KIND_COUNT; i++) {
		const struct link_transport_kind *k = &link_transport_kinds[i];
		size_t n = strlen(k->prefix);
		if (strncmp(spec, k->prefix, n) == 0 && (spec[n] || k->arg_optional))
			return k;
	}
	return NULL;
}

int link_spec_known(const char *spec)
{
	return kind_find(spec) != NULL;
}

int link_transport_init(struct link_transport *t, const char *spec, FILE *console)
{
	memset(t, 0, sizeof(*t));
	t->rfd = t->wfd = -1;
	t->console = console;
	const struct link_transport_kind *k = kind_find(spec);
	if (k) {
		t->ops = k->ops;
		t->arg = spec + strlen(k->prefix);
		return 0;
	}
	char kinds[256] = "";
	size_t at = 0;
	for (size_t i = 0; i < KIND_COUNT && at < sizeof(kinds); i++)
		at += (size_t)snprintf(kinds + at, sizeof(kinds) - at, "%s%s",
				       i == 0 ? "" : i + 1 < KIND_COUNT ? ", " : " or ",
				       link_transport_kinds[i].usage);
	return err_set("link '%s': expected %s", spec, kinds);
}

static int is_transient_errno(int e)
{
	return e == EINTR || e == EAGAIN;
}

ssize_t link_transport_read_fd(struct link_transport *t, void *buf, size_t n, int timeout_ms)
{
	struct pollfd p = { .fd = t->rfd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return is_transient_errno(errno) ? 0 : err_set("link poll: %s", strerror(errno));
	if (r == 0)
		return 0;
	ssize_t got = read(t->rfd, buf, n);
	if (got < 0 && is_transient_errno(errno))
		return 0;
	if (got <= 0)
		return err_set("link %s", got == 0 ? "closed by the host" : strerror(errno));
	return got;
}

/* wfd is rfd, or (usb-gadget) the gadget's own IN endpoint: only rfd is ours to close. */
void link_transport_close_fd(struct link_transport *t)
{
	if (t->rfd >= 0)
		close(t->rfd);
	t->rfd = t->wfd = -1;
}

void link_console_say(FILE *console, const char *fmt, ...)
{
	if (!console)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("flasher: link: ", console);
	vfprintf(console, fmt, ap);
	fputc('\n', console);
	fflush(console);
	va_end(ap);
}
