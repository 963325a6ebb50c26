/* SPDX-License-Identifier: MIT */
/* The link over the USB gadget's FunctionFS bulk endpoints (usb-gadget:[UDC]; usb_gadget.c). */
#include "link_transport.h"

#include <stdlib.h>

#include "error.h"

#define FFS_CONNECT_WAIT_MS 1000 /* one wait for the USB host, under the tx lock */

/* Made once: a host that went away is waited for, the gadget stays. */
int link_ffs_setup_gadget(struct link_transport *t, const char *udc)
{
	if (t->usb)
		return 0;
	/* not on the stack: it holds a 64 KiB read buffer; made once per client, not per read */
	struct usb_gadget *g = calloc(1, sizeof(*g));
	if (!g)
		return err_set("out of memory for the USB gadget");
	struct usb_gadget_opts u = t->usb_opts;
	if (udc[0])
		u.udc = udc;
	if (usb_gadget_open(g, &u) != 0) {
		free(g);
		if (t->usb_failures++ == 0)
			link_console_say(t->console, "USB gadget: %s (trying again)", err_msg());
		return -1;
	}
	t->usb = g;
	return 0;
}

void link_ffs_unbind_gadget(struct link_transport *t)
{
	if (t->usb)
		usb_gadget_unbind(t->usb);
}

void link_ffs_remove_gadget(struct link_transport *t)
{
	if (!t->usb)
		return;
	usb_gadget_close(t->usb);
	free(t->usb);
	t->usb = NULL;
}

/* A new session on the bulk endpoints once the host has enabled them. */
static int ffs_open(struct link_transport *t)
{
	link_transport_close_fd(t);
	if (link_ffs_setup_gadget(t, t->arg) != 0)
		return -1;
	return usb_gadget_connect(t->usb, FFS_CONNECT_WAIT_MS, &t->rfd, &t->wfd);
}

/* Not link_write_all(): one transfer per frame, ended by a zero-length packet if need be. */
static int ffs_write(struct link_transport *t, const void *p, size_t n)
{
	if (t->wfd < 0)
		return err_set("link: no USB session");
	return usb_gadget_write(t->usb, p, n);
}

const struct link_transport_ops link_ffs_ops = {
	.open = ffs_open,
	.read = link_transport_read_fd, /* the bridge's socket: endpoint files cannot be polled */
	.write = ffs_write,
	.interrupt = link_ffs_unbind_gadget, /* a write to a host that stopped reading fails */
	.close = link_transport_close_fd,
	.release = link_ffs_remove_gadget,
	.retry_ms = 50,
};
