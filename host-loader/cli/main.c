/* SPDX-License-Identifier: MIT */
/* hostload: boot a board into the selfflash initrd and serve it the package; no flashing here. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "error.h"
#include "frame.h"
#include "report/report.h"
#include "boot/boot_qemu.h"
#include "cmd.h"
#include "cmd_usb.h"
#include "serve/serve.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: hostload COMMAND [OPTIONS]\n"
		"\n"
		"Serves a selfflash package to boards running the selfflash flasher. The board asks\n"
		"for what it needs; this host only answers, shows progress and saves the board's log.\n"
		"\n"
		"commands:\n"
		"  list                  the Jetson boards in USB recovery mode\n"
		"  rcm --usb --bundle DIR [OPTIONS] PKG\n"
		"                        boot a Jetson through Tegra RCM, then serve it PKG over USB\n"
		"  rcm --qemu [OPTIONS] PKG\n"
		"                        boot the QEMU board into the selfflash initrd, then serve it\n"
		"                        PKG; --boot-only boots a kernel and initrd without serving\n"
		"  serve [OPTIONS] PKG   serve PKG to boards that are already running the flasher\n"
		"  version               print the version\n"
		"\n"
		"Run 'hostload COMMAND --help' for the options of a command.\n");
}

static void serve_usage(FILE *out)
{
	fprintf(out,
		"usage: hostload serve [--link SPEC]... [--boards N] [--json] [--log PATH] PKG\n"
		"\n"
		"Serves byte ranges of PKG to each board that connects, shows its progress and saves\n"
		"its log. Exits when N boards reported a result: 0 when all succeeded, 1 when one\n"
		"failed, 3 when none reported in time or the link could not be set up, 2 for usage.\n"
		"\n"
		"  --link SPEC        where boards connect; repeat for several (default unix:selfflash.sock)\n"
		"                       unix:PATH        listen on a unix socket (QEMU: chardev socket\n"
		"                                        with reconnect=1 connects here)\n"
		"                       tcp:[HOST:]PORT  listen on TCP\n"
		"                       tty:DEVICE       a serial line, e.g. /dev/ttyACM0 (CDC-ACM)\n"
		"                       usb:[VID:PID][,port=BUS-PORT[.PORT...]][,serial=TEXT]\n"
		"                                        boards whose flasher shows up on USB as a\n"
		"                                        selfflash gadget (default id 1d6b:0104, an\n"
		"                                        interface of class ff with one bulk IN and\n"
		"                                        one bulk OUT endpoint); each one found is\n"
		"                                        served, again when it comes back; choose by\n"
		"                                        id, by port path (as in /sys/bus/usb/devices)\n"
		"                                        or by serial number (the rest of the spec).\n"
		"                                        Needs permission to open the device: a udev\n"
		"                                        rule, or root\n"
		"  --boards N         results to wait for (default 1; 0 = serve until interrupted)\n"
		"  --json             one JSON event per line on stdout instead of a progress bar\n"
		"  --log PATH         the board's log file, or a directory for one file per board\n"
		"                     (default: selfflash-BOARD-SESSION.log in the current directory)\n"
		"  --idle-timeout S   drop a board silent for S seconds; it may reconnect (default 60)\n"
		"  --timeout S        give up when no result came within S seconds (default: never)\n"
		"  --max-frame BYTES  largest data frame offered (4096..1048576, default 262144)\n");
}

static int parse_uint(const char *text, const char *what, uint64_t max, uint64_t *out)
{
	if (cmd_parse_number(text, 10, 0, max, out) != 0) {
		fprintf(stderr, "hostload: %s '%s': expected a number up to %" PRIu64 "\n", what,
			text, max);
		return -1;
	}
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option options[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "boards", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-frame", required_argument, NULL, 'm' },
		{ "test-cut-after", required_argument, NULL, 'C' },
		{ "test-cuts", required_argument, NULL, 'K' },
		{ "test-cut-seed", required_argument, NULL, 'S' },
		{ "test-exit-after", required_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .boards = 1, .idle_timeout_s = 60 };
	const char *log_path = NULL;
	int json = 0, opt;
	uint64_t v;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (o.nlinks == SERVE_MAX_LINKS) {
				fprintf(stderr, "hostload: at most %d links\n", SERVE_MAX_LINKS);
				return 2;
			}
			o.links[o.nlinks++] = optarg;
			break;
		case 'b':
			if (parse_uint(optarg, "--boards", REPORT_MAX_BOARDS, &v) != 0)
				return 2;
			o.boards = (unsigned)v;
			break;
		case 'j': json = 1; break;
		case 'L': log_path = optarg; break;
		case 'i':
			if (parse_uint(optarg, "--idle-timeout", 86400, &v) != 0)
				return 2;
			o.idle_timeout_s = (unsigned)v;
			break;
		case 't':
			if (parse_uint(optarg, "--timeout", 864000, &v) != 0)
				return 2;
			o.wait_timeout_s = (unsigned)v;
			break;
		case 'm':
			if (parse_uint(optarg, "--max-frame", 1u << 20, &v) != 0)
				return 2;
			o.max_payload = (uint32_t)v;
			break;
		case 'C':
			if (parse_uint(optarg, "--test-cut-after", UINT64_MAX, &v) != 0)
				return 2;
			o.cut_after = v;
			break;
		case 'K':
			if (parse_uint(optarg, "--test-cuts", 1000000, &v) != 0)
				return 2;
			o.cuts = (unsigned)v;
			break;
		case 'S':
			if (parse_uint(optarg, "--test-cut-seed", UINT32_MAX, &v) != 0)
				return 2;
			o.cut_seed = (unsigned)v;
			break;
		case 'X':
			if (parse_uint(optarg, "--test-exit-after", UINT64_MAX, &v) != 0)
				return 2;
			o.exit_after = v;
			break;
		case 'h':
			serve_usage(stdout);
			return 0;
		default:
			serve_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		serve_usage(stderr);
		return 2;
	}
	o.package = argv[optind];
	if (o.nlinks == 0)
		o.links[o.nlinks++] = "unix:selfflash.sock";
	return cmd_serve_package(&o, json, log_path);
}

static void rcm_usage(FILE *out)
{
	fprintf(out,
		"usage: hostload rcm --qemu --kernel IMAGE --initrd INITRD --qspi FILE --disk FILE\n"
		"                    [--eeprom FILE] [--chip-sku SKU] [--append TEXT]\n"
		"                    [--console FILE] [--json] [--log PATH] [--timeout S] PKG\n"
		"       hostload rcm --qemu --boot-only --kernel IMAGE --initrd INITRD --qspi FILE\n"
		"                    --disk FILE [...]\n"
		"\n"
		"Boots the board in recovery mode with the selfflash initrd, serves it PKG over the\n"
		"link and shows its progress; the board flashes, checks and reboots. The exit status\n"
		"is the board's result: 0 success, 1 the board failed, 3 no result, 2 usage.\n"
		"\n"
		"  --qemu             the QEMU board (a Jetson over USB: 'hostload rcm --usb --help')\n"
		"  --kernel IMAGE     the kernel RCM boots\n"
		"  --initrd INITRD    the selfflash initrd (or, with --boot-only, any initrd)\n"
		"  --qspi FILE        the board's QSPI image (64 MiB) on pflash unit 1\n"
		"  --disk FILE        the board's NVMe disk image\n"
		"  --eeprom FILE      module EEPROM image (fw_cfg opt/selfflash/eeprom)\n"
		"  --chip-sku SKU     chip SKU such as D0 (fw_cfg opt/selfflash/chip_sku)\n"
		"  --append TEXT      extra kernel command line\n"
		"  --console FILE     the board's console output (default: selfflash-console.log;\n"
		"                     with --boot-only: this terminal)\n"
		"  --boot-only        boot and wait for the board to power off; serve nothing\n"
		"  --json, --log      as for 'hostload serve'\n"
		"  --timeout S        give up after S seconds (default 1800)\n"
		"  --qemu-binary P    the QEMU to run (default qemu-system-aarch64)\n");
}

static int cmd_rcm(int argc, char **argv)
{
	static const struct option options[] = {
		{ "qemu", no_argument, NULL, 'q' },
		{ "usb", no_argument, NULL, 'u' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "qspi", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "eeprom", required_argument, NULL, 'e' },
		{ "chip-sku", required_argument, NULL, 'c' },
		{ "append", required_argument, NULL, 'a' },
		{ "console", required_argument, NULL, 'C' },
		{ "boot-only", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "qemu-binary", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct qemu_board b = { .console = "selfflash-console.log" };
	const char *log_path = NULL;
	int qemu = 0, boot_only = 0, json = 0, console_given = 0, opt;
	unsigned timeout_s = 1800;
	uint64_t v;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--usb") == 0)
			return cmd_rcm_usb(argc, argv); /* a Jetson: its own options */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'q': qemu = 1; break;
		case 'u': /* handled below, before parsing */
			break;
		case 'k': b.kernel = optarg; break;
		case 'i': b.initrd = optarg; break;
		case 's': b.qspi = optarg; break;
		case 'd': b.disk = optarg; break;
		case 'e': b.eeprom = optarg; break;
		case 'c': b.chip_sku = optarg; break;
		case 'a': b.append = optarg; break;
		case 'C': b.console = optarg; console_given = 1; break;
		case 'b': boot_only = 1; break;
		case 'j': json = 1; break;
		case 'L': log_path = optarg; break;
		case 'Q': b.qemu = optarg; break;
		case 't':
			if (parse_uint(optarg, "--timeout", 864000, &v) != 0 || v == 0)
				return 2;
			timeout_s = (unsigned)v;
			break;
		case 'h':
			rcm_usage(stdout);
			return 0;
		default:
			rcm_usage(stderr);
			return 2;
		}
	}
	if (!qemu || optind != argc - (boot_only ? 0 : 1)) {
		rcm_usage(stderr);
		return 2;
	}
	if (boot_only) {
		if (!console_given)
			b.console = NULL;
		pid_t pid;
		if (qemu_board_start(&b, &pid) != 0) {
			fprintf(stderr, "hostload: %s\n", err_msg());
			return 3;
		}
		int status = 0, r = qemu_board_wait(pid, timeout_s * 1000u, &status);
		if (r != 1) {
			qemu_board_kill(pid);
			fprintf(stderr, "hostload: the board did not power off within %u s\n", timeout_s);
			return 3;
		}
		return status == 0 ? 0 : 3;
	}
	/* the link: a socket in a private directory, which QEMU's chardev connects to */
	char dir[] = "/tmp/hostload.XXXXXX", sock[64];
	if (!mkdtemp(dir)) {
		perror("hostload: mkdtemp");
		return 3;
	}
	snprintf(sock, sizeof(sock), "unix:%s/link.sock", dir);
	static struct report rep;
	report_init(&rep, json ? REPORT_JSON : REPORT_BAR, stdout, log_path);
	struct serve_opts o = { .package = argv[optind], .links = { sock }, .nlinks = 1,
				.boards = 1, .idle_timeout_s = 60, .report = &rep };
	int rc = 3;
	pid_t pid = -1;
	if (serve_start(&o) != 0) {
		fprintf(stderr, "hostload: %s\n", err_msg());
		goto out;
	}
	b.link_socket = sock + 5;
	if (qemu_board_start(&b, &pid) != 0) {
		report_note(&rep, NULL, "%s", err_msg());
		serve_stop();
		goto out;
	}
	report_note(&rep, NULL, "board started (QEMU, RCM mode); its console goes to %s", b.console);
	int status = 0, exited = 0, got = 0;
	for (unsigned waited = 0; waited < timeout_s && !got && !exited; waited++) {
		got = serve_wait(1) == 0;
		if (!got)
			exited = qemu_board_wait(pid, 0, &status) == 1;
	}
	if (got) {
		/* the board reboots after its result; QEMU (-no-reboot) exits then */
		exited = qemu_board_wait(pid, 120000, &status) == 1;
		if (!exited)
			report_note(&rep, NULL, "the board did not restart after its result: stopped");
	} else if (exited) {
		char why[512];
		if (qemu_board_console_failure(&b, why, sizeof(why)))
			report_note(&rep, NULL, "the board stopped before the link was up: %s (console "
						"in %s)", why, b.console);
		else
			report_note(&rep, NULL, "the board stopped (QEMU exit status %d) before it "
						"reported a result; see %s", status, b.console);
	} else {
		report_note(&rep, NULL, "no result within %u s; see %s", timeout_s, b.console);
	}
	if (!exited)
		qemu_board_kill(pid);
	rc = serve_stop();
	if (!got)
		rc = 3;
out:
	report_close(&rep);
	char path[96];
	snprintf(path, sizeof(path), "%s/link.sock", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "rcm") == 0)
		return cmd_rcm(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("hostload %s (link protocol %d..%d)\n", SELFFLASH_VERSION, LINK_VERSION_MIN,
		       LINK_VERSION_MAX);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "hostload: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
