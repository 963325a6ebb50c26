/* SPDX-License-Identifier: MIT */
/* The usb_transport over the libusb layer (usb_libusb.c): choose, bulk transfers, reopen, list. */
#include "usb_transport.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "timing.h"
#include "usb_libusb.h"

/* How often reopen() looks for the device again. */
#define REOPEN_POLL_MS 200

/* What a recovery-mode Tegra offers (DESIGN.md §6 step 2): a vendor-specific interface,
 * class/subclass/protocol FF/FF/FF; its endpoints come from the descriptors. */
static const struct usb_libusb_iface tegra_interface = {
	.number = USB_LIBUSB_ANY,
	.class_code = 0xff,
	.subclass = 0xff,
	.protocol = 0xff,
	.name = "interface of class FF/FF/FF",
	.not_found = ", as a recovery-mode Tegra has",
	.claimers = "NVIDIA's tegrarcm_v2 or flash.sh, or a second hostload?",
};

struct libusb_priv {
	libusb_context *ctx;
	struct usb_libusb_dev dev;
	const struct usb_id *ids;
	size_t n_ids;
};

static struct libusb_priv *priv_of(struct usb_transport *t)
{
	return t->priv;
}

static const struct usb_id *match_id(libusb_device *dev, const struct usb_id *ids, size_t n,
				     struct libusb_device_descriptor *desc)
{
	if (libusb_get_device_descriptor(dev, desc) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (ids[i].vendor == desc->idVendor && ids[i].product == desc->idProduct)
			return &ids[i];
	return NULL;
}

/* Every device libusb sees into *list (for libusb_free_device_list); how many, or -1. */
static ssize_t list_devices(libusb_context *ctx, libusb_device ***list)
{
	ssize_t n = libusb_get_device_list(ctx, list);
	if (n < 0)
		return err_set("cannot enumerate USB devices: %s", libusb_strerror((int)n));
	return n;
}

/* Opens dev, claims interface 0 and finds its bulk endpoints; fills t. 0, or -1. */
static int open_device(struct usb_transport *t, libusb_device *dev,
		       const struct libusb_device_descriptor *desc)
{
	struct libusb_priv *p = priv_of(t);
	int rc = usb_libusb_open_device(&p->dev, dev, desc);
	if (rc == 0)
		rc = usb_libusb_claim_interface(&p->dev, &tegra_interface);
	if (rc != 0) {
		usb_libusb_close_device(&p->dev);
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s", p->dev.path);
	t->vendor = p->dev.vendor;
	t->product = p->dev.product;
	t->max_packet = p->dev.max_packet;
	return 0;
}

/* ---- transfers ------------------------------------------------------------------------ */

/* The transfer's own numbers where they tell more than usb_libusb_error_text(); returns -1. */
static int transfer_error(struct usb_transport *t, const char *dir, const char *what, int rc,
			  int done, size_t len, unsigned timeout_ms)
{
	if (rc == LIBUSB_ERROR_TIMEOUT)
		return err_set("USB %s: %s %s: no answer within %u ms (%d of %zu bytes moved)",
			       t->path, dir, what, timeout_ms, done, len);
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		return err_set("USB %s: %s %s: the device went away (board reset, cable "
			       "unplugged, or the file was rejected)", t->path, dir, what);
	if (rc == LIBUSB_ERROR_OVERFLOW)
		return err_set("USB %s: %s %s: the device sent more than the %zu bytes "
			       "expected", t->path, dir, what, len);
	return err_set("USB %s: %s %s: %s", t->path, dir, what, usb_libusb_error_text(rc));
}

static int lu_bulk_out(struct usb_transport *t, const void *buf, size_t len, unsigned timeout_ms,
		       size_t *sent, const char *what)
{
	struct libusb_priv *p = priv_of(t);
	int done = 0;
	*sent = 0;
	if (len == 0 || len > INT_MAX)
		return err_set("USB %s: bulk OUT %s: %zu bytes, expected 1..%d", t->path, what,
			       len, INT_MAX);
	/* libusb takes a non-const buffer for both directions; OUT transfers only read it */
	int rc = libusb_bulk_transfer(p->dev.handle, p->dev.ep_out, (unsigned char *)(uintptr_t)buf, (int)len,
				      &done, timeout_ms);
	if (rc != 0)
		return transfer_error(t, "bulk OUT", what, rc, done, len, timeout_ms);
	*sent = (size_t)done;
	return 0;
}

static int lu_bulk_in(struct usb_transport *t, void *buf, size_t len, unsigned timeout_ms,
		      size_t *received, const char *what)
{
	struct libusb_priv *p = priv_of(t);
	int done = 0;
	*received = 0;
	if (len == 0 || len > INT_MAX)
		return err_set("USB %s: bulk IN %s: %zu bytes, expected 1..%d", t->path, what, len,
			       INT_MAX);
	int rc = libusb_bulk_transfer(p->dev.handle, p->dev.ep_in, buf, (int)len, &done, timeout_ms);
	if (rc == LIBUSB_ERROR_TIMEOUT && done > 0)
		rc = 0;
	if (rc != 0)
		return transfer_error(t, "bulk IN", what, rc, done, len, timeout_ms);
	*received = (size_t)done;
	return 0;
}

static int lu_control_in(struct usb_transport *t, uint8_t request_type, uint8_t request,
			 uint16_t value, uint16_t index, void *buf, size_t len, unsigned timeout_ms,
			 size_t *received, const char *what)
{
	struct libusb_priv *p = priv_of(t);
	*received = 0;
	if (len == 0 || len > 4096 || !(request_type & 0x80))
		return err_set("USB %s: control IN %s: %zu bytes, request type 0x%02x; expected "
			       "1..4096 bytes from the device", t->path, what, len, request_type);
	int rc = libusb_control_transfer(p->dev.handle, request_type, request, value, index, buf,
					 (uint16_t)len, timeout_ms);
	if (rc < 0)
		return transfer_error(t, "control IN", what, rc, 0, len, timeout_ms);
	*received = (size_t)rc;
	return 0;
}

static int lu_send_zlp(struct usb_transport *t, unsigned timeout_ms, const char *what)
{
	struct libusb_priv *p = priv_of(t);
	unsigned char none = 0;
	int done = 0;
	int rc = libusb_bulk_transfer(p->dev.handle, p->dev.ep_out, &none, 0, &done, timeout_ms);
	if (rc != 0)
		return transfer_error(t, "bulk OUT (zero-length)", what, rc, done, 0, timeout_ms);
	return 0;
}

/* ---- finding devices ------------------------------------------------------------------ */

static int lu_reopen(struct usb_transport *t, unsigned timeout_ms)
{
	struct libusb_priv *p = priv_of(t);
	char path[USB_PATH_MAX];
	snprintf(path, sizeof(path), "%s", t->path);
	usb_libusb_close_device(&p->dev);
	uint64_t deadline = timing_now_ms() + timeout_ms;
	int last = 0; /* 0: nothing at the port yet, -1: a device there failed to open */
	for (;;) {
		libusb_device **list = NULL;
		/* a failed enumeration is just another look that found nothing */
		ssize_t n = libusb_get_device_list(p->ctx, &list);
		for (ssize_t i = 0; i < n; i++) {
			struct libusb_device_descriptor desc;
			char at[USB_PATH_MAX];
			usb_libusb_device_path(list[i], at);
			if (strcmp(at, path) != 0 || !match_id(list[i], p->ids, p->n_ids, &desc))
				continue;
			last = open_device(t, list[i], &desc);
			if (last == 0) {
				libusb_free_device_list(list, 1);
				return 0;
			}
		}
		if (n >= 0)
			libusb_free_device_list(list, 1);
		if (timing_now_ms() >= deadline)
			break;
		timing_sleep_ms(REOPEN_POLL_MS);
	}
	if (last == 0)
		err_set("USB %s: no recovery-mode device appeared there again within %u ms", path,
			timeout_ms);
	return err_prefix("reopening USB %s", path);
}

static void lu_close(struct usb_transport *t)
{
	struct libusb_priv *p = priv_of(t);
	if (!p)
		return;
	usb_libusb_close_device(&p->dev);
	if (p->ctx)
		libusb_exit(p->ctx);
	free(p);
	t->priv = NULL;
}

static const struct usb_transport_ops libusb_ops = {
	.bulk_out = lu_bulk_out,
	.bulk_in = lu_bulk_in,
	.control_in = lu_control_in,
	.send_zlp = lu_send_zlp,
	.reopen = lu_reopen,
	.close = lu_close,
};

/* A comma-separated list of the ids, for messages. */
static void ids_text(const struct usb_id *ids, size_t n, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++) {
		int w = snprintf(out + used, size - used, "%s%04x:%04x", i ? ", " : "",
				 ids[i].vendor, ids[i].product);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int usb_libusb_open(struct usb_transport *t, const struct usb_id *ids, size_t n_ids,
		    const struct usb_select *sel)
{
	static const struct usb_select none = { NULL, NULL };
	if (!sel)
		sel = &none;
	memset(t, 0, sizeof(*t));
	if (sel->port_path && sel->serial)
		return err_set("choose the USB device by port path or by serial, not both");
	if (sel->port_path) {
		uint8_t bus, ports[USB_PORTS_MAX];
		if (usb_parse_port_path(sel->port_path, &bus, ports, USB_PORTS_MAX) < 0)
			return -1;
	}
	struct libusb_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set("out of memory");
	p->ids = ids;
	p->n_ids = n_ids;
	t->priv = p;
	t->ops = &libusb_ops;
	if (usb_libusb_init(&p->ctx) != 0)
		goto fail;

	libusb_device **list = NULL;
	ssize_t n = list_devices(p->ctx, &list);
	if (n < 0)
		goto fail;
	libusb_device *chosen = NULL;
	struct libusb_device_descriptor chosen_desc;
	char found[256] = "", other[128] = "";
	size_t used = 0;
	int matches = 0, serial_denied = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor desc;
		char path[USB_PATH_MAX];
		usb_libusb_device_path(list[i], path);
		const struct usb_id *id = match_id(list[i], ids, n_ids, &desc);
		if (sel->port_path && strcmp(path, sel->port_path) != 0)
			continue;
		if (!id) {
			if (sel->port_path)
				snprintf(other, sizeof(other), "%04x:%04x", desc.idVendor,
					 desc.idProduct);
			continue;
		}
		if (sel->serial) {
			struct usb_libusb_dev d;
			char serial[USB_SERIAL_MAX];
			int rc = usb_libusb_open_device(&d, list[i], &desc);
			if (rc == LIBUSB_ERROR_ACCESS)
				serial_denied = 1;
			if (rc != 0)
				continue;
			rc = usb_libusb_read_serial(&d, &desc, serial);
			usb_libusb_close_device(&d);
			if (rc != 0 || strcmp(serial, sel->serial) != 0)
				continue;
		}
		if (matches++ == 0) {
			chosen = list[i];
			chosen_desc = desc;
		}
		int w = snprintf(found + used, sizeof(found) - used, "%s%s", used ? ", " : "",
				 path);
		if (w > 0 && (size_t)w < sizeof(found) - used)
			used += (size_t)w;
	}
	if (matches == 1) {
		int rc = open_device(t, chosen, &chosen_desc);
		libusb_free_device_list(list, 1);
		if (rc != 0)
			goto fail;
		return 0;
	}
	libusb_free_device_list(list, 1);
	if (matches > 1) {
		err_set("%d recovery-mode devices found (%s); choose one by its port path or "
			"serial", matches, found);
	} else if (sel->port_path) {
		if (other[0])
			err_set("USB %s is %s, not a recovery-mode device this tool knows",
				sel->port_path, other);
		else
			err_set("no device at USB port %s; `hostload list` shows the recovery-mode "
				"devices present", sel->port_path);
	} else if (sel->serial) {
		if (serial_denied)
			err_set("no recovery-mode device with serial %s could be read: " USB_UDEV_HINT,
				sel->serial, ids[0].vendor);
		else
			err_set("no recovery-mode device with serial %s", sel->serial);
	} else {
		char want[256];
		ids_text(ids, n_ids, want, sizeof(want));
		err_set("no device in recovery mode found (looked for %s): connect the board's "
			"recovery USB port to this host and hold Force Recovery while powering it "
			"on or resetting it; `lsusb` should then list it", want);
	}
fail:
	lu_close(t);
	t->ops = NULL;
	return -1;
}

int usb_libusb_list(FILE *out, const struct usb_id *ids, size_t n_ids)
{
	libusb_context *ctx = NULL;
	if (usb_libusb_init(&ctx) != 0)
		return -1;
	libusb_device **list = NULL;
	ssize_t n = list_devices(ctx, &list);
	if (n < 0) {
		libusb_exit(ctx);
		return -1;
	}
	int count = 0, denied = 0;
	uint16_t denied_vendor = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor desc;
		const struct usb_id *id = match_id(list[i], ids, n_ids, &desc);
		if (!id)
			continue;
		char serial[USB_SERIAL_MAX] = "";
		const char *note = "";
		struct usb_libusb_dev d;
		/* a device that cannot be opened is still listed: its path and ids are known */
		int rc = usb_libusb_open_device(&d, list[i], &desc);
		if (rc == 0) {
			if (usb_libusb_read_serial(&d, &desc, serial) != 0)
				note = " (serial unreadable)";
			usb_libusb_close_device(&d);
		} else if (rc == LIBUSB_ERROR_ACCESS) {
			note = " (no permission to open it, see below)";
			denied = 1;
			denied_vendor = desc.idVendor;
		}
		fprintf(out, "%-12s %04x:%04x  %s%s%s%s\n", d.path, desc.idVendor, desc.idProduct,
			id->name, serial[0] ? "  serial " : "", serial, note);
		count++;
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	if (denied)
		fprintf(out, "opening a device: " USB_UDEV_HINT "\n", denied_vendor);
	if (count == 0) {
		char want[256];
		ids_text(ids, n_ids, want, sizeof(want));
		fprintf(out, "no device in recovery mode found (looked for %s); connect the "
			"board's recovery USB port and hold Force Recovery while powering it on or "
			"resetting it\n", want);
	}
	return count;
}
