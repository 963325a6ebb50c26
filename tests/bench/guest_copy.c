/* SPDX-License-Identifier: MIT */
/*
 * The QEMU baseline for `make bench`, run as /init of its own initrd on the QEMU board: copies
 * the number of bytes given as selfflash.copy=N on the kernel command line from the link port
 * (the virtio-serial port named selfflash.link) to the NVMe disk, flushes, prints
 * "guest-copy: N bytes in S s" and powers off. The same path the flasher's data takes, with
 * no framing, no hashing, no read-back: what the flash is measured against.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long long wanted_bytes(void)
{
	char line[4096] = "";
	FILE *f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	const char *p = strstr(line, "selfflash.copy=");
	return p ? strtoull(p + 15, NULL, 10) : 0;
}

static int open_port(void)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *e;
	int fd = -1;
	while (d && fd < 0 && (e = readdir(d))) {
		char path[300], name[64] = "";
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) && strncmp(name, "selfflash.link", 14) == 0) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, O_RDWR);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return fd;
}

static int run(void)
{
	unsigned long long want = wanted_bytes();
	int in = open_port(), out = open("/dev/nvme0n1", O_WRONLY);
	if (!want || in < 0 || out < 0) {
		printf("guest-copy: need selfflash.copy=N, the selfflash.link port and /dev/nvme0n1\n");
		return 1;
	}
	static char buf[256 << 10];
	unsigned long long done = 0;
	double start = 0;
	while (done < want) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) { /* the host is not connected yet */
			usleep(10000);
			continue;
		}
		if (n < 0) {
			printf("guest-copy: read: %s\n", strerror(errno));
			return 1;
		}
		if (start == 0)
			start = now();
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));
			if (k <= 0) {
				printf("guest-copy: write: %s\n", strerror(errno));
				return 1;
			}
			w += k;
		}
		done += (unsigned long long)n;
	}
	fsync(out);
	printf("guest-copy: %llu bytes in %.3f s\n", done, now() - start);
	return 0;
}

int main(void)
{
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	run();
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
