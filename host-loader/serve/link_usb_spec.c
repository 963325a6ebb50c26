/* SPDX-License-Identifier: MIT */
/* The usb: link's spec: which devices it serves, by id, port path or serial number. */
#include "link_usb.h"

#include <string.h>

#include "error.h"

#define SPEC_FORMS "usb:[VID:PID][,port=BUS-PORT[.PORT...]][,serial=TEXT]"

/* 1..4 hex digits, the whole of [s, end); -1 otherwise. */
static int parse_hex16(const char *s, const char *end)
{
	unsigned v = 0;
	if (end <= s || end - s > 4)
		return -1;
	for (const char *p = s; p < end; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -1;
		v = v * 16 + d;
	}
	return (int)v;
}

int usb_link_parse(const char *spec, struct usb_link_spec *out)
{
	memset(out, 0, sizeof(*out));
	out->vendor = USB_LINK_DEFAULT_VENDOR;
	out->product = USB_LINK_DEFAULT_PRODUCT;
	if (strncmp(spec, "usb:", 4) != 0)
		return err_set("link '%s': expected %s", spec, SPEC_FORMS);
	int have_id = 0;
	const char *p = spec + 4;
	while (*p) {
		const char *end = strchr(p, ',');
		if (strncmp(p, "serial=", 7) == 0)
			end = p + strlen(p); /* the rest, commas and all */
		else if (!end)
			end = p + strlen(p);
		size_t len = (size_t)(end - p);
		if (len == 0)
			return err_set("link '%s': an empty part; expected %s", spec, SPEC_FORMS);
		if (strncmp(p, "serial=", 7) == 0) {
			if (out->serial[0])
				return err_set("link '%s': serial= given twice", spec);
			if (len == 7)
				return err_set("link '%s': serial= is empty; expected the board's USB "
					       "serial number, as `lsusb -v` shows it", spec);
			if (len - 7 >= sizeof(out->serial))
				return err_set("link '%s': serial is %zu characters, at most %zu fit", spec,
					       len - 7, sizeof(out->serial) - 1);
			memcpy(out->serial, p + 7, len - 7);
			out->serial[len - 7] = '\0';
		} else if (strncmp(p, "port=", 5) == 0) {
			char path[64];
			uint8_t bus, ports[USB_PORTS_MAX];
			if (out->port[0])
				return err_set("link '%s': port= given twice", spec);
			if (len - 5 >= sizeof(path))
				return err_set("link '%s': port path too long", spec);
			memcpy(path, p + 5, len - 5);
			path[len - 5] = '\0';
			int n = usb_parse_port_path(path, &bus, ports, USB_PORTS_MAX);
			if (n < 0)
				return err_prefix("link '%s'", spec);
			/* canonical, so "1-02" matches the device at 1-2 */
			usb_format_port_path(out->port, bus, ports, n);
		} else {
			const char *colon = memchr(p, ':', len);
			int vid = colon ? parse_hex16(p, colon) : -1;
			int pid = colon ? parse_hex16(colon + 1, end) : -1;
			if (vid < 0 || pid < 0)
				return err_set("link '%s': '%.*s' is not VID:PID (hex, e.g. 0955:7023), "
					       "port=BUS-PORT[.PORT...] or serial=TEXT; expected %s", spec,
					       (int)len, p, SPEC_FORMS);
			if (have_id)
				return err_set("link '%s': VID:PID given twice", spec);
			have_id = 1;
			out->vendor = (uint16_t)vid;
			out->product = (uint16_t)pid;
		}
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return err_set("link '%s': ends with a comma; expected %s", spec, SPEC_FORMS);
	}
	return 0;
}
