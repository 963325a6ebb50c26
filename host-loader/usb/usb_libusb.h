/* SPDX-License-Identifier: MIT */
/*
 * The libusb layer both USB users of the host share: starting libusb, naming a device by its
 * port path, opening it, finding and claiming the interface with a bulk IN/OUT pair, and
 * turning libusb error codes into messages that say what the user can do. Tegra RCM boot (its
 * usb_transport, usb_libusb_transport.c: synchronous transfers) and the usb: link
 * (link_usb_libusb.c: asynchronous transfers; link_usb_listen.c and link_usb_scan.c: events,
 * hotplug, enumeration) are both built on it and call libusb only for what is theirs alone,
 * so a board that is busy, unplugged or not permitted reads the same through either.
 *
 * Return convention: 0, or a negative libusb error code (LIBUSB_ERROR_*) with err_msg()
 * recorded, so a caller can tell "gone" (LIBUSB_ERROR_NO_DEVICE) from the rest and still
 * report the message as is.
 */
#ifndef SELFFLASH_USB_LIBUSB_H
#define SELFFLASH_USB_LIBUSB_H

#include <stdint.h>

#include <libusb-1.0/libusb.h>

#include "usb_transport.h"

/* "Any value" in a field of struct usb_libusb_iface. */
#define USB_LIBUSB_ANY (-1)

/*
 * Which interface a caller wants (altsetting 0 with exactly one bulk IN and one bulk OUT
 * endpoint, and these numbers, each USB_LIBUSB_ANY or a value), and the words its messages use.
 */
struct usb_libusb_iface {
	int number;     /* bInterfaceNumber */
	int class_code; /* bInterfaceClass */
	int subclass;   /* bInterfaceSubClass */
	int protocol;   /* bInterfaceProtocol */
	const char *name;      /* "interface 0", "vendor-specific interface" */
	const char *not_found; /* follows "has no NAME with ... endpoint": what that means */
	const char *claimers;  /* who else may hold it: "a second hostload?" */
};

/* An open device; once claimed, its interface and bulk endpoints. Plain data: the caller owns
 * it; usb_libusb_close_device() releases what it holds. */
struct usb_libusb_dev {
	libusb_device_handle *handle; /* NULL: not open */
	char path[USB_PATH_MAX];      /* "1-2.3", for messages */
	uint16_t vendor;
	uint16_t product;
	int interface; /* claimed bInterfaceNumber; -1: none */
	uint8_t ep_in;
	uint8_t ep_out;
	uint32_t max_packet; /* bulk OUT wMaxPacketSize */
};

/* Starts a libusb context in *ctx (the caller's, for libusb_exit). 0, or a libusb error with
 * err_msg() saying what libusb needs from the system ("cannot enumerate USB devices: ..."). */
int usb_libusb_init(libusb_context **ctx);

/* Writes dev's "BUS-P1.P2..." path (as sysfs and usb_parse_port_path() spell it) into out,
 * which holds USB_PATH_MAX bytes. */
void usb_libusb_device_path(libusb_device *dev, char *out);

/* Opens dev (whose descriptor is desc) into *d, claiming nothing yet. 0, or a libusb error
 * with err_msg() naming the device and, for a permission problem, the udev rule to install;
 * *d is then closed. */
int usb_libusb_open_device(struct usb_libusb_dev *d, libusb_device *dev,
			   const struct libusb_device_descriptor *desc);

/* The serial string of the open device d (desc its descriptor) into out, "" if it has none.
 * 0, or a libusb error with err_msg() set (out is then ""). */
int usb_libusb_read_serial(struct usb_libusb_dev *d, const struct libusb_device_descriptor *desc,
			   char out[USB_SERIAL_MAX]);

/* Finds the interface `want` describes in the open device's configuration descriptor and
 * claims it (detaching a kernel driver where libusb can); fills d's interface, endpoints and
 * max_packet. 0, or a libusb error (LIBUSB_ERROR_NOT_FOUND: no such interface) with
 * err_msg() saying what was expected and, when the interface is busy, who may hold it. */
int usb_libusb_claim_interface(struct usb_libusb_dev *d, const struct usb_libusb_iface *want);

/* Releases the claimed interface and closes d; harmless on a closed one. */
void usb_libusb_close_device(struct usb_libusb_dev *d);

/* A short sentence, for users, on what a failed transfer's libusb error means ("the device
 * went away (board reset or cable unplugged)"); libusb's own text where there is nothing
 * to add. Static storage. */
const char *usb_libusb_error_text(int rc);

/* The libusb error code an asynchronous transfer's status stands for (0 when it completed). */
int usb_libusb_transfer_error(enum libusb_transfer_status status);

#endif
