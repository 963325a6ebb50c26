/* SPDX-License-Identifier: MIT */
/* What the libusb-based files share beyond the transport interface (usb_transport.h). */
#ifndef SELFFLASH_USB_LIBUSB_H
#define SELFFLASH_USB_LIBUSB_H

#include <libusb-1.0/libusb.h>

/* Writes dev's "BUS-P1.P2..." path (as sysfs and usb_parse_port_path() spell it) into out,
 * which holds USB_PATH_MAX bytes. */
void usb_libusb_device_path(libusb_device *dev, char *out);

#endif
