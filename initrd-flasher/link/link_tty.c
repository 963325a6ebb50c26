/* SPDX-License-Identifier: MIT */
/* The link over a character device: virtio:NAME (QEMU's virtio-serial), dev:PATH, tty:PATH. */
#include "link_transport.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "link_io.h"

/*
 * /dev/vportNpM of the virtio-serial port called `name`: 0; -1 while there is none (QEMU
 * names a port a moment after the driver finds it); 1 when the driver itself is missing, which
 * waiting does not mend (its class exists from the moment it is built in or loaded).
 */
static int tty_find_virtio_port(const char *name, char *path, size_t size)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	if (!d && errno == ENOENT) {
		err_set("no virtio-serial driver (/sys/class/virtio-ports is missing): virtio_console "
			"is neither built into the kernel nor loaded by a module line of the config");
		return 1;
	}
	if (!d)
		return err_set("no virtio ports (/sys/class/virtio-ports: %s)", strerror(errno));
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char file[300], text[128] = "";
		snprintf(file, sizeof(file), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(file, "r");
		if (!f)
			continue;
		if (fgets(text, sizeof(text), f))
			text[strcspn(text, "\n")] = '\0';
		fclose(f);
		if (strcmp(text, name) == 0) {
			snprintf(path, size, "/dev/%s", e->d_name);
			found = 1;
		}
	}
	closedir(d);
	return found ? 0 : err_set("no virtio port named %s", name);
}

/*
 * A device stays open across drops (closing a virtio port or ttyGS loses nothing, reopening
 * gains nothing): once open, this only checks that the host side is there, POLLHUP saying it
 * is not.
 */
static int tty_check_host(struct link_transport *t)
{
	struct pollfd p = { .fd = t->rfd, .events = POLLIN };
	if (poll(&p, 1, 0) >= 0 && (p.revents & POLLHUP))
		return err_set("%s: no host connected", t->arg);
	return 0;
}

static int tty_open_path(struct link_transport *t, const char *path)
{
	int fd = link_open_device(path);
	if (fd < 0)
		return -1;
	t->rfd = t->wfd = fd;
	return 0;
}

static int tty_open_virtio(struct link_transport *t)
{
	if (t->rfd >= 0)
		return tty_check_host(t);
	char path[300];
	int found = tty_find_virtio_port(t->arg, path, sizeof(path));
	if (found != 0)
		return found;
	return tty_open_path(t, path);
}

static int tty_open_device(struct link_transport *t)
{
	if (t->rfd >= 0)
		return tty_check_host(t);
	/* the gadget's CDC-ACM port (the USB fallback) exists once the gadget does */
	if (strncmp(t->arg, "/dev/ttyGS", 10) == 0 && access(t->arg, F_OK) != 0 &&
	    link_ffs_setup_gadget(t, "") != 0)
		return -1;
	return tty_open_path(t, t->arg);
}

static int tty_write(struct link_transport *t, const void *p, size_t n)
{
	return link_write_all(t->wfd, 0, p, n);
}

const struct link_transport_ops link_virtio_ops = {
	.open = tty_open_virtio,
	.read = link_transport_read_fd,
	.write = tty_write,
	.close = link_transport_close_fd,
	.retry_ms = 50,
};

const struct link_transport_ops link_tty_ops = {
	.open = tty_open_device,
	.read = link_transport_read_fd,
	.write = tty_write,
	/* dev:/dev/ttyGS* may have made the gadget: it is unbound and removed like usb-gadget:'s */
	.interrupt = link_ffs_unbind_gadget,
	.close = link_transport_close_fd,
	.release = link_ffs_remove_gadget,
	.retry_ms = 50,
};
