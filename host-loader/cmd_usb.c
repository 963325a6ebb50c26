/* SPDX-License-Identifier: MIT */
/*
 * The Jetson path: find a board in recovery mode, boot it through the Tegra bootrom and MB1
 * with the pre-signed files NVIDIA's tools made (rcm_tegra.c), then serve the package to the
 * selfflash flasher that boots, over its USB gadget (the usb: link). None of this has run on
 * hardware yet; README.md says exactly what was tried and how.
 */
#include "cmd_usb.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "rcm_tegra.h"
#include "report.h"
#include "serve.h"
#include "usb_transport.h"

int cmd_list(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: hostload list\n\nLists the Jetson boards in USB recovery mode "
		       "(vendor 0x0955): port path, ids, model, serial.\n");
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "hostload list: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	size_t n;
	const struct usb_id *ids = rcm_tegra_usb_ids(&n);
	int found = usb_libusb_list(stdout, ids, n);
	if (found < 0) {
		fprintf(stderr, "hostload: %s\n", err_msg());
		return 3;
	}
	return 0;
}

static void rcm_usb_usage(FILE *out)
{
	fprintf(out,
		"usage: hostload rcm --usb --bundle DIR [--port BUS-PORT.PORT | --serial S]\n"
		"                    [--link SPEC] [--json] [--log PATH] [--timeout S] PKG\n"
		"       hostload rcm --usb --bundle DIR --dry-run [--product 0xPID]\n"
		"\n"
		"Boots a Jetson in USB recovery mode with the files in DIR (NVIDIA's rcmboot_blob/\n"
		"as tegraflash leaves it: BR BCT, MB1, PSC BL1, MB1 BCT, memory BCT and the blob\n"
		"that holds the kernel and the selfflash initrd; see README.md), then serves PKG to\n"
		"the flasher that boots, over its USB gadget. Exit status as for 'hostload serve'.\n"
		"\n"
		"  --bundle DIR       the RCM files (the order comes from selfflash-rcm.txt, else\n"
		"                     rcmbootcmd.txt, else NVIDIA's default names)\n"
		"  --port P           the board at USB port path P (see 'hostload list')\n"
		"  --serial S         the board with USB serial number S\n"
		"  --link SPEC        where the booted flasher is served (default usb:)\n"
		"  --dry-run          print every USB transfer instead of making it\n"
		"  --product 0xPID    with --dry-run: the recovery-mode product id (default 0x7023)\n"
		"  --json, --log, --timeout   as for 'hostload serve' (timeout default 1800)\n");
}

int cmd_rcm_usb(int argc, char **argv)
{
	static const struct option options[] = {
		{ "usb", no_argument, NULL, 'u' },
		{ "bundle", required_argument, NULL, 'B' },
		{ "port", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 's' },
		{ "link", required_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "product", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bundle_dir = NULL, *link = "usb:", *log_path = NULL;
	struct usb_select sel = { NULL, NULL };
	int dry_run = 0, json = 0, opt;
	unsigned long product = 0x7023, timeout_s = 1800;
	char *end;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'u': break;
		case 'B': bundle_dir = optarg; break;
		case 'p': sel.port_path = optarg; break;
		case 's': sel.serial = optarg; break;
		case 'l': link = optarg; break;
		case 'n': dry_run = 1; break;
		case 'j': json = 1; break;
		case 'L': log_path = optarg; break;
		case 'P':
			errno = 0;
			product = strtoul(optarg, &end, 16);
			if (errno || *end || product > 0xffff) {
				fprintf(stderr, "hostload: --product '%s': expected a hex USB product id\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			errno = 0;
			timeout_s = strtoul(optarg, &end, 10);
			if (errno || *end || timeout_s == 0 || timeout_s > 864000) {
				fprintf(stderr, "hostload: --timeout '%s': expected 1..864000 seconds\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			rcm_usb_usage(stdout);
			return 0;
		default:
			rcm_usb_usage(stderr);
			return 2;
		}
	}
	if (!bundle_dir || optind != argc - (dry_run ? 0 : 1)) {
		rcm_usb_usage(stderr);
		return 2;
	}
	struct rcm_tegra_options ro;
	rcm_tegra_options_init(&ro);
	ro.log = stdout;
	struct usb_transport t;
	memset(&t, 0, sizeof(t));
	if (dry_run) {
		usb_dryrun_open(&t, stdout, RCM_TEGRA_VENDOR, (uint16_t)product);
	} else {
		size_t n;
		const struct usb_id *ids = rcm_tegra_usb_ids(&n);
		if (usb_libusb_open(&t, ids, n, &sel) != 0) {
			fprintf(stderr, "hostload: %s\n", err_msg());
			return 3;
		}
	}
	const struct usb_id *id = rcm_tegra_identify(t.vendor, t.product);
	static struct rcm_tegra_bundle bundle;
	int rc = id ? rcm_tegra_load_bundle(&bundle, bundle_dir, (enum rcm_tegra_chip)id->kind) : -1;
	if (rc == 0) {
		uint8_t uid[RCM_TEGRA_UID_LEN];
		printf("hostload: %s (%04x:%04x) at %s; bundle %s\n", id->name, t.vendor, t.product,
		       t.path, bundle_dir);
		rcm_tegra_print_bundle(stdout, &bundle);
		rc = rcm_tegra_boot(&t, &bundle, &ro, uid);
	}
	usb_transport_close(&t);
	if (rc != 0) {
		fprintf(stderr, "hostload: %s\n", err_msg());
		return 3;
	}
	if (dry_run)
		return 0;
	printf("hostload: the board is booting; serving %s on %s\n", argv[optind], link);
	static struct report rep;
	report_init(&rep, json ? REPORT_JSON : REPORT_BAR, stdout, log_path);
	struct serve_opts o = { .package = argv[optind], .links = { link }, .nlinks = 1,
				.boards = 1, .idle_timeout_s = 60, .wait_timeout_s = (unsigned)timeout_s,
				.report = &rep };
	rc = serve_run(&o);
	report_close(&rep);
	if (rc >= 2)
		fprintf(stderr, "hostload: %s\n", err_msg());
	return rc;
}
