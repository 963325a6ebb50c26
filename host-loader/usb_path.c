/* SPDX-License-Identifier: MIT */
/* USB bus-port paths ("1-2.3"), the way Linux names a physical port in sysfs. */
#include "usb_transport.h"

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
