/* SPDX-License-Identifier: MIT */
/* USB bus-port paths ("1-2.3"), the way Linux names a physical port in sysfs. */
#include "usb_transport.h"

#include <stdio.h>

#include "error.h"

/* Reads a decimal 1..255 at *p and advances past it; -1 if there is none. */
static int read_number(const char **p)
{
	unsigned v = 0;
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > 255)
			return -1;
		s++;
	}
	*p = s;
	return v == 0 ? -1 : (int)v;
}

int usb_parse_port_path(const char *path, uint8_t *bus, uint8_t *ports, int ports_max)
{
	const char *p = path;
	int b = read_number(&p);
	int n = 0;
	if (b < 0 || *p != '-')
		goto bad;
	p++;
	for (;;) {
		int port = read_number(&p);
		if (port < 0 || n >= ports_max)
			goto bad;
		ports[n++] = (uint8_t)port;
		if (*p == '\0')
			break;
		if (*p != '.')
			goto bad;
		p++;
	}
	*bus = (uint8_t)b;
	return n;
bad:
	return err_set("USB port path \"%s\": expected BUS-PORT[.PORT...] with numbers 1..255 "
		       "and at most %d ports, as `hostload list` prints it (e.g. 1-2.3)",
		       path, ports_max);
}

void usb_format_port_path(char *out, uint8_t bus, const uint8_t *ports, int n)
{
	size_t used = (size_t)snprintf(out, USB_PATH_MAX, "%u-", bus);
	if (n <= 0)
		snprintf(out + used, USB_PATH_MAX - used, "0");
	/* "255-255" and six ".255" take 31 bytes, so it always fits; the checks guard the sums */
	for (int i = 0; i < n && used < USB_PATH_MAX; i++) {
		int w = snprintf(out + used, USB_PATH_MAX - used, i ? ".%u" : "%u", ports[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}
