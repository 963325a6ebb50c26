/* SPDX-License-Identifier: MIT */
/* The usb_transport over libusb-1.0: find, open, claim, bulk transfers, reopen, list. */
#include "usb_transport.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb-1.0/libusb.h>

#include "error.h"
#include "usb_libusb.h"

/* USB 3 allows at most 7 tiers of hubs below the root. */
#define PORTS_MAX 7
/* The interface recovery-mode Tegra devices use (their only one). */
#define USB_INTERFACE 0
/* How often reopen() looks for the device again. */
#define REOPEN_POLL_MS 200

struct libusb_priv {
	libusb_context *ctx;
	libusb_device_handle *h;
	const struct usb_id *ids;
	size_t n_ids;
	uint8_t ep_in;
	uint8_t ep_out;
};

static struct libusb_priv *priv_of(struct usb_transport *t)
{
	return t->priv;
}

void usb_libusb_device_path(libusb_device *dev, char *out)
{
	uint8_t ports[PORTS_MAX];
	int n = libusb_get_port_numbers(dev, ports, PORTS_MAX);
	size_t used = (size_t)snprintf(out, USB_PATH_MAX, "%u-", libusb_get_bus_number(dev));
	if (n <= 0)
		snprintf(out + used, USB_PATH_MAX - used, "0");
	for (int i = 0; i < n && used < USB_PATH_MAX; i++) {
		int w = snprintf(out + used, USB_PATH_MAX - used, i ? ".%u" : "%u", ports[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
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

/* The serial string of an open device, "" if it has none; 0 or a libusb error. */
static int read_serial(libusb_device_handle *h, const struct libusb_device_descriptor *desc,
		       char out[USB_SERIAL_MAX])
{
	out[0] = '\0';
	if (desc->iSerialNumber == 0)
		return 0;
	int n = libusb_get_string_descriptor_ascii(h, desc->iSerialNumber, (unsigned char *)out,
						   USB_SERIAL_MAX);
	if (n < 0) {
		out[0] = '\0';
		return n;
	}
	out[n < USB_SERIAL_MAX ? n : USB_SERIAL_MAX - 1] = '\0';
	return 0;
}

/* Records why opening path failed, with what the user can do about it; returns -1. */
static int open_error(int rc, const char *path, const struct libusb_device_descriptor *desc)
{
	switch (rc) {
	case LIBUSB_ERROR_ACCESS:
		return err_set("USB %s (%04x:%04x): " USB_UDEV_HINT, path, desc->idVendor,
			       desc->idProduct, desc->idVendor);
	case LIBUSB_ERROR_NO_DEVICE:
		return err_set("USB %s (%04x:%04x): the device went away (board reset or cable "
			       "unplugged?)", path, desc->idVendor, desc->idProduct);
	case LIBUSB_ERROR_BUSY:
		return err_set("USB %s (%04x:%04x): interface %d is claimed by another program "
			       "(NVIDIA's tegrarcm_v2 or flash.sh, or a second hostload?)", path,
			       desc->idVendor, desc->idProduct, USB_INTERFACE);
	default:
		return err_set("USB %s (%04x:%04x): %s", path, desc->idVendor, desc->idProduct,
			       libusb_strerror(rc));
	}
}

/* Finds the bulk endpoints of interface 0 from the configuration descriptor. */
static int find_endpoints(libusb_device *dev, const char *path, struct libusb_priv *p,
			  uint32_t *max_packet)
{
	struct libusb_config_descriptor *cfg = NULL;
	int rc = libusb_get_active_config_descriptor(dev, &cfg);
	if (rc != 0)
		rc = libusb_get_config_descriptor(dev, 0, &cfg);
	if (rc != 0)
		return err_set("USB %s: cannot read the configuration descriptor: %s", path,
			       libusb_strerror(rc));
	int found_in = 0, found_out = 0;
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		if (itf->num_altsetting < 1 ||
		    itf->altsetting[0].bInterfaceNumber != USB_INTERFACE)
			continue;
		const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
		for (int e = 0; e < alt->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
			if ((ep->bmAttributes & 0x3) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
				if (!found_in) {
					p->ep_in = ep->bEndpointAddress;
					found_in = 1;
				}
			} else if (!found_out) {
				p->ep_out = ep->bEndpointAddress;
				*max_packet = ep->wMaxPacketSize & 0x7ff;
				found_out = 1;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	if (!found_in || !found_out)
		return err_set("USB %s: interface %d has no bulk %s endpoint (expected one bulk IN "
			       "and one bulk OUT, as a recovery-mode Tegra has)", path,
			       USB_INTERFACE, found_in ? "OUT" : "IN");
	return 0;
}

/* Opens dev, finds its endpoints and claims interface 0; fills t. 0, or -1; *lrc gets the
 * libusb error of libusb_open (0 if it got that far). */
static int open_device(struct usb_transport *t, libusb_device *dev,
		       const struct libusb_device_descriptor *desc, int *lrc)
{
	struct libusb_priv *p = priv_of(t);
	char path[USB_PATH_MAX];
	usb_libusb_device_path(dev, path);
	*lrc = libusb_open(dev, &p->h);
	if (*lrc != 0) {
		p->h = NULL;
		return open_error(*lrc, path, desc);
	}
	uint32_t max_packet = 0;
	if (find_endpoints(dev, path, p, &max_packet) != 0)
		goto fail;
	/* recovery-mode devices have no kernel driver; harmless where unsupported (macOS) */
	libusb_set_auto_detach_kernel_driver(p->h, 1);
	int rc = libusb_claim_interface(p->h, USB_INTERFACE);
	if (rc != 0) {
		open_error(rc, path, desc);
		goto fail;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->vendor = desc->idVendor;
	t->product = desc->idProduct;
	t->max_packet = max_packet;
	return 0;
fail:
	libusb_close(p->h);
	p->h = NULL;
	return -1;
}

static void release_device(struct libusb_priv *p)
{
	if (p->h) {
		libusb_release_interface(p->h, USB_INTERFACE);
		libusb_close(p->h);
		p->h = NULL;
	}
}

/* ---- transfers ------------------------------------------------------------------------ */

static int transfer_error(struct usb_transport *t, const char *dir, const char *what, int rc,
			  int done, size_t len, unsigned timeout_ms)
{
	if (rc == LIBUSB_ERROR_TIMEOUT)
		return err_set("USB %s: bulk %s %s: no answer within %u ms (%d of %zu bytes moved)",
			       t->path, dir, what, timeout_ms, done, len);
	if (rc == LIBUSB_ERROR_NO_DEVICE)
		return err_set("USB %s: bulk %s %s: the device went away (board reset, cable "
			       "unplugged, or the file was rejected)", t->path, dir, what);
	if (rc == LIBUSB_ERROR_PIPE)
		return err_set("USB %s: bulk %s %s: the device stalled the endpoint (it refused "
			       "the transfer)", t->path, dir, what);
	if (rc == LIBUSB_ERROR_OVERFLOW)
		return err_set("USB %s: bulk %s %s: the device sent more than the %zu bytes "
			       "expected", t->path, dir, what, len);
	return err_set("USB %s: bulk %s %s: %s", t->path, dir, what, libusb_strerror(rc));
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
	int rc = libusb_bulk_transfer(p->h, p->ep_out, (unsigned char *)(uintptr_t)buf, (int)len,
				      &done, timeout_ms);
	if (rc != 0)
		return transfer_error(t, "OUT", what, rc, done, len, timeout_ms);
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
	int rc = libusb_bulk_transfer(p->h, p->ep_in, buf, (int)len, &done, timeout_ms);
	if (rc == LIBUSB_ERROR_TIMEOUT && done > 0)
		rc = 0;
	if (rc != 0)
		return transfer_error(t, "IN", what, rc, done, len, timeout_ms);
	*received = (size_t)done;
	return 0;
}

static int lu_send_zlp(struct usb_transport *t, unsigned timeout_ms, const char *what)
{
	struct libusb_priv *p = priv_of(t);
	unsigned char none = 0;
	int done = 0;
	int rc = libusb_bulk_transfer(p->h, p->ep_out, &none, 0, &done, timeout_ms);
	if (rc != 0)
		return transfer_error(t, "OUT (zero-length)", what, rc, done, 0, timeout_ms);
	return 0;
}

/* ---- finding devices ------------------------------------------------------------------ */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int lu_reopen(struct usb_transport *t, unsigned timeout_ms)
{
	struct libusb_priv *p = priv_of(t);
	char path[USB_PATH_MAX];
	snprintf(path, sizeof(path), "%s", t->path);
	release_device(p);
	uint64_t deadline = now_ms() + timeout_ms;
	int last = 0; /* 0: nothing at the port yet, -1: a device there failed to open */
	for (;;) {
		libusb_device **list = NULL;
		ssize_t n = libusb_get_device_list(p->ctx, &list);
		for (ssize_t i = 0; i < n; i++) {
			struct libusb_device_descriptor desc;
			char at[USB_PATH_MAX];
			usb_libusb_device_path(list[i], at);
			if (strcmp(at, path) != 0 || !match_id(list[i], p->ids, p->n_ids, &desc))
				continue;
			int lrc;
			last = open_device(t, list[i], &desc, &lrc);
			if (last == 0) {
				libusb_free_device_list(list, 1);
				return 0;
			}
		}
		if (n >= 0)
			libusb_free_device_list(list, 1);
		if (now_ms() >= deadline)
			break;
		struct timespec ts = { 0, REOPEN_POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
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
	release_device(p);
	if (p->ctx)
		libusb_exit(p->ctx);
	free(p);
	t->priv = NULL;
}

static const struct usb_transport_ops libusb_ops = {
	.bulk_out = lu_bulk_out,
	.bulk_in = lu_bulk_in,
	.send_zlp = lu_send_zlp,
	.reopen = lu_reopen,
	.close = lu_close,
};

static int init_context(libusb_context **ctx)
{
	int rc = libusb_init(ctx);
	if (rc != 0) {
		*ctx = NULL;
		return err_set("cannot enumerate USB devices: libusb_init: %s (on Linux libusb "
			       "needs /dev/bus/usb and /sys/bus/usb; in a container, pass them "
			       "through)", libusb_strerror(rc));
	}
	return 0;
}

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
		uint8_t bus, ports[PORTS_MAX];
		if (usb_parse_port_path(sel->port_path, &bus, ports, PORTS_MAX) < 0)
			return -1;
	}
	struct libusb_priv *p = calloc(1, sizeof(*p));
	if (!p)
		return err_set("out of memory");
	p->ids = ids;
	p->n_ids = n_ids;
	t->priv = p;
	t->ops = &libusb_ops;
	if (init_context(&p->ctx) != 0)
		goto fail;

	libusb_device **list = NULL;
	ssize_t n = libusb_get_device_list(p->ctx, &list);
	if (n < 0) {
		err_set("cannot enumerate USB devices: %s", libusb_strerror((int)n));
		goto fail;
	}
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
			libusb_device_handle *h = NULL;
			char serial[USB_SERIAL_MAX];
			int rc = libusb_open(list[i], &h);
			if (rc == LIBUSB_ERROR_ACCESS)
				serial_denied = 1;
			if (rc != 0)
				continue;
			rc = read_serial(h, &desc, serial);
			libusb_close(h);
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
		int lrc;
		int rc = open_device(t, chosen, &chosen_desc, &lrc);
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
	if (init_context(&ctx) != 0)
		return -1;
	libusb_device **list = NULL;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0) {
		libusb_exit(ctx);
		return err_set("cannot enumerate USB devices: %s", libusb_strerror((int)n));
	}
	int count = 0, denied = 0;
	uint16_t denied_vendor = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor desc;
		const struct usb_id *id = match_id(list[i], ids, n_ids, &desc);
		if (!id)
			continue;
		char path[USB_PATH_MAX], serial[USB_SERIAL_MAX] = "";
		const char *note = "";
		usb_libusb_device_path(list[i], path);
		libusb_device_handle *h = NULL;
		int rc = libusb_open(list[i], &h);
		if (rc == 0) {
			if (read_serial(h, &desc, serial) != 0)
				note = " (serial unreadable)";
			libusb_close(h);
		} else if (rc == LIBUSB_ERROR_ACCESS) {
			note = " (no permission to open it, see below)";
			denied = 1;
			denied_vendor = desc.idVendor;
		}
		fprintf(out, "%-12s %04x:%04x  %s%s%s%s\n", path, desc.idVendor, desc.idProduct,
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
