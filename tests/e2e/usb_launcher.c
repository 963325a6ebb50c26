/* SPDX-License-Identifier: MIT */
/*
 * /init of the USB end-to-end test's initrd: the QEMU guest is both ends of a USB cable
 * (dummy_hcd puts a USB host controller and a gadget controller in one kernel). It mounts what
 * hostload needs, copies the package from the second virtio disk (/dev/vda, whole sectors) into
 * RAM as its header gives its size, starts the aarch64 hostload as the USB host side serving it
 * over `usb:`, then becomes the flasher (exec keeps PID 1), whose
 * flasher.conf says `link usb-gadget:`. The flasher reboots the board when it is done.
 *
 * With selfflash.test-stop-host=SECONDS on the kernel command line, a helper stops hostload
 * (SIGSTOP, as Ctrl-Z in its terminal would) once the flasher is writing images and lets it go
 * on SECONDS later. The host keeps the interface claimed: the board's frames fill the few IN
 * transfers hostload had queued, then nobody reads. (A killed hostload is another case: its
 * interface is released and the board's next write fails at once.)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The value of selfflash.test-stop-host= on the kernel command line, or 0. */
static unsigned stop_seconds(void)
{
	char line[1024] = "";
	FILE *f = fopen("/proc/cmdline", "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	const char *p = strstr(line, "selfflash.test-stop-host=");
	return p ? (unsigned)strtoul(p + strlen("selfflash.test-stop-host="), NULL, 10) : 0;
}

static int file_has(const char *path, const char *text)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* In a child: waits until the board log (saved by hostload) says the images are being written,
 * stops hostload for `seconds`, then lets it go on. */
static void stop_host_later(pid_t host, unsigned seconds)
{
	if (fork() != 0)
		return;
	for (int i = 0; i < 6000 && !file_has("/hostload-board.log", "GPT with"); i++)
		usleep(100000);
	kill(host, SIGSTOP);
	printf("usb-launcher: hostload stopped for %u s, the cable still in\n", seconds);
	fflush(stdout);
	sleep(seconds);
	kill(host, SIGCONT);
	printf("usb-launcher: hostload goes on\n");
	fflush(stdout);
	_exit(0);
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
	unsigned stop = stop_seconds();
	if (stop)
		stop_host_later(host, stop);
	printf("usb-launcher: hostload started (pid %d), now the flasher\n", (int)host);
	fflush(stdout);
	char *argv[] = { "/bin/flasher", NULL };
	execv(argv[0], argv);
	printf("usb-launcher: cannot run the flasher: %s\n", strerror(errno));
	fflush(stdout);
	reboot(RB_POWER_OFF);
	return 1;
}
