/* SPDX-License-Identifier: MIT */
/* libusb under the bridge: a claimed selfflash gadget's bulk endpoints as struct usb_bulk_ops,
 * with asynchronous transfers (libusb's events run on the listener's event thread). */
#include "link_usb_internal.h"

#include <stdlib.h>

/* The selfflash gadget's interface: vendor-specific class, as the flasher's FunctionFS
 * descriptors declare it. Their subclass and protocol (0) mean nothing, so any is taken; the
 * interface number is the gadget's business. */
const struct usb_libusb_iface usb_link_selfflash_interface = {
	.number = USB_LIBUSB_ANY,
	.class_code = USB_LINK_INTERFACE_CLASS,
	.subclass = USB_LIBUSB_ANY,
	.protocol = USB_LIBUSB_ANY,
	.name = "vendor-specific interface",
	.not_found = ": not a board running the selfflash flasher (choose the board with "
		     "usb:VID:PID, port= or serial=)",
	.claimers = "a second hostload?",
};

static void LIBUSB_CALL lu_transfer_done(struct libusb_transfer *t)
{
	struct usb_xfer *x = t->user_data;
	x->actual = t->actual_length > 0 ? (size_t)t->actual_length : 0;
	switch (t->status) {
	case LIBUSB_TRANSFER_COMPLETED: x->status = USB_XFER_DONE; break;
	case LIBUSB_TRANSFER_CANCELLED: x->status = USB_XFER_CANCELLED; break;
	case LIBUSB_TRANSFER_NO_DEVICE: x->status = USB_XFER_GONE; break;
	default:
		x->status = USB_XFER_FAILED;
		x->error = usb_libusb_error_text(usb_libusb_transfer_error(t->status));
		break;
	}
	x->done(x); /* last: x may be reused at once */
}

static int lu_submit(void *dev, struct usb_xfer *x, int in)
{
	struct usb_libusb_dev *d = dev;
	if (x->len > (size_t)INT32_MAX) {
		x->error = "transfer too long";
		return USB_XFER_FAILED;
	}
	if (!x->impl)
		x->impl = libusb_alloc_transfer(0);
	if (!x->impl) {
		x->error = "out of memory";
		return USB_XFER_FAILED;
	}
	struct libusb_transfer *t = x->impl;
	libusb_fill_bulk_transfer(t, d->handle, in ? d->ep_in : d->ep_out, x->buf, (int)x->len,
				  lu_transfer_done, x, 0);
	int rc = libusb_submit_transfer(t);
	if (rc == 0)
		return 0;
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		return USB_XFER_GONE;
	x->error = usb_libusb_error_text(rc);
	return USB_XFER_FAILED;
}

static void lu_cancel(void *dev, struct usb_xfer *x)
{
	(void)dev;
	/* NOT_FOUND (it just ended) and NO_DEVICE (its end is on the way) are both fine */
	(void)libusb_cancel_transfer(x->impl);
}

static void lu_release(void *dev, struct usb_xfer *x)
{
	(void)dev;
	libusb_free_transfer(x->impl);
	x->impl = NULL;
}

void usb_link_libusb_close(void *dev)
{
	usb_libusb_close_device(dev);
	free(dev);
}

const struct usb_bulk_ops usb_link_libusb_ops = {
	.submit = lu_submit,
	.cancel = lu_cancel,
	.release = lu_release,
	.close = usb_link_libusb_close,
};
