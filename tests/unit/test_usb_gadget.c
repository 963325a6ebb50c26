/* SPDX-License-Identifier: MIT */
/*
 * The board as a USB gadget, without a kernel gadget stack: the FunctionFS blobs byte for byte
 * against bytes written out here; the configfs tree built in a temp directory through a
 * stand-in for configfs (mkdir fills a group the way the kernel does, rmdir refuses what the
 * kernel refuses) and removed again to the last entry; the ep0/OUT bridge on socket pairs
 * (sessions, a host that goes away and comes back, zero-length packets); the link client
 * fetching a package over usb-gadget: from a fake host on FIFO endpoints with a pty as ep0,
 * across a pulled cable; module loading errors; the config keys.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli/config.h"
#include "error.h"
#include "frame.h"
#include "identify.h"
#include "le.h"
#include "link/link_client.h"
#include "link_msg.h"
#include "board/modules.h"
#include "timing.h"
#include "board/usb_gadget.h"

static char root[64], cfg[128], udc[128], ffs_dir[128];

static int error_has(const char *s)
{
	if (strstr(err_msg(), s))
		return 1;
	fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err_msg(), s);
	return 0;
}

static int put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* The content of root-relative or absolute file `path` (static buffer; "" when missing). */
static const char *slurp(const char *dir, const char *rel)
{
	static char text[4096];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	text[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return "(missing)";
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* Every entry below dir, sorted, one a line ("x/", "y -> target", "z"). */
static void tree_add(const char *dir, const char *rel, char *out, size_t size)
{
	struct dirent **ents;
	char path[512];
	snprintf(path, sizeof(path), "%s%s%s", dir, rel[0] ? "/" : "", rel);
	int n = scandir(path, &ents, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			char sub[512], full[1024], target[512] = "";
			struct stat st;
			snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", name);
			snprintf(full, sizeof(full), "%s/%s", dir, sub);
			lstat(full, &st);
			if (S_ISLNK(st.st_mode)) {
				ssize_t k = readlink(full, target, sizeof(target) - 1);
				target[k > 0 ? k : 0] = '\0';
			}
			size_t used = strlen(out);
			snprintf(out + used, size - used, "%s%s%s%s\n", sub, S_ISDIR(st.st_mode) ? "/" : "",
				 target[0] ? " -> " : "", target);
			if (S_ISDIR(st.st_mode))
				tree_add(dir, sub, out, size);
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
}

static const char *tree(void)
{
	static char out[16384];
	out[0] = '\0';
	tree_add(root, "", out, sizeof(out));
	return out;
}

/* ---- a stand-in for configfs and FunctionFS ------------------------------------------------ */

static int no_acm;            /* the ACM function driver is "not built" */
static int live;              /* FunctionFS mounts a pty as ep0 and FIFOs as ep1, ep2 */
static char oplog[4096];      /* mounts and unmounts, in order */
static int host_ep0 = -1, host_ep0_slave = -1, host_in = -1; /* the fake host's ends */
static atomic_int live_ready;

static void log_op(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_op(const char *fmt, ...)
{
	size_t used = strlen(oplog);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(oplog + used, sizeof(oplog) - used, fmt, ap);
	va_end(ap);
	used = strlen(oplog);
	snprintf(oplog + used, sizeof(oplog) - used, "\n");
}

enum kind { K_PLAIN, K_GADGET, K_GSTRINGS, K_CONFIG, K_CSTRINGS, K_ACM, K_FFS, K_UNKNOWN };

static const char *const gadget_files[] = { "bDeviceClass", "bDeviceSubClass", "bDeviceProtocol",
					    "bMaxPacketSize0", "idVendor", "idProduct", "bcdDevice",
					    "bcdUSB", "UDC", "max_speed", NULL };
static const char *const gadget_dirs[] = { "functions", "configs", "strings", "os_desc", NULL };
static const char *const gstrings_files[] = { "manufacturer", "product", "serialnumber", NULL };
static const char *const config_files[] = { "MaxPower", "bmAttributes", NULL };
static const char *const config_dirs[] = { "strings", NULL };
static const char *const cstrings_files[] = { "configuration", NULL };
static const char *const acm_files[] = { "port_num", "console", NULL };
static const char *const none[] = { NULL };

static const struct {
	const char *const *files, *const *dirs;
} made_by[] = {
	[K_PLAIN] = { none, none },		      [K_GADGET] = { gadget_files, gadget_dirs },
	[K_GSTRINGS] = { gstrings_files, none },      [K_CONFIG] = { config_files, config_dirs },
	[K_CSTRINGS] = { cstrings_files, none },      [K_ACM] = { acm_files, none },
	[K_FFS] = { none, none },		      [K_UNKNOWN] = { none, none },
};

static int ends_with(const char *s, size_t len, const char *tail)
{
	size_t t = strlen(tail);
	return len >= t && memcmp(s + len - t, tail, t) == 0;
}

/* What the kernel makes when `path` is made, by where it is. */
static enum kind kind_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t parent = (size_t)(slash - path);
	const char *name = slash + 1;
	char gadgets[160];
	snprintf(gadgets, sizeof(gadgets), "%s/usb_gadget", cfg);
	if (strlen(gadgets) == parent && memcmp(path, gadgets, parent) == 0)
		return K_GADGET;
	if (strncmp(path, gadgets, strlen(gadgets)) != 0)
		return K_PLAIN;
	if (ends_with(path, parent, "/strings"))
		return strstr(path, "/configs/") ? K_CSTRINGS : K_GSTRINGS;
	if (ends_with(path, parent, "/configs"))
		return K_CONFIG;
	if (ends_with(path, parent, "/functions"))
		return strncmp(name, "acm.", 4) == 0 ? K_ACM
		       : strncmp(name, "ffs.", 4) == 0 ? K_FFS
						       : K_UNKNOWN;
	return K_PLAIN;
}

static int fake_mkdir(const char *path)
{
	enum kind k = kind_of(path);
	if (k == K_UNKNOWN || (k == K_ACM && no_acm)) {
		errno = ENOENT; /* no such function driver */
		return -1;
	}
	if (mkdir(path, 0755) != 0)
		return -1;
	char sub[512];
	for (const char *const *f = made_by[k].files; *f; f++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, *f);
		put_file(sub, "");
	}
	for (const char *const *d = made_by[k].dirs; *d; d++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, *d);
		mkdir(sub, 0755);
	}
	return 0;
}

static int fake_rmdir(const char *path)
{
	enum kind k = kind_of(path);
	char sub[512];
	if (k == K_ACM || k == K_FFS) {
		/* a function still linked into the configuration is busy */
		struct stat st;
		snprintf(sub, sizeof(sub), "%s/usb_gadget/selfflash/configs/c.1/%s", cfg,
			 strrchr(path, '/') + 1);
		if (lstat(sub, &st) == 0) {
			errno = EBUSY;
			return -1;
		}
	}
	for (const char *const *f = made_by[k].files; *f; f++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, *f);
		unlink(sub);
	}
	for (const char *const *d = made_by[k].dirs; *d; d++) {
		snprintf(sub, sizeof(sub), "%s/%s", path, *d);
		if (rmdir(sub) != 0)
			return -1; /* a group with children left in it */
	}
	return rmdir(path);
}

static int fake_mount(const char *source, const char *target, const char *type)
{
	log_op("mount %s %s %s", type, source, target);
	char path[512];
	if (strcmp(type, "configfs") == 0) {
		snprintf(path, sizeof(path), "%s/usb_gadget", target);
		return mkdir(path, 0755);
	}
	/* FunctionFS finds its instance by the source name: the function must exist first */
	struct stat st;
	snprintf(path, sizeof(path), "%s/usb_gadget/selfflash/functions/ffs.%s", cfg, source);
	if (strcmp(type, "functionfs") != 0 || stat(path, &st) != 0) {
		errno = ENOENT;
		return -1;
	}
	char ep[512];
	if (!live) {
		for (int i = 0; i < 3; i++) {
			snprintf(ep, sizeof(ep), "%s/ep%d", target, i);
			put_file(ep, "");
		}
		return 0;
	}
	char name[128];
	host_ep0 = posix_openpt(O_RDWR | O_NOCTTY);
	if (host_ep0 < 0 || grantpt(host_ep0) != 0 || unlockpt(host_ep0) != 0 ||
	    ptsname_r(host_ep0, name, sizeof(name)) != 0)
		return -1;
	host_ep0_slave = open(name, O_RDWR | O_NOCTTY);
	struct termios t;
	if (host_ep0_slave < 0 || tcgetattr(host_ep0_slave, &t) != 0)
		return -1;
	cfmakeraw(&t);
	tcsetattr(host_ep0_slave, TCSANOW, &t);
	snprintf(ep, sizeof(ep), "%s/ep0", target);
	if (symlink(name, ep) != 0)
		return -1;
	for (int i = 1; i < 3; i++) {
		snprintf(ep, sizeof(ep), "%s/ep%d", target, i);
		if (mkfifo(ep, 0600) != 0)
			return -1;
	}
	/* the host end of ep1 first: the board's non-blocking open needs a reader */
	snprintf(ep, sizeof(ep), "%s/ep1", target);
	host_in = open(ep, O_RDONLY | O_NONBLOCK);
	atomic_store(&live_ready, 1);
	return host_in < 0 ? -1 : 0;
}

static int fake_umount(const char *target)
{
	log_op("umount %s", target);
	char path[512];
	if (strcmp(target, cfg) == 0) {
		snprintf(path, sizeof(path), "%s/usb_gadget", target);
		return rmdir(path);
	}
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/ep%d", target, i);
		unlink(path);
	}
	return 0;
}

static const struct usb_gadget_fs fake_fs = { fake_mkdir, fake_rmdir, fake_mount, fake_umount };

/* A temp root with configfs (usb_gadget in it, as once libcomposite is there), two UDCs. */
static int fixture(void)
{
	snprintf(root, sizeof(root), "/tmp/sf-usb-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(cfg, sizeof(cfg), "%s/config", root);
	snprintf(udc, sizeof(udc), "%s/udc", root);
	snprintf(ffs_dir, sizeof(ffs_dir), "%s/ffs-selfflash", root);
	char path[256];
	snprintf(path, sizeof(path), "%s/usb_gadget", cfg);
	mkdir(cfg, 0755);
	mkdir(path, 0755);
	mkdir(udc, 0755);
	snprintf(path, sizeof(path), "%s/dummy_udc.0", udc);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/dummy_udc.0/current_speed", udc);
	put_file(path, "high-speed\n");
	snprintf(path, sizeof(path), "%s/zz_udc.1", udc);
	mkdir(path, 0755);
	oplog[0] = '\0';
	no_acm = live = 0;
	return 0;
}

static void remove_tree(const char *dir)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "  could not remove %s\n", dir);
}

static struct usb_gadget_opts fake_opts(void)
{
	return (struct usb_gadget_opts){ .configfs = cfg, .ffs_mount = ffs_dir, .udc_class = udc,
					 .fs = &fake_fs };
}

/* A module EEPROM as NVIDIA lays it out (DESIGN.md §5), with a valid CRC. */
static void make_eeprom(uint8_t *ee, const char *serial)
{
	memset(ee, 0xff, EEPROM_SIZE);
	memset(ee, 0, 20);
	le16_store(ee + 0, 2);
	memcpy(ee + 20, "699-13701-0005-500 M.0", 22);
	memcpy(ee + 74, serial, strlen(serial));
	memcpy(ee + 150, "NVCB", 4);
	ee[255] = identify_crc8_maxim(ee, 255);
}

/* ---- the blobs ------------------------------------------------------------------------------ */

static const uint8_t want_desc[] = {
	/* magic 3 (V2), length 105, flags FS|HS|SS, then 3 FS, 3 HS, 5 SS descriptors */
	3, 0, 0, 0, 105, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0,
	/* full speed: interface 0, alt 0, 2 endpoints, class ff/00/00, string 1;
	 * bulk IN 0x81 and bulk OUT 0x02, 64 bytes */
	9, 4, 0, 0, 2, 0xff, 0, 0, 1,
	7, 5, 0x81, 2, 0x40, 0x00, 0,
	7, 5, 0x02, 2, 0x40, 0x00, 0,
	/* high speed: 512 bytes */
	9, 4, 0, 0, 2, 0xff, 0, 0, 1,
	7, 5, 0x81, 2, 0x00, 0x02, 0,
	7, 5, 0x02, 2, 0x00, 0x02, 0,
	/* super speed: 1024 bytes, each endpoint followed by its companion (no burst, no streams) */
	9, 4, 0, 0, 2, 0xff, 0, 0, 1,
	7, 5, 0x81, 2, 0x00, 0x04, 0,
	6, 0x30, 0, 0, 0, 0,
	7, 5, 0x02, 2, 0x00, 0x04, 0,
	6, 0x30, 0, 0, 0, 0,
};

static const uint8_t want_strings[] = {
	/* magic 2, length 33, 1 string, 1 language: en-US, "selfflash link" */
	2, 0, 0, 0, 33, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
	0x09, 0x04,
	's', 'e', 'l', 'f', 'f', 'l', 'a', 's', 'h', ' ', 'l', 'i', 'n', 'k', 0,
};

static void test_descriptors_bytes(void)
{
	uint8_t got[USB_GADGET_DESCRIPTORS_SIZE + 16];
	memset(got, 0xee, sizeof(got));
	CHECK(sizeof(want_desc) == USB_GADGET_DESCRIPTORS_SIZE);
	CHECK(usb_gadget_descriptors(got) == sizeof(want_desc));
	CHECK(memcmp(got, want_desc, sizeof(want_desc)) == 0);
	CHECK(got[sizeof(want_desc)] == 0xee); /* nothing past the end */
}

static void test_strings_bytes(void)
{
	uint8_t got[USB_GADGET_STRINGS_SIZE + 16];
	memset(got, 0xee, sizeof(got));
	CHECK(sizeof(want_strings) == USB_GADGET_STRINGS_SIZE);
	CHECK(usb_gadget_strings(got) == sizeof(want_strings));
	CHECK(memcmp(got, want_strings, sizeof(want_strings)) == 0);
	CHECK(got[sizeof(want_strings)] == 0xee);
}

/* ---- configfs --------------------------------------------------------------------------------- */

static struct usb_gadget g;

static void test_configfs_tree_and_teardown(void)
{
	CHECK(fixture() == 0);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	uint8_t ee[EEPROM_SIZE];
	struct board_id id;
	make_eeprom(ee, "1424321012345");
	CHECK(identify_parse_eeprom(ee, sizeof(ee), &id) == 0);
	struct usb_gadget_opts o = fake_opts();
	o.serial = id.serial;
	FILE *console = tmpfile();
	o.console = console;
	CHECK(usb_gadget_open(&g, &o) == 0);

	char gd[256], c1[300], fn[300], link[300];
	snprintf(gd, sizeof(gd), "%s/usb_gadget/selfflash", cfg);
	CHECK_STR_EQ(slurp(gd, "idVendor"), "0x1d6b");
	CHECK_STR_EQ(slurp(gd, "idProduct"), "0x0104");
	CHECK_STR_EQ(slurp(gd, "bcdDevice"), "0x0100");
	CHECK_STR_EQ(slurp(gd, "bDeviceClass"), "0xef"); /* composite with an IAD (ACM) */
	CHECK_STR_EQ(slurp(gd, "bDeviceSubClass"), "0x02");
	CHECK_STR_EQ(slurp(gd, "bDeviceProtocol"), "0x01");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/manufacturer"), "selfflash");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/product"), "selfflash flasher");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/serialnumber"), "1424321012345");
	CHECK_STR_EQ(slurp(gd, "configs/c.1/strings/0x409/configuration"), "selfflash");
	CHECK_STR_EQ(slurp(gd, "UDC"), "dummy_udc.0"); /* the first by name */
	/* both functions linked into c.1, FunctionFS first (interface 0) */
	snprintf(c1, sizeof(c1), "%s/configs/c.1/ffs.selfflash", gd);
	snprintf(fn, sizeof(fn), "%s/functions/ffs.selfflash", gd);
	ssize_t n = readlink(c1, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = '\0';
	CHECK_STR_EQ(link, fn);
	snprintf(c1, sizeof(c1), "%s/configs/c.1/acm.gs0", gd);
	snprintf(fn, sizeof(fn), "%s/functions/acm.gs0", gd);
	n = readlink(c1, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = '\0';
	CHECK_STR_EQ(link, fn);
	/* FunctionFS mounted from the instance name, then descriptors and strings on ep0 */
	char want_log[512];
	snprintf(want_log, sizeof(want_log), "mount functionfs selfflash %s\n", ffs_dir);
	CHECK_STR_EQ(oplog, want_log);
	char ep0[256];
	snprintf(ep0, sizeof(ep0), "%s/ep0", ffs_dir);
	uint8_t blob[512];
	int fd = open(ep0, O_RDONLY);
	CHECK(fd >= 0);
	n = read(fd, blob, sizeof(blob));
	close(fd);
	CHECK(n == (ssize_t)(sizeof(want_desc) + sizeof(want_strings)));
	CHECK(memcmp(blob, want_desc, sizeof(want_desc)) == 0);
	CHECK(memcmp(blob + sizeof(want_desc), want_strings, sizeof(want_strings)) == 0);

	usb_gadget_close(&g);
	CHECK_STR_EQ(slurp(gd, "UDC"), "(missing)");
	CHECK_STR_EQ(tree(), before); /* everything made is gone, nothing else */
	snprintf(want_log + strlen(want_log), sizeof(want_log) - strlen(want_log), "umount %s\n",
		 ffs_dir);
	CHECK_STR_EQ(oplog, want_log);
	char said[2048] = "";
	rewind(console);
	size_t got = fread(said, 1, sizeof(said) - 1, console);
	said[got] = '\0';
	fclose(console);
	CHECK(strstr(said, "on UDC dummy_udc.0") != NULL);
	CHECK(strstr(said, "teardown") == NULL); /* no step failed to undo */
	remove_tree(root);
}

static void test_configfs_custom_ids_and_udc(void)
{
	CHECK(fixture() == 0);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	struct usb_gadget_opts o = fake_opts();
	o.vendor = 0x0955;
	o.product = 0x7e19;
	o.bcd_device = 0x0203;
	o.manufacturer = "ACME";
	o.product_name = "ACME board flasher";
	o.serial = "SN-42";
	o.udc = "zz_udc.1";
	CHECK(usb_gadget_open(&g, &o) == 0);
	char gd[256];
	snprintf(gd, sizeof(gd), "%s/usb_gadget/selfflash", cfg);
	CHECK_STR_EQ(slurp(gd, "idVendor"), "0x0955");
	CHECK_STR_EQ(slurp(gd, "idProduct"), "0x7e19");
	CHECK_STR_EQ(slurp(gd, "bcdDevice"), "0x0203");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/manufacturer"), "ACME");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/product"), "ACME board flasher");
	CHECK_STR_EQ(slurp(gd, "strings/0x409/serialnumber"), "SN-42");
	CHECK_STR_EQ(slurp(gd, "UDC"), "zz_udc.1");
	usb_gadget_close(&g);
	CHECK_STR_EQ(tree(), before);
	/* no serial: the kernel's empty attribute stays untouched */
	o.serial = NULL;
	o.udc = NULL;
	CHECK(usb_gadget_open(&g, &o) == 0);
	CHECK_STR_EQ(slurp(gd, "strings/0x409/serialnumber"), "");
	usb_gadget_close(&g);
	CHECK_STR_EQ(tree(), before);
	remove_tree(root);
}

static void test_configfs_mounted_when_missing(void)
{
	CHECK(fixture() == 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/usb_gadget", cfg);
	rmdir(path);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	struct usb_gadget_opts o = fake_opts();
	CHECK(usb_gadget_open(&g, &o) == 0);
	char want[512];
	snprintf(want, sizeof(want), "mount configfs configfs %s\nmount functionfs selfflash %s\n",
		 cfg, ffs_dir);
	CHECK_STR_EQ(oplog, want);
	usb_gadget_close(&g);
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "umount %s\numount %s\n", ffs_dir,
		 cfg);
	CHECK_STR_EQ(oplog, want); /* configfs last: the gadget was gone before it */
	CHECK_STR_EQ(tree(), before);
	remove_tree(root);
}

static void test_acm_missing_is_not_fatal(void)
{
	CHECK(fixture() == 0);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	no_acm = 1;
	struct usb_gadget_opts o = fake_opts();
	FILE *console = tmpfile();
	o.console = console;
	CHECK(usb_gadget_open(&g, &o) == 0);
	char gd[256];
	snprintf(gd, sizeof(gd), "%s/usb_gadget/selfflash", cfg);
	CHECK_STR_EQ(slurp(gd, "configs/c.1/acm.gs0"), "(missing)");
	CHECK_STR_EQ(slurp(gd, "bDeviceClass"), ""); /* not a composite device then */
	CHECK_STR_EQ(slurp(gd, "UDC"), "dummy_udc.0");
	usb_gadget_close(&g);
	CHECK_STR_EQ(tree(), before);
	char said[2048] = "";
	rewind(console);
	size_t got = fread(said, 1, sizeof(said) - 1, console);
	said[got] = '\0';
	fclose(console);
	CHECK(strstr(said, "no CDC-ACM fallback") != NULL);
	remove_tree(root);
}

static void test_setup_failures_undo_everything(void)
{
	CHECK(fixture() == 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/dummy_udc.0/current_speed", udc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dummy_udc.0", udc);
	rmdir(path);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	struct usb_gadget_opts o = fake_opts();
	o.udc = "tegra-xudc.0";
	CHECK(usb_gadget_open(&g, &o) == -1);
	CHECK(error_has("no UDC tegra-xudc.0 in"));
	CHECK(error_has("there: zz_udc.1"));
	CHECK_STR_EQ(tree(), before);
	snprintf(path, sizeof(path), "%s/zz_udc.1", udc);
	rmdir(path);
	snprintf(before, sizeof(before), "%s", tree());
	o.udc = NULL;
	CHECK(usb_gadget_open(&g, &o) == -1);
	CHECK(error_has("no USB device controller in"));
	CHECK_STR_EQ(tree(), before);
	/* a gadget of that name made by someone else: refused, and left alone */
	snprintf(path, sizeof(path), "%s/usb_gadget/selfflash", cfg);
	mkdir(path, 0755);
	snprintf(before, sizeof(before), "%s", tree());
	CHECK(usb_gadget_open(&g, &o) == -1);
	CHECK(error_has("already exists"));
	CHECK_STR_EQ(tree(), before);
	/* strings a USB descriptor cannot hold */
	rmdir(path);
	char longer[200];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	o.serial = longer;
	CHECK(usb_gadget_open(&g, &o) == -1);
	CHECK(error_has("serial number"));
	CHECK(error_has("at most 126"));
	o.serial = "bad\nserial";
	CHECK(usb_gadget_open(&g, &o) == -1);
	CHECK(error_has("control character 0x0a"));
	remove_tree(root);
}

/* ---- the bridge -------------------------------------------------------------------------------- */

static void event(uint8_t *ev, uint8_t type, uint8_t request_type)
{
	memset(ev, 0, 12);
	ev[0] = request_type;
	ev[1] = 0x42;
	ev[8] = type; /* 0 BIND, 1 UNBIND, 2 ENABLE, 3 DISABLE, 4 SETUP */
}

/* Reads what arrives on fd within timeout_ms: the byte count, 0 at EOF, -1 nothing came. */
static ssize_t read_within(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	return read(fd, buf, size);
}

static int send_event(int ep0, uint8_t type)
{
	uint8_t ev[12];
	event(ev, type, 0);
	return write(ep0, ev, sizeof(ev)) == (ssize_t)sizeof(ev) ? 0 : -1;
}

/*
 * Waits (up to 2 s) until some thread of this process is blocked in read(fd): the gadget's
 * OUT reader, before the test makes the host go away (/proc/self/task/TID/syscall starts with
 * the syscall number and its first argument). 1 when seen.
 */
static int thread_in_read(int fd)
{
	char want[64];
	snprintf(want, sizeof(want), "%ld 0x%x ", (long)SYS_read, (unsigned)fd);
	for (int tries = 0; tries < 200; tries++) {
		DIR *d = opendir("/proc/self/task");
		struct dirent *e;
		int seen = 0;
		while (d && !seen && (e = readdir(d)) != NULL) {
			char path[300];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/self/task/%s/syscall", e->d_name);
			FILE *f = fopen(path, "re");
			if (f) {
				char line[256] = "";
				seen = fgets(line, sizeof(line), f) && strncmp(line, want, strlen(want)) == 0;
				fclose(f);
			}
		}
		if (d)
			closedir(d);
		if (seen)
			return 1;
		timing_sleep_ms(10);
	}
	return 0;
}

/*
 * The host's ends of a bridge on stand-in endpoints: ep0 a stream, IN and OUT record sockets
 * (a zero-length record is a zero-length packet). The gadget is the test's own: a failed
 * CHECK returns with its threads running, and they must not share an object a later test sets
 * up again.
 */
struct stand_in {
	struct usb_gadget *g;
	int e0[2], in[2], out[2]; /* [0] the gadget's end (it closes them), [1] the host's */
};

/* in_sndbuf: the IN socket's send buffer (0: the default), small to make writes block. 0/-1. */
static int stand_in_start(struct stand_in *h, const struct usb_gadget_opts *o, int in_sndbuf)
{
	h->g = calloc(1, sizeof(*h->g));
	if (!h->g || socketpair(AF_UNIX, SOCK_STREAM, 0, h->e0) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, h->in) != 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, h->out) != 0)
		return -1;
	if (in_sndbuf &&
	    setsockopt(h->in[0], SOL_SOCKET, SO_SNDBUF, &in_sndbuf, sizeof(in_sndbuf)) != 0)
		return -1;
	return usb_gadget_start_bridge(h->g, o, h->e0[0], h->in[0], h->out[0]);
}

/* The host unbinds: session rfd reads EOF, the OUT endpoint returns, teardown stops the
 * threads. 0, or -1 when the session did not end. */
static int stand_in_end(struct stand_in *h, int rfd)
{
	char buf[64];
	int ended = send_event(h->e0[1], 1) == 0 && read_within(rfd, buf, sizeof(buf), 2000) == 0;
	shutdown(h->out[1], SHUT_WR);
	usb_gadget_close(h->g);
	free(h->g);
	close(rfd);
	close(h->e0[1]);
	close(h->in[1]);
	close(h->out[1]);
	return ended ? 0 : -1;
}

static void test_bridge_sessions(void)
{
	struct stand_in h;
	struct usb_gadget_opts o = { .console = NULL };
	CHECK(stand_in_start(&h, &o, 0) == 0);
	struct usb_gadget *gb = h.g;
	const int *e0 = h.e0, *in = h.in, *out = h.out;
	int r1, r2, r3, w;
	char buf[256];

	/* no host yet */
	CHECK(usb_gadget_connect(gb, 100, &r1, &w) == -1);
	CHECK(error_has("no USB host has enabled"));
	/* a control request (stalled), BIND and ENABLE in one read of ep0 */
	uint8_t evs[36];
	event(evs, 4, 0x80 | 0x40);
	event(evs + 12, 0, 0);
	event(evs + 24, 2, 0);
	CHECK(write(e0[1], evs, sizeof(evs)) == (ssize_t)sizeof(evs));
	CHECK(usb_gadget_connect(gb, 2000, &r1, &w) == 0);
	CHECK(w == in[0]);
	CHECK(send(out[1], "hello", 5, 0) == 5);
	CHECK(read_within(r1, buf, sizeof(buf), 2000) == 5 && memcmp(buf, "hello", 5) == 0);
	/* a zero-length packet from the host is no end */
	CHECK(send(out[1], "", 0, 0) == 0);
	CHECK(send(out[1], "more", 4, 0) == 4);
	CHECK(read_within(r1, buf, sizeof(buf), 2000) == 4 && memcmp(buf, "more", 4) == 0);

	/* writes: one transfer each; a multiple of the max packet (64 here: no UDC speed known)
	 * is followed by a zero-length packet */
	CHECK(usb_gadget_write(gb, "abc", 3) == 0);
	CHECK(read_within(in[1], buf, sizeof(buf), 1000) == 3 && memcmp(buf, "abc", 3) == 0);
	memset(buf, 'z', 128);
	CHECK(usb_gadget_write(gb, buf, 128) == 0);
	CHECK(read_within(in[1], buf, sizeof(buf), 1000) == 128);
	CHECK(read_within(in[1], buf, sizeof(buf), 1000) == 0); /* the ZLP */
	CHECK(usb_gadget_write(gb, buf, 100) == 0);
	CHECK(read_within(in[1], buf, sizeof(buf), 1000) == 100);
	CHECK(read_within(in[1], buf, sizeof(buf), 100) == -1); /* no ZLP after a short packet */

	/* hostload restarted, the cable stayed: a new session replaces the old one */
	CHECK(usb_gadget_connect(gb, 1000, &r2, &w) == 0);
	CHECK(send(out[1], "x", 1, 0) == 1);
	CHECK(read_within(r2, buf, sizeof(buf), 2000) == 1 && buf[0] == 'x');
	CHECK(read_within(r1, buf, sizeof(buf), 2000) == 0); /* EOF */
	close(r1);

	/* the host goes away: the session reads EOF at once, no new one until ENABLE. (The reader
	 * is first let back into its read: a stand-in endpoint, unlike a disabled FunctionFS one,
	 * still takes bytes after DISABLE, and only a reader blocked in read() drops them.) */
	CHECK(thread_in_read(out[0]));
	CHECK(send_event(e0[1], 3) == 0);
	CHECK(read_within(r2, buf, sizeof(buf), 2000) == 0);
	close(r2);
	CHECK(usb_gadget_connect(gb, 100, &r3, &w) == -1);
	/* bytes of the old connection are not handed to the next session */
	CHECK(send(out[1], "stale", 5, 0) == 5);
	int queued = 1;
	for (int i = 0; i < 200 && queued; i++) {
		timing_sleep_ms(10);
		if (ioctl(out[0], FIONREAD, &queued) != 0)
			queued = 0;
	}
	CHECK(queued == 0);
	CHECK(send_event(e0[1], 2) == 0);
	CHECK(usb_gadget_connect(gb, 2000, &r3, &w) == 0);
	CHECK(send(out[1], "fresh", 5, 0) == 5);
	CHECK(read_within(r3, buf, sizeof(buf), 2000) == 5 && memcmp(buf, "fresh", 5) == 0);

	/* the end: the host goes, the OUT endpoint returns, teardown stops the threads */
	CHECK(stand_in_end(&h, r3) == 0);
}

/*
 * hostload stopped with the cable in: the host keeps the interface enabled and reads nothing.
 * A write gives up after write_timeout_ms with a message saying so (the link client then takes
 * the link as lost), and writes work again once the host reads.
 */
static void test_bridge_write_gives_up_when_the_host_stops_reading(void)
{
	struct stand_in h;
	struct usb_gadget_opts o = { .console = NULL, .write_timeout_ms = 300 };
	CHECK(stand_in_start(&h, &o, 4096) == 0);
	struct usb_gadget *gb = h.g;
	const int *in = h.in;
	CHECK(send_event(h.e0[1], 2) == 0); /* ENABLE */
	int r, w;
	CHECK(usb_gadget_connect(gb, 2000, &r, &w) == 0);
	static char piece[1000];
	memset(piece, 'p', sizeof(piece));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = 0, writes = 0;
	while (rc == 0 && writes < 10000) {
		rc = usb_gadget_write(gb, piece, sizeof(piece));
		writes++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(rc == -1);
	CHECK(error_has("USB host has read nothing for 300 ms"));
	CHECK(waited >= 0.29); /* it did wait for the host (ms clock) ... */
	CHECK(waited < 30);   /* ... and did not hang (a loose bound: a slow machine is no failure) */
	/* the host reads again: what it was sent arrives whole, and so do new writes */
	char buf[2048];
	int got = 0;
	while (read_within(in[1], buf, sizeof(buf), 200) > 0)
		got++;
	CHECK(got == writes - 1);
	CHECK(usb_gadget_write(gb, "again", 5) == 0);
	CHECK(read_within(in[1], buf, sizeof(buf), 1000) == 5 && memcmp(buf, "again", 5) == 0);
	CHECK(stand_in_end(&h, r) == 0);
}

/* ---- the link client over usb-gadget: --------------------------------------------------------- */

#define PKG_BYTES (300u * 1024)
#define PIECE 16384

static uint8_t package[PKG_BYTES];

struct usb_host {
	pthread_t thread;
	atomic_int stop, hellos, results, descriptors_ok;
	uint64_t unplug_after; /* DATA bytes before the cable is pulled once (0: never) */
};

static int write_all_fd(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void drain(int fd)
{
	uint8_t junk[4096];
	while (read(fd, junk, sizeof(junk)) > 0)
		;
}

/* The host's side: ep0 through the pty master, ep1 (board to host) and ep2 (host to board). */
static void *usb_host_main(void *arg)
{
	struct usb_host *h = arg;
	while (!atomic_load(&live_ready) && !atomic_load(&h->stop))
		timing_sleep_ms(5);
	/* the gadget's first words on ep0: descriptors, then strings */
	uint8_t blob[sizeof(want_desc) + sizeof(want_strings)] = { 0 };
	size_t got = 0;
	while (got < sizeof(blob)) {
		ssize_t n = read_within(host_ep0, blob + got, sizeof(blob) - got, 5000);
		if (n <= 0)
			return NULL;
		got += (size_t)n;
	}
	atomic_store(&h->descriptors_ok,
		     memcmp(blob, want_desc, sizeof(want_desc)) == 0 &&
			     memcmp(blob + sizeof(want_desc), want_strings, sizeof(want_strings)) == 0);
	char ep2[256];
	snprintf(ep2, sizeof(ep2), "%s/ep2", ffs_dir);
	int out = open(ep2, O_WRONLY); /* the board opened its end during setup */
	if (out < 0)
		return NULL;
	uint8_t evs[24];
	event(evs, 0, 0);
	event(evs + 12, 2, 0);
	if (write(host_ep0, evs, sizeof(evs)) != (ssize_t)sizeof(evs))
		return NULL;
	static uint8_t rx[FRAME_OVERHEAD + 65536], tx[FRAME_OVERHEAD + 65536];
	struct frame_decoder d;
	frame_decoder_init(&d, rx, sizeof(rx), 65536);
	uint64_t sent = 0;
	int unplugged = 0;
	while (!atomic_load(&h->stop)) {
		size_t room;
		uint8_t *to = frame_decoder_space(&d, &room);
		ssize_t n = read_within(host_in, to, room, 50);
		if (n <= 0) {
			if (n == 0)
				timing_sleep_ms(10); /* the board closed ep1 */
			continue;
		}
		frame_decoder_commit(&d, (size_t)n);
		struct frame f;
		int ok;
		while ((ok = frame_decoder_next(&d, &f)) != 0) {
			if (ok < 0)
				continue;
			if (f.type == FRAME_HELLO) {
				atomic_fetch_add(&h->hellos, 1);
				struct link_welcome wl = { 1, 65536, PKG_BYTES, "usb.sfpkg" };
				uint8_t p[LINK_WELCOME_SIZE];
				link_welcome_encode(&wl, p);
				write_all_fd(out, tx, frame_encode_copy(tx, FRAME_WELCOME, f.seq, p, sizeof(p)));
			} else if (f.type == FRAME_READ) {
				struct link_read r;
				if (link_read_decode(f.payload, f.len, &r) != 0 ||
				    r.offset + r.length > PKG_BYTES)
					continue;
				for (uint32_t done = 0; done < r.length;) {
					uint32_t len = r.length - done < PIECE ? r.length - done : PIECE;
					le64_store(tx + FRAME_HEADER_SIZE, r.offset + done);
					memcpy(tx + FRAME_HEADER_SIZE + 8, package + r.offset + done, len);
					write_all_fd(out, tx, frame_encode(tx, FRAME_DATA, f.seq, len + 8));
					done += len;
					sent += len;
				}
			} else if (f.type == FRAME_RESULT) {
				atomic_fetch_add(&h->results, 1);
				write_all_fd(out, tx, frame_encode(tx, FRAME_RESULT_ACK, f.seq, 0));
			}
			if (!unplugged && h->unplug_after && sent >= h->unplug_after) {
				/* the cable is pulled and plugged back in a moment later */
				unplugged = 1;
				uint8_t ev[12];
				event(ev, 3, 0);
				if (write(host_ep0, ev, sizeof(ev)) != (ssize_t)sizeof(ev))
					return NULL;
				timing_sleep_ms(300);
				drain(host_in);
				frame_decoder_reset(&d);
				event(ev, 2, 0);
				if (write(host_ep0, ev, sizeof(ev)) != (ssize_t)sizeof(ev))
					return NULL;
				break;
			}
		}
	}
	close(out);
	return NULL;
}

static void live_close(void)
{
	if (host_in >= 0)
		close(host_in);
	if (host_ep0_slave >= 0)
		close(host_ep0_slave);
	if (host_ep0 >= 0)
		close(host_ep0);
	host_in = host_ep0 = host_ep0_slave = -1;
	atomic_store(&live_ready, 0);
}

static void test_link_client_over_gadget(void)
{
	CHECK(fixture() == 0);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	live = 1;
	for (size_t i = 0; i < PKG_BYTES; i++)
		package[i] = (uint8_t)(i * 131 + (i >> 9));
	static struct usb_host h;
	memset(&h, 0, sizeof(h));
	h.unplug_after = 100u * 1024;
	CHECK(pthread_create(&h.thread, NULL, usb_host_main, &h) == 0);
	struct link_client_opts o = { .spec = "usb-gadget:", .board = "usb-board",
				      .max_payload = 65536, .idle_timeout_ms = 3000,
				      .reconnect_ms = 8000, .usb = fake_opts() };
	o.usb.serial = "1424321012345";
	static struct link_client lc;
	int open_rc = link_client_open(&lc, &o);
	static uint8_t got[PKG_BYTES];
	int rc = -1;
	if (open_rc == 0) {
		rc = 0;
		const uint32_t step = 20000;
		for (uint32_t off = 0; rc == 0 && off < PKG_BYTES; off += step) {
			uint32_t len = PKG_BYTES - off < step ? PKG_BYTES - off : step;
			for (uint32_t ahead = off; ahead < PKG_BYTES && ahead < off + 5 * step;
			     ahead += step)
				link_client_expect(&lc, ahead,
						   PKG_BYTES - ahead < step ? PKG_BYTES - ahead : step);
			rc = link_client_read(&lc, off, got + off, len);
		}
		if (rc == 0)
			rc = link_client_result(&lc, 0, "done");
		link_client_close(&lc);
	}
	if (open_rc != 0 || rc != 0)
		fprintf(stderr, "  link: %s\n", err_msg());
	atomic_store(&h.stop, 1);
	pthread_join(h.thread, NULL);
	live_close();
	CHECK(open_rc == 0);
	CHECK(rc == 0);
	CHECK(memcmp(got, package, PKG_BYTES) == 0);
	CHECK(atomic_load(&h.descriptors_ok));
	CHECK(lc.reconnects == 1);          /* the pulled cable, resumed */
	CHECK(atomic_load(&h.hellos) == 2); /* one HELLO per ENABLE, the gadget kept */
	CHECK(atomic_load(&h.results) >= 1);
	CHECK_STR_EQ(tree(), before); /* link_client_close removed the gadget */
	remove_tree(root);
}

static void test_link_client_gadget_setup_failure(void)
{
	CHECK(fixture() == 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/dummy_udc.0/current_speed", udc);
	unlink(path);
	snprintf(path, sizeof(path), "%s/dummy_udc.0", udc);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/zz_udc.1", udc);
	rmdir(path);
	char before[16384];
	snprintf(before, sizeof(before), "%s", tree());
	FILE *console = tmpfile();
	struct link_client_opts o = { .spec = "usb-gadget:", .reconnect_ms = 1200,
				      .console = console, .usb = fake_opts() };
	static struct link_client lc;
	CHECK(link_client_open(&lc, &o) == -1);
	CHECK(error_has("no USB device controller"));
	CHECK_STR_EQ(tree(), before);
	char said[4096] = "";
	rewind(console);
	size_t got = fread(said, 1, sizeof(said) - 1, console);
	said[got] = '\0';
	fclose(console);
	char *first = strstr(said, "(trying again)");
	CHECK(first != NULL);
	CHECK(strstr(first + 1, "(trying again)") == NULL); /* said once, not per attempt */
	remove_tree(root);
}

static void test_link_spec(void)
{
	CHECK(link_spec_known("usb-gadget:"));
	CHECK(link_spec_known("usb-gadget:dummy_udc.0"));
	CHECK(!link_spec_known("usb-gadget"));
	CHECK(!link_spec_known("usb:"));
}

/* ---- modules ------------------------------------------------------------------------------------ */

static void test_module_errors_name_the_module(void)
{
	CHECK(modules_load(NULL, 0, NULL) == 0);
	const char *missing[] = { "/nonexistent/udc-tegra.ko", "/nonexistent/other.ko" };
	CHECK(modules_load(missing, 2, NULL) == -1);
	/* the file the config names, the module's name first: what to add to the initrd */
	CHECK(error_has("module udc-tegra.ko: not in the initrd (/nonexistent/udc-tegra.ko: "
			"No such file or directory)"));
	/* a file that is no module: the kernel refuses it (or this process may not load any) */
	char bogus[] = "/tmp/sf-module-XXXXXX";
	int fd = mkstemp(bogus);
	CHECK(fd >= 0);
	CHECK(write(fd, "not an ELF file", 15) == 15);
	close(fd);
	const char *one[] = { bogus };
	int rc = modules_load(one, 1, NULL);
	unlink(bogus);
	CHECK(rc == -1);
	CHECK(error_has(bogus));
	CHECK(error_has("the kernel refused it: "));
}

/* ---- config ---------------------------------------------------------------------------------------- */

static struct flasher_config conf;

static int parse(const char *text)
{
	memset(&conf, 0, sizeof(conf));
	return config_parse(text, strlen(text), &conf);
}

static void test_config_usb_keys(void)
{
	CHECK(parse("link usb-gadget:\n"
		    "usb-vendor 0x0955\n"
		    "usb-product 0x7E19\n"
		    "usb-serial 1424321012345\n"
		    "usb-manufacturer ACME Corp\n"
		    "usb-product-name ACME board flasher\n"
		    "module /lib/modules/tegra-xudc.ko\n"
		    "module /lib/modules/usb_f_fs.ko\n") == 0);
	CHECK_STR_EQ(conf.flash.source, "usb-gadget:");
	CHECK(conf.flash.usb.vendor == 0x0955);
	CHECK(conf.flash.usb.product == 0x7e19);
	CHECK_STR_EQ(conf.flash.usb.serial, "1424321012345");
	CHECK_STR_EQ(conf.flash.usb.manufacturer, "ACME Corp");
	CHECK_STR_EQ(conf.flash.usb.product_name, "ACME board flasher");
	CHECK(conf.nmodules == 2);
	CHECK_STR_EQ(conf.modules[0], "/lib/modules/tegra-xudc.ko");
	CHECK_STR_EQ(conf.modules[1], "/lib/modules/usb_f_fs.ko");
	/* defaults: nothing set, the serial comes from the EEPROM later */
	CHECK(parse("link usb-gadget:dummy_udc.0\n") == 0);
	CHECK(conf.flash.usb.vendor == 0 && conf.flash.usb.product == 0);
	CHECK(conf.flash.usb.serial == NULL && conf.nmodules == 0);
}

static void test_config_bad_usb_values(void)
{
	static const char *const bad[] = { "usb-vendor 1d6b",	  "usb-vendor 0x",
					   "usb-vendor 0x12345",  "usb-product 0xzz12",
					   "usb-product 0x0000", "usb-vendor 0x1d6b junk",
					   "usb-vendor -0x1",	  "usb-product 0x+123" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[64];
		snprintf(text, sizeof(text), "# ids\n%s\n", bad[i]);
		CHECK(parse(text) == -1);
		CHECK(error_has("config line 2"));
		CHECK(error_has(strchr(bad[i], ' ') + 1)); /* the value as found */
		CHECK(error_has("16-bit hex id such as 0x1d6b"));
	}
	static char text[8192];
	text[0] = '\0';
	for (int i = 0; i < CONFIG_MODULES_MAX + 1; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "module /m%d.ko\n", i);
	CHECK(parse(text) == -1);
	char want[64];
	snprintf(want, sizeof(want), "config line %d: more than %d modules", CONFIG_MODULES_MAX + 1,
		 CONFIG_MODULES_MAX);
	CHECK(error_has(want));
	snprintf(text, sizeof(text), "usb-serial %0127d\n", 7);
	CHECK(parse(text) == -1);
	CHECK(error_has("usb-serial is 127 characters"));
	CHECK(error_has("at most 126"));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_descriptors_bytes);
	RUN(test_strings_bytes);
	RUN(test_configfs_tree_and_teardown);
	RUN(test_configfs_custom_ids_and_udc);
	RUN(test_configfs_mounted_when_missing);
	RUN(test_acm_missing_is_not_fatal);
	RUN(test_setup_failures_undo_everything);
	RUN(test_bridge_sessions);
	RUN(test_bridge_write_gives_up_when_the_host_stops_reading);
	RUN(test_link_client_over_gadget);
	RUN(test_link_client_gadget_setup_failure);
	RUN(test_link_spec);
	RUN(test_module_errors_name_the_module);
	RUN(test_config_usb_keys);
	RUN(test_config_bad_usb_values);
	return CHECK_EXIT();
}
