/* SPDX-License-Identifier: MIT */
/*
 * /init of the USB end-to-end test's initrd: the QEMU guest is both ends of a USB cable
 * (dummy_hcd puts a USB host controller and a gadget controller in one kernel). It mounts what
 * hostload needs, copies the package from the second virtio disk (/dev/vda, whole sectors) into
 * RAM as its header gives its size, starts the aarch64 hostload as the USB host side serving it
 * over `usb:`, then becomes the flasher (exec keeps PID 1), whose
 * flasher.conf says `link usb-gadget:`. The flasher reboots the board when it is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#include "error.h"
#include "pkg.h"

/* The package on /dev/vda, copied to /pkg.sfpkg; 0 or -1. */
static int copy_package(void)
{
	int in = open("/dev/vda", O_RDONLY), out = open("/pkg.sfpkg", O_WRONLY | O_CREAT, 0644);
	uint8_t prefix[PKG_PREFIX_SIZE];
	struct pkg_header h;
	if (in < 0 || out < 0 || read(in, prefix, sizeof(prefix)) != (ssize_t)sizeof(prefix) ||
	    pkg_header_decode(prefix, 0, &h) != 0) {
		printf("usb-launcher: no package on /dev/vda: %s\n", err_msg()[0] ? err_msg() : strerror(errno));
		return -1;
	}
	if (write(out, prefix, sizeof(prefix)) != (ssize_t)sizeof(prefix))
		return -1;
	static uint8_t buf[1 << 20];
	for (uint64_t left = h.package_size - sizeof(prefix); left;) {
		ssize_t n = read(in, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0 || write(out, buf, (size_t)n) != n) {
			printf("usb-launcher: copying the package: %s\n", strerror(errno));
			return -1;
		}
		left -= (uint64_t)n;
	}
	close(in);
	close(out);
	printf("usb-launcher: package of %" PRIu64 " bytes from /dev/vda\n", h.package_size);
	return 0;
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	if (copy_package() != 0) {
		fflush(stdout);
		reboot(RB_POWER_OFF);
	}
	pid_t host = fork();
	if (host == 0) {
		char *argv[] = { "/bin/hostload", "serve", "--link", "usb:", "--json", "--log",
				 "/hostload-board.log", "--timeout", "600", "/pkg.sfpkg", NULL };
		execv(argv[0], argv);
		printf("usb-launcher: cannot run hostload: %s\n", strerror(errno));
		_exit(127);
	}
	printf("usb-launcher: hostload started (pid %d), now the flasher\n", (int)host);
	fflush(stdout);
	char *argv[] = { "/bin/flasher", NULL };
	execv(argv[0], argv);
	printf("usb-launcher: cannot run the flasher: %s\n", strerror(errno));
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 1;
}
