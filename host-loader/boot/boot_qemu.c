/* SPDX-License-Identifier: MIT */
/* Starting, watching and stopping the QEMU board. */
#include "boot_qemu.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "link_msg.h"

#define QSPI_SIZE (64ull << 20)
#define MAX_ARGS 48

static int check_file(const char *what, const char *path, unsigned long long size)
{
	struct stat st;
	if (!path)
		return err_set("no %s given", what);
	if (stat(path, &st) != 0)
		return err_set("%s %s: %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set("%s %s is not a regular file", what, path);
	if (size && (unsigned long long)st.st_size != size)
		return err_set("%s %s is %lld bytes; QEMU's flash bank needs exactly %llu", what, path,
			       (long long)st.st_size, size);
	return 0;
}

int qemu_board_start(const struct qemu_board *b, pid_t *pid)
{
	if (check_file("kernel", b->kernel, 0) != 0 || check_file("initrd", b->initrd, 0) != 0 ||
	    check_file("QSPI image", b->qspi, QSPI_SIZE) != 0 ||
	    check_file("disk image", b->disk, 0) != 0 ||
	    (b->eeprom && check_file("EEPROM image", b->eeprom, 0) != 0))
		return -1;
	if (b->chip_sku && (strlen(b->chip_sku) > 8 || strpbrk(b->chip_sku, ",=")))
		return err_set("chip SKU '%s' is not a SKU (such as D0)", b->chip_sku);
	/* every string QEMU gets must outlive the fork: built here, used in the child */
	static char append[1024], qspi[4200], disk[4200], chardev[4200], eeprom[4200], sku[64];
	snprintf(append, sizeof(append), "console=ttyAMA0 panic=-1 quiet%s%s",
		 b->append ? " " : "", b->append ? b->append : "");
	snprintf(qspi, sizeof(qspi), "if=pflash,unit=1,format=raw,file=%s", b->qspi);
	snprintf(disk, sizeof(disk), "if=none,id=nvme0,format=raw,file=%s", b->disk);
	const char *argv[MAX_ARGS];
	int n = 0;
	argv[n++] = b->qemu ? b->qemu : "qemu-system-aarch64";
	const char *fixed[] = { "-M", "virt", "-cpu", "cortex-a57", "-m", "1024", "-smp", "2",
				"-nographic", "-no-reboot", "-nic", "none" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	argv[n++] = "-kernel";
	argv[n++] = b->kernel;
	argv[n++] = "-initrd";
	argv[n++] = b->initrd;
	argv[n++] = "-append";
	argv[n++] = append;
	argv[n++] = "-drive";
	argv[n++] = qspi;
	argv[n++] = "-drive";
	argv[n++] = disk;
	argv[n++] = "-device";
	argv[n++] = "nvme,serial=selfflash0,drive=nvme0";
	if (b->link_socket) {
		/* QEMU is the client and reconnects, like a USB cable plugged in again */
		snprintf(chardev, sizeof(chardev), "socket,id=link,path=%s,reconnect=1",
			 b->link_socket);
		argv[n++] = "-device";
		argv[n++] = "virtio-serial-device";
		argv[n++] = "-chardev";
		argv[n++] = chardev;
		argv[n++] = "-device";
		argv[n++] = "virtserialport,chardev=link,name=selfflash.link";
	}
	if (b->eeprom) {
		snprintf(eeprom, sizeof(eeprom), "name=opt/selfflash/eeprom,file=%s", b->eeprom);
		argv[n++] = "-fw_cfg";
		argv[n++] = eeprom;
	}
	if (b->chip_sku) {
		snprintf(sku, sizeof(sku), "name=opt/selfflash/chip_sku,string=%s", b->chip_sku);
		argv[n++] = "-fw_cfg";
		argv[n++] = sku;
	}
	argv[n] = NULL;
	int console = -1;
	if (b->console) {
		console = open(b->console, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (console < 0)
			return err_set("board console %s: %s", b->console, strerror(errno));
	}
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		if (console >= 0)
			close(console);
		return err_set("fork: %s", strerror(errno));
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		if (console >= 0) {
			dup2(console, 1);
			dup2(console, 2);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "hostload: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (console >= 0)
		close(console);
	*pid = child;
	return 0;
}

int qemu_board_wait(pid_t pid, unsigned timeout_ms, int *status)
{
	struct timespec step = { 0, 50 * 1000000L };
	for (unsigned waited = 0;; waited += 50) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r < 0 && errno != EINTR)
			return err_set("waitpid: %s", strerror(errno));
		if (r == pid) {
			*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			return 1;
		}
		if (waited >= timeout_ms)
			return 0;
		nanosleep(&step, NULL);
	}
}

void qemu_board_kill(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	if (qemu_board_wait(pid, 3000, &status) == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
}

int qemu_board_console_failure(const struct qemu_board *b, char *line, size_t size)
{
	static const char marker[] = "flasher: FAILED: ";
	FILE *f = b->console ? fopen(b->console, "rb") : NULL;
	if (!f)
		return 0;
	/* the board's output is outside input: a bounded line, printed through the filter */
	char text[1024];
	int found = 0;
	while (fgets(text, sizeof(text), f)) {
		if (strncmp(text, marker, sizeof(marker) - 1) != 0)
			continue;
		const char *why = text + sizeof(marker) - 1;
		size_t len = strcspn(why, "\r\n");
		link_msg_printable((const uint8_t *)why, len, line, size);
		found = 1;
	}
	fclose(f);
	return found;
}
