/* SPDX-License-Identifier: MIT */
/*
 * A USB device opened for bulk transfers, as a small ops struct (musl's FILE, U-Boot's
 * sparse_storage): libusb for real boards, a printer for --dry-run, a simulated device in
 * tests. Boot backends such as rcm_tegra talk to this and nothing else.
 */
#ifndef SELFFLASH_USB_TRANSPORT_H
#define SELFFLASH_USB_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* USB 3 allows at most 7 tiers of hubs below the root: the most ports in a path. */
#define USB_PORTS_MAX 7
/* Longest bus-port path ("3-1.4.2.1"): bus, dash, up to 7 port numbers with dots. */
#define USB_PATH_MAX 32
/* Longest serial number string kept (USB string descriptors hold at most 126 characters). */
#define USB_SERIAL_MAX 128

/* What to do when opening a device is refused: a printf format taking the vendor id (%04x). */
#define USB_UDEV_HINT                                                                     \
	"permission denied; as root, put SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", "   \
	"MODE=\"0660\", TAG+=\"uaccess\" into /etc/udev/rules.d/70-selfflash.rules, run "  \
	"`udevadm control --reload`, unplug and replug the board (or run as root)"

/* One vendor/product pair a caller looks for. `kind` is the caller's tag (e.g. the Tegra
 * chip); `name` is shown to users ("Jetson AGX Orin 64GB"). */
struct usb_id {
	uint16_t vendor;
	uint16_t product;
	int kind;
	const char *name;
};

/* Which device to open when several match: at most one of the two is set; neither means
 * "the only matching device". */
struct usb_select {
	const char *port_path; /* "1-2.3" as in /sys/bus/usb/devices and `lsusb -t` */
	const char *serial;    /* the iSerialNumber string */
};

struct usb_transport;

/*
 * Every operation returns 0, or -1 with err_msg() saying which transfer (`what`, a short
 * description such as "mb1 @16384") failed, how, and what the user can do about it.
 * Buffers stay owned by the caller and are not kept after the call returns.
 * `timeout_ms` 0 means no timeout.
 */
struct usb_transport_ops {
	/* Sends len bytes (len > 0) as one bulk OUT transfer. On 0, *sent holds how many the
	 * device accepted; fewer than len is not an error here, the caller decides. */
	int (*bulk_out)(struct usb_transport *t, const void *buf, size_t len, unsigned timeout_ms,
			size_t *sent, const char *what);
	/* Receives at most len bytes as one bulk IN transfer; a short packet ends it early and
	 * *received says how many arrived. A timeout with nothing received is an error. */
	int (*bulk_in)(struct usb_transport *t, void *buf, size_t len, unsigned timeout_ms,
		       size_t *received, const char *what);
	/* One control transfer with a data stage from the device (bmRequestType has bit 7 set):
	 * receives at most len bytes (len <= 4096) into buf; *received says how many arrived.
	 * Used for a standard GET_DESCRIPTOR request, which any USB device answers. */
	int (*control_in)(struct usb_transport *t, uint8_t request_type, uint8_t request,
			  uint16_t value, uint16_t index, void *buf, size_t len,
			  unsigned timeout_ms, size_t *received, const char *what);
	/* Sends a zero-length bulk OUT packet (ends a transfer whose length is a multiple of the
	 * endpoint's packet size). */
	int (*send_zlp)(struct usb_transport *t, unsigned timeout_ms, const char *what);
	/* Closes the device and opens the one found at the same bus port again, scanning for up
	 * to timeout_ms: for firmware that may re-enumerate after taking over the USB controller.
	 * Either case works: a device that stayed is simply opened again. vendor/product/
	 * max_packet are updated. May be NULL (the handle is simply kept). */
	int (*reopen)(struct usb_transport *t, unsigned timeout_ms);
	/* Releases the device and everything open() allocated; the struct may be reused. */
	void (*close)(struct usb_transport *t);
};

struct usb_transport {
	const struct usb_transport_ops *ops;
	void *priv;
	char path[USB_PATH_MAX]; /* bus-port path, for messages */
	uint16_t vendor;
	uint16_t product;
	uint32_t max_packet; /* bulk OUT wMaxPacketSize; 0 means 512 (high speed) */
	/* Set by usb_dryrun_open(): nothing is sent, reads return no data, and a protocol must
	 * print its plan as if every reply were the one it expects. */
	int dry_run;
};

static inline void usb_transport_close(struct usb_transport *t)
{
	if (t->ops && t->ops->close)
		t->ops->close(t);
	t->ops = NULL;
}

/* ---- implementations ------------------------------------------------------------------ */

/*
 * libusb-1.0 (usb_libusb_transport.c, over the libusb layer of usb_libusb.h). Opens the
 * device matching one of ids[0..n_ids) and sel, claims its vendor-specific interface (class,
 * subclass and protocol FF/FF/FF) and takes its bulk IN and OUT endpoints (exactly one of
 * each) from the descriptors.
 * Errors name what was found ("2 devices: 1-2, 1-4.1; choose one with a port path") and,
 * for a permission problem, the udev rule to install.
 */
int usb_libusb_open(struct usb_transport *t, const struct usb_id *ids, size_t n_ids,
		    const struct usb_select *sel);

/*
 * Prints one line per device matching ids[0..n_ids) to out ("1-2.3  0955:7023  NAME
 * serial S"), or a line saying none was found and how to put a board in recovery mode.
 * Returns the number of devices, or -1 with err_msg() if USB could not be enumerated.
 */
int usb_libusb_list(FILE *out, const struct usb_id *ids, size_t n_ids);

/*
 * Splits "BUS-P1.P2..." into bus and port numbers (at most ports_max, each 1..255).
 * Returns the number of ports, or -1 with err_msg() naming the expected form.
 */
int usb_parse_port_path(const char *path, uint8_t *bus, uint8_t *ports, int ports_max);

/* Writes "BUS-P1.P2..." for bus and ports[0..n) into out (USB_PATH_MAX bytes), the form
 * usb_parse_port_path() reads and sysfs uses; n 0 (a root hub) gives "BUS-0". */
void usb_format_port_path(char *out, uint8_t bus, const uint8_t *ports, int n);

/*
 * The dry-run transport (usb_dryrun.c): performs no USB I/O and prints every transfer it
 * would make to out, one line each: direction, length, what. Reads receive nothing.
 * It reports vendor:product as given, so the backend picks the right chip. Never fails.
 */
void usb_dryrun_open(struct usb_transport *t, FILE *out, uint16_t vendor, uint16_t product);

#endif
