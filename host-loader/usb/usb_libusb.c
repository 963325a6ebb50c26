/* SPDX-License-Identifier: MIT */
/* The host's shared libusb layer: init, port paths, open, find and claim a bulk pair, messages. */
#include "usb_libusb.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

int usb_libusb_init(libusb_context **ctx)
{
	int rc = libusb_init(ctx);
	if (rc != 0) {
		*ctx = NULL;
		err_set("cannot enumerate USB devices: libusb_init: %s (libusb needs /dev/bus/usb and "
			"/sys/bus/usb, and netlink where it has no udev; in a container, pass them "
			"through)", libusb_strerror(rc));
		return rc;
	}
	return 0;
}

void usb_libusb_device_path(libusb_device *dev, char *out)
{
	uint8_t ports[USB_PORTS_MAX];
	int n = libusb_get_port_numbers(dev, ports, USB_PORTS_MAX);
	usb_format_port_path(out, libusb_get_bus_number(dev), ports, n > 0 ? n : 0);
}

/* Records why an open or a claim of d failed, with what the user can do about it (doing:
 * "cannot open it"; claimers: who else may hold the interface); returns rc. */
static int device_error(const struct usb_libusb_dev *d, int rc, const char *doing,
			const char *claimers)
{
	switch (rc) {
	case LIBUSB_ERROR_ACCESS:
		err_set("USB %s (%04x:%04x): " USB_UDEV_HINT, d->path, d->vendor, d->product,
			d->vendor);
		break;
	case LIBUSB_ERROR_NO_DEVICE:
		err_set("USB %s (%04x:%04x): the device went away (board reset or cable unplugged?)",
			d->path, d->vendor, d->product);
		break;
	case LIBUSB_ERROR_BUSY:
		err_set("USB %s (%04x:%04x): interface %d is claimed by another program (%s)",
			d->path, d->vendor, d->product, d->interface,
			claimers ? claimers : "a second hostload?");
		break;
	default:
		err_set("USB %s (%04x:%04x): %s: %s", d->path, d->vendor, d->product, doing,
			libusb_strerror(rc));
		break;
	}
	return rc;
}

int usb_libusb_open_device(struct usb_libusb_dev *d, libusb_device *dev,
			   const struct libusb_device_descriptor *desc)
{
	memset(d, 0, sizeof(*d));
	d->interface = -1;
	d->vendor = desc->idVendor;
	d->product = desc->idProduct;
	usb_libusb_device_path(dev, d->path);
	int rc = libusb_open(dev, &d->handle);
	if (rc != 0) {
		d->handle = NULL;
		return device_error(d, rc, "cannot open it", NULL);
	}
	return 0;
}

int usb_libusb_read_serial(struct usb_libusb_dev *d, const struct libusb_device_descriptor *desc,
			   char out[USB_SERIAL_MAX])
{
	out[0] = '\0';
	if (desc->iSerialNumber == 0)
		return 0;
	int n = libusb_get_string_descriptor_ascii(d->handle, desc->iSerialNumber,
						   (unsigned char *)out, USB_SERIAL_MAX);
	if (n < 0) {
		out[0] = '\0';
		err_set("USB %s (%04x:%04x): cannot read its serial number: %s", d->path, d->vendor,
			d->product, libusb_strerror(n));
		return n;
	}
	out[n < USB_SERIAL_MAX ? n : USB_SERIAL_MAX - 1] = '\0';
	return 0;
}

static int field_fits(int want, uint8_t have)
{
	return want == USB_LIBUSB_ANY || want == have;
}

/* The endpoints of alt into d when it has exactly one bulk IN and one bulk OUT; 1 if so. */
static int take_bulk_pair(const struct libusb_interface_descriptor *alt, struct usb_libusb_dev *d)
{
	int ins = 0, outs = 0;
	uint8_t in = 0, out = 0;
	uint32_t max_packet = 0;
	for (int e = 0; e < alt->bNumEndpoints; e++) {
		const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
		if ((ep->bmAttributes & 0x3) != LIBUSB_TRANSFER_TYPE_BULK)
			continue;
		if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
			ins++;
			in = ep->bEndpointAddress;
		} else {
			outs++;
			out = ep->bEndpointAddress;
			max_packet = ep->wMaxPacketSize & 0x7ff; /* bits 11-12: extra per microframe */
		}
	}
	if (ins != 1 || outs != 1)
		return 0;
	d->interface = alt->bInterfaceNumber;
	d->ep_in = in;
	d->ep_out = out;
	d->max_packet = max_packet;
	return 1;
}

/* Finds want in the device's configuration descriptor; 0 or a libusb error (recorded). */
static int find_interface(struct usb_libusb_dev *d, const struct usb_libusb_iface *want)
{
	libusb_device *dev = libusb_get_device(d->handle);
	struct libusb_config_descriptor *cfg = NULL;
	/* no active configuration is known on some systems until one is set: the first will be */
	int rc = libusb_get_active_config_descriptor(dev, &cfg);
	if (rc != 0)
		rc = libusb_get_config_descriptor(dev, 0, &cfg);
	if (rc != 0) {
		err_set("USB %s (%04x:%04x): cannot read the configuration descriptor: %s", d->path,
			d->vendor, d->product, libusb_strerror(rc));
		return rc;
	}
	int found = 0;
	for (int i = 0; i < cfg->bNumInterfaces && !found; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		if (field_fits(want->number, alt->bInterfaceNumber) &&
		    field_fits(want->class_code, alt->bInterfaceClass) &&
		    field_fits(want->subclass, alt->bInterfaceSubClass) &&
		    field_fits(want->protocol, alt->bInterfaceProtocol))
			found = take_bulk_pair(alt, d);
	}
	libusb_free_config_descriptor(cfg);
	if (!found) {
		err_set("USB %s (%04x:%04x) has no %s with one bulk IN and one bulk OUT endpoint%s",
			d->path, d->vendor, d->product, want->name,
			want->not_found ? want->not_found : "");
		return LIBUSB_ERROR_NOT_FOUND;
	}
	return 0;
}

int usb_libusb_claim_interface(struct usb_libusb_dev *d, const struct usb_libusb_iface *want)
{
	int rc = find_interface(d, want);
	if (rc != 0)
		return rc;
	/* the devices we drive have no kernel driver of their own, but a generic one may have
	 * bound; libusb says NOT_SUPPORTED where it cannot detach (macOS), which is harmless */
	libusb_set_auto_detach_kernel_driver(d->handle, 1);
	rc = libusb_claim_interface(d->handle, d->interface);
	if (rc != 0) {
		char doing[48];
		snprintf(doing, sizeof(doing), "cannot claim interface %d", d->interface);
		device_error(d, rc, doing, want->claimers);
		d->interface = -1; /* not ours to release */
		return rc;
	}
	return 0;
}

void usb_libusb_close_device(struct usb_libusb_dev *d)
{
	if (!d->handle)
		return;
	if (d->interface >= 0)
		libusb_release_interface(d->handle, d->interface);
	libusb_close(d->handle);
	d->handle = NULL;
	d->interface = -1;
}

const char *usb_libusb_error_text(int rc)
{
	switch (rc) {
	case LIBUSB_ERROR_NO_DEVICE:
		return "the device went away (board reset or cable unplugged)";
	case LIBUSB_ERROR_PIPE:
		return "the device stalled the endpoint (it refused the transfer)";
	case LIBUSB_ERROR_OVERFLOW:
		return "the device sent more than asked for";
	case LIBUSB_ERROR_TIMEOUT:
		return "timed out";
	case LIBUSB_ERROR_IO:
		return "transfer error (a bad cable or a device being unplugged)";
	case LIBUSB_ERROR_NO_MEM:
		/* Linux caps what all programs may have in flight (16 MiB by default: 8 boards) */
		return "out of USB transfer memory (with many boards, raise "
		       "/sys/module/usbcore/parameters/usbfs_memory_mb)";
	default:
		return libusb_strerror(rc);
	}
}

int usb_libusb_transfer_error(enum libusb_transfer_status status)
{
	switch (status) {
	case LIBUSB_TRANSFER_COMPLETED: return 0;
	case LIBUSB_TRANSFER_CANCELLED: return LIBUSB_ERROR_INTERRUPTED;
	case LIBUSB_TRANSFER_NO_DEVICE: return LIBUSB_ERROR_NO_DEVICE;
	case LIBUSB_TRANSFER_STALL: return LIBUSB_ERROR_PIPE;
	case LIBUSB_TRANSFER_OVERFLOW: return LIBUSB_ERROR_OVERFLOW;
	case LIBUSB_TRANSFER_TIMED_OUT: return LIBUSB_ERROR_TIMEOUT;
	default: return LIBUSB_ERROR_IO;
	}
}
