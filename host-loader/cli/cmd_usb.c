/* SPDX-License-Identifier: MIT */
/*
 * The Jetson path: find a board in recovery mode, boot it through the Tegra bootrom and MB1
 * with the pre-signed files NVIDIA's tools made (rcm_tegra.c), then serve the package to the
 * selfflash flasher that boots, over its USB gadget (the usb: link). None of this has run on
 * hardware yet; README.md says exactly what was tried and how.
 */
#include "cmd_usb.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootimg.h"
#include "cmd.h"
#include "error.h"
#include "io.h"
#include "rcm_blob.h"
#include "boot/rcm_tegra.h"
#include "serve/serve.h"
#include "usb/usb_transport.h"

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
		"                    [--kernel IMAGE --initrd INITRD [--cmdline TEXT]]\n"
		"                    [--link SPEC] [--json] [--log PATH] [--timeout S] PKG\n"
		"       hostload rcm --usb --bundle DIR [--kernel ...] --boot-only\n"
		"       hostload rcm --usb --bundle DIR [--kernel ...] --dry-run [--product 0xPID]\n"
		"\n"
		"Boots a Jetson in USB recovery mode with the files in DIR (NVIDIA's rcmboot_blob/\n"
		"as tegraflash leaves it: BR BCT, MB1, PSC BL1, MB1 BCT, memory BCT and the blob\n"
		"that holds the kernel and the selfflash initrd; see README.md), then serves PKG to\n"
		"the flasher that boots, over its USB gadget. Exit status as for 'hostload serve'.\n"
		"\n"
		"  --bundle DIR       the RCM files (the order comes from selfflash-rcm.txt, else\n"
		"                     rcmbootcmd.txt, else NVIDIA's default names)\n"
		"  --kernel IMAGE, --initrd INITRD, --cmdline TEXT\n"
		"                     boot this kernel and initrd instead of the bundle's: they go\n"
		"                     into an Android boot image that replaces the blob's kernel\n"
		"                     entry (type 45, unsigned; T234 only; DESIGN.md section 6)\n"
		"  --boot-only        boot the board and stop (no PKG is served)\n"
		"  --port P           the board at USB port path P (see 'hostload list')\n"
		"  --serial S         the board with USB serial number S\n"
		"  --link SPEC        where the booted flasher is served (default usb:)\n"
		"  --dry-run          print every USB transfer instead of making it\n"
		"  --product 0xPID    with --dry-run: the recovery-mode product id (default 0x7023)\n"
		"  --json, --log, --timeout   as for 'hostload serve' (timeout default 1800)\n");
}

/* Reads a whole file of at most max bytes into a new buffer the caller frees; NULL with
 * err_msg() naming the file. Sized by fstat first: blobs and kernels are large. */
static uint8_t *read_whole(const char *path, uint64_t max, uint64_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		err_set("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	uint64_t size = (uint64_t)st.st_size;
	uint8_t *buf = NULL;
	if (!S_ISREG(st.st_mode))
		err_set("%s: not a regular file", path);
	else if (size > max)
		err_set("%s: %llu bytes, expected at most %llu", path, (unsigned long long)size,
			(unsigned long long)max);
	else if ((buf = malloc(size ? (size_t)size : 1)) == NULL)
		err_set("%s: out of memory for %llu bytes", path, (unsigned long long)size);
	else if (io_pread_all(fd, buf, (size_t)size, 0) != 0) {
		err_set("%s: %s", path, io_error());
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = size;
	return buf;
}

/*
 * The payload swap (DESIGN.md §6): kernel + initrd into an Android boot image v0 that takes
 * the place of the bundle blob's entry 45; the new blob goes to *blob_out (the caller frees
 * it) and is what the boot sends. Prints the new blob's table to out. 0 or -1 with err_msg().
 */
static int rcm_usb_swap_kernel(struct rcm_tegra_bundle *b, const char *kernel_path,
			       const char *initrd_path, const char *cmdline, FILE *out,
			       uint8_t **blob_out)
{
	const char *blob_name = NULL;
	for (unsigned i = 0; i < b->count; i++)
		if (strcmp(b->files[i].kind, "blob") == 0)
			blob_name = b->files[i].name;
	if (b->chip != RCM_TEGRA_T234 || !blob_name)
		return err_set("--kernel/--initrd: the kernel swap is known for T234 blobs only "
			       "(this bundle is for %s)", rcm_tegra_chip_name(b->chip));
	char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
	snprintf(path, sizeof(path), "%s/%s", b->dir, blob_name);
	uint64_t blob_len = 0, kernel_len = 0, initrd_len = 0, image_len = 0, new_len = 0;
	uint8_t *blob = NULL, *kernel = NULL, *initrd = NULL, *image = NULL, *swapped = NULL;
	struct rcm_blob parsed;
	int rc = -1;
	err_clear();
	blob = read_whole(path, RCM_TEGRA_BLOB_MAX, &blob_len);
	if (blob && rcm_blob_parse(&parsed, blob, blob_len) != 0)
		err_prefix("%s", path);
	else if (blob && rcm_blob_check_kernel(&parsed) != 0)
		err_prefix("%s", path);
	else if (blob && (kernel = read_whole(kernel_path, BOOTIMG_SIZE_MAX, &kernel_len)) &&
		 (initrd = read_whole(initrd_path, BOOTIMG_SIZE_MAX, &initrd_len)) &&
		 bootimg_size(kernel_len, initrd_len, BOOTIMG_PAGE_DEFAULT, &image_len) == 0 &&
		 (image = malloc((size_t)image_len)) != NULL &&
		 bootimg_build(image, image_len, kernel, kernel_len, initrd, initrd_len, cmdline,
			       BOOTIMG_PAGE_DEFAULT) == 0 &&
		 rcm_blob_swapped_size(&parsed, RCM_BLOB_TYPE_KERNEL, image_len, &new_len) == 0 &&
		 (swapped = malloc((size_t)new_len)) != NULL &&
		 rcm_blob_replace(&parsed, RCM_BLOB_TYPE_KERNEL, image, image_len, swapped, new_len,
				  &new_len) == 0 &&
		 rcm_blob_parse(&parsed, swapped, new_len) == 0 &&
		 rcm_tegra_bundle_set_blob(b, swapped, new_len) == 0) {
		fprintf(out, "hostload: %s with entry 45 replaced by a boot image of %s (%llu "
			"bytes) and %s (%llu bytes), page %u:\n", blob_name, kernel_path,
			(unsigned long long)kernel_len, initrd_path, (unsigned long long)initrd_len,
			BOOTIMG_PAGE_DEFAULT);
		rcm_blob_print(out, &parsed);
		*blob_out = swapped;
		swapped = NULL;
		rc = 0;
	} else if (!err_msg()[0]) {
		err_set("out of memory building the boot image and blob");
	}
	free(blob);
	free(kernel);
	free(initrd);
	free(image);
	free(swapped);
	return rc;
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
		{ "kernel", required_argument, NULL, 'K' },
		{ "initrd", required_argument, NULL, 'I' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "boot-only", no_argument, NULL, 'b' },
		{ "product", required_argument, NULL, 'P' },
		{ "json", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bundle_dir = NULL, *link = "usb:", *log_path = NULL;
	const char *kernel = NULL, *initrd = NULL, *cmdline = NULL;
	struct usb_select sel = { NULL, NULL };
	int dry_run = 0, boot_only = 0, json = 0, opt;
	uint64_t product = 0x7023, timeout_s = 1800;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'u': break;
		case 'B': bundle_dir = optarg; break;
		case 'p': sel.port_path = optarg; break;
		case 's': sel.serial = optarg; break;
		case 'l': link = optarg; break;
		case 'n': dry_run = 1; break;
		case 'K': kernel = optarg; break;
		case 'I': initrd = optarg; break;
		case 'C': cmdline = optarg; break;
		case 'b': boot_only = 1; break;
		case 'j': json = 1; break;
		case 'L': log_path = optarg; break;
		case 'P':
			if (cmd_parse_number(optarg, 16, 0, 0xffff, &product) != 0) {
				fprintf(stderr, "hostload: --product '%s': expected a hex USB product id\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			if (cmd_parse_number(optarg, 10, 1, 864000, &timeout_s) != 0) {
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
	if (!bundle_dir || optind != argc - (dry_run || boot_only ? 0 : 1)) {
		rcm_usb_usage(stderr);
		return 2;
	}
	if (!kernel != !initrd || (cmdline && !kernel)) {
		fprintf(stderr, "hostload: --kernel and --initrd go together (--cmdline with "
			"them)\n");
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
	uint8_t *swapped = NULL;
	if (rc == 0 && kernel)
		rc = rcm_usb_swap_kernel(&bundle, kernel, initrd, cmdline, stdout, &swapped);
	if (rc == 0) {
		char chip_id[RCM_TEGRA_ID_TEXT];
		printf("hostload: %s (%04x:%04x) at %s; bundle %s\n", id->name, t.vendor, t.product,
		       t.path, bundle_dir);
		rcm_tegra_print_bundle(stdout, &bundle);
		rc = rcm_tegra_boot(&t, &bundle, &ro, chip_id);
	}
	usb_transport_close(&t);
	free(swapped);
	if (rc != 0) {
		fprintf(stderr, "hostload: %s\n", err_msg());
		return 3;
	}
	if (dry_run || boot_only)
		return 0;
	printf("hostload: the board is booting; serving %s on %s\n", argv[optind], link);
	struct serve_opts o = { .package = argv[optind], .links = { link }, .nlinks = 1,
				.boards = 1, .idle_timeout_s = 60, .wait_timeout_s = (unsigned)timeout_s };
	return cmd_serve_package(&o, json, log_path);
}
