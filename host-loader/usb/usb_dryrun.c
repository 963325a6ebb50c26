/* SPDX-License-Identifier: MIT */
/* The --dry-run USB transport: no I/O, one printed line per transfer that would be made. */
#include "usb_transport.h"

#include <string.h>

static FILE *dryrun_out(struct usb_transport *t)
{
	return t->priv;
}

static int dryrun_bulk_out(struct usb_transport *t, const void *buf, size_t len,
			   unsigned timeout_ms, size_t *sent, const char *what)
{
	(void)buf;
	fprintf(dryrun_out(t), "OUT %9zu bytes  %s, %u ms\n", len, what, timeout_ms);
	*sent = len;
	return 0;
}

static int dryrun_bulk_in(struct usb_transport *t, void *buf, size_t len, unsigned timeout_ms,
			  size_t *received, const char *what)
{
	memset(buf, 0, len);
	fprintf(dryrun_out(t), "IN  %9zu bytes  %s (up to), %u ms\n", len, what, timeout_ms);
	*received = 0;
	return 0;
}

static int dryrun_control_in(struct usb_transport *t, uint8_t request_type, uint8_t request,
			     uint16_t value, uint16_t index, void *buf, size_t len,
			     unsigned timeout_ms, size_t *received, const char *what)
{
	memset(buf, 0, len);
	fprintf(dryrun_out(t), "CTRL IN %5zu bytes  bmRequestType 0x%02x bRequest %u wValue 0x%04x "
		"wIndex %u, %u ms: %s\n", len, request_type, request, value, index, timeout_ms,
		what);
	*received = 0;
	return 0;
}

static int dryrun_send_zlp(struct usb_transport *t, unsigned timeout_ms, const char *what)
{
	(void)timeout_ms;
	fprintf(dryrun_out(t), "OUT %9d bytes  zero-length packet: %s\n", 0, what);
	return 0;
}

static int dryrun_reopen(struct usb_transport *t, unsigned timeout_ms)
{
	fprintf(dryrun_out(t), "--- close %s, wait up to %u ms for the device to appear there "
		"again, open it\n", t->path, timeout_ms);
	return 0;
}

static void dryrun_close(struct usb_transport *t)
{
	fflush(dryrun_out(t));
	t->priv = NULL;
}

static const struct usb_transport_ops dryrun_ops = {
	.bulk_out = dryrun_bulk_out,
	.bulk_in = dryrun_bulk_in,
	.control_in = dryrun_control_in,
	.send_zlp = dryrun_send_zlp,
	.reopen = dryrun_reopen,
	.close = dryrun_close,
};

void usb_dryrun_open(struct usb_transport *t, FILE *out, uint16_t vendor, uint16_t product)
{
	memset(t, 0, sizeof(*t));
	t->ops = &dryrun_ops;
	t->priv = out;
	snprintf(t->path, sizeof(t->path), "dry-run");
	t->vendor = vendor;
	t->product = product;
	t->max_packet = 512;
	t->dry_run = 1;
}
