/* SPDX-License-Identifier: MIT */
/* The board as a USB gadget: configfs setup, FunctionFS descriptors, the bulk link bridge. */
#include "usb_gadget.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "le.h"
#include "link_io.h"
#include "timing.h"

/* FunctionFS and USB chapter 9 constants (include/uapi/linux/usb/functionfs.h, ch9.h); the
 * blobs are built byte by byte, so nothing depends on the compiler's struct packing */
#define FFS_DESCRIPTORS_MAGIC_V2 3
#define FFS_STRINGS_MAGIC 2
#define FFS_HAS_FS_DESC 1
#define FFS_HAS_HS_DESC 2
#define FFS_HAS_SS_DESC 4
#define FFS_EVENT_SIZE 12 /* struct usb_functionfs_event: 8-byte setup packet, type, 3 pad */
enum { EV_BIND, EV_UNBIND, EV_ENABLE, EV_DISABLE, EV_SETUP, EV_SUSPEND, EV_RESUME };
#define DT_INTERFACE_ 4
#define DT_ENDPOINT_ 5
#define DT_SS_EP_COMP 0x30
#define XFER_BULK 2
#define USB_DIR_IN_ 0x80
#define LANG_EN_US 0x0409

#define GADGET_NAME "selfflash"
#define FFS_INSTANCE "selfflash" /* functions/ffs.selfflash, the functionfs mount source */
#define ACM_INSTANCE "gs0"
#define CONFIG_NAME "c.1"
#define EP_OPEN_WAIT_MS 1000

enum undo_kind {
	UNDO_UMOUNT,       /* fs.umount(path) */
	UNDO_RMDIR,        /* fs.rmdir(path): a configfs directory */
	UNDO_RMDIR_PLAIN,  /* rmdir(path): the FunctionFS mount point */
	UNDO_UNLINK,       /* unlink(path): a function's link in the configuration */
	UNDO_CLOSE,        /* close(fd) */
	UNDO_THREADS,      /* stop the ep0 and OUT threads */
	UNDO_UNBIND,       /* write "\n" to UDC */
};

static void say(const struct usb_gadget *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(const struct usb_gadget *g, const char *fmt, ...)
{
	if (!g->o.console)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(g->o.console, "flasher: usb: %s\n", line);
	fflush(g->o.console);
}

/* ---- descriptors ------------------------------------------------------------------------- */

static uint8_t *put_interface(uint8_t *p)
{
	const uint8_t d[9] = { 9, DT_INTERFACE_, 0 /* number */, 0 /* alternate */, 2 /* endpoints */,
			       0xff, 0x00, 0x00 /* vendor-specific class */, 1 /* string */ };
	memcpy(p, d, sizeof(d));
	return p + sizeof(d);
}

static uint8_t *put_endpoint(uint8_t *p, uint8_t address, uint16_t max_packet)
{
	p[0] = 7;
	p[1] = DT_ENDPOINT_;
	p[2] = address;
	p[3] = XFER_BULK;
	le16_store(p + 4, max_packet);
	p[6] = 0; /* bInterval: bulk endpoints never NAK-limit */
	return p + 7;
}

/* SuperSpeed endpoint companion: no bursts, no streams */
static uint8_t *put_ss_companion(uint8_t *p)
{
	const uint8_t d[6] = { 6, DT_SS_EP_COMP, 0, 0, 0, 0 };
	memcpy(p, d, sizeof(d));
	return p + sizeof(d);
}

size_t usb_gadget_descriptors(uint8_t *out)
{
	uint8_t *p = out + 24;
	static const uint16_t max_packet[2] = { 64, 512 }; /* full, high speed */
	for (int speed = 0; speed < 2; speed++) {
		p = put_interface(p);
		p = put_endpoint(p, USB_GADGET_EP_IN, max_packet[speed]);
		p = put_endpoint(p, USB_GADGET_EP_OUT, max_packet[speed]);
	}
	p = put_interface(p);
	p = put_ss_companion(put_endpoint(p, USB_GADGET_EP_IN, 1024));
	p = put_ss_companion(put_endpoint(p, USB_GADGET_EP_OUT, 1024));
	size_t len = (size_t)(p - out);
	le32_store(out, FFS_DESCRIPTORS_MAGIC_V2);
	le32_store(out + 4, (uint32_t)len);
	le32_store(out + 8, FFS_HAS_FS_DESC | FFS_HAS_HS_DESC | FFS_HAS_SS_DESC);
	le32_store(out + 12, 3); /* full speed: interface, 2 endpoints */
	le32_store(out + 16, 3); /* high speed: the same */
	le32_store(out + 20, 5); /* super speed: interface, 2 x (endpoint, companion) */
	return len;
}

size_t usb_gadget_strings(uint8_t *out)
{
	le32_store(out, FFS_STRINGS_MAGIC);
	le32_store(out + 4, (uint32_t)USB_GADGET_STRINGS_SIZE);
	le32_store(out + 8, 1);  /* strings per language */
	le32_store(out + 12, 1); /* languages */
	le16_store(out + 16, LANG_EN_US);
	memcpy(out + 18, USB_GADGET_INTERFACE_NAME, sizeof(USB_GADGET_INTERFACE_NAME));
	return USB_GADGET_STRINGS_SIZE;
}

/* ---- filesystem helpers ------------------------------------------------------------------- */

static int real_mkdir(const char *path)
{
	return mkdir(path, 0755);
}

static int real_rmdir(const char *path)
{
	return rmdir(path);
}

static int real_mount(const char *source, const char *target, const char *type)
{
	return mount(source, target, type, 0, NULL);
}

static int real_umount(const char *target)
{
	return umount2(target, 0);
}

/* dir/name into out (USB_GADGET_PATH_MAX); 0, or -1 naming the path that does not fit. */
static int path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, USB_GADGET_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= USB_GADGET_PATH_MAX)
		return err_set("path %s/%s is longer than %d bytes", dir, name, USB_GADGET_PATH_MAX - 1);
	return 0;
}

/* Writes text to an existing file (a configfs attribute: one write, no O_CREAT, so a wrong
 * attribute name fails instead of making a file); 0 or the errno. */
static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return errno;
	size_t n = strlen(text);
	ssize_t w = write(fd, text, n);
	int e = w < 0 ? errno : (size_t)w != n ? EIO : 0;
	if (close(fd) != 0 && !e)
		e = errno;
	return e;
}

static int set_attr(const char *dir, const char *name, const char *text)
{
	char path[USB_GADGET_PATH_MAX];
	if (path_join(path, dir, name) != 0)
		return -1;
	int e = write_file(path, text);
	return e ? err_set("%s: writing '%s': %s", path, text, strerror(e)) : 0;
}

static void push_undo(struct usb_gadget *g, int kind, const char *path, int fd)
{
	/* the number of steps is fixed by the code below; the array is sized for it */
	if (g->nundo == USB_GADGET_UNDO_MAX) {
		say(g, "too many setup steps: %s will not be undone", path ? path : "a step");
		return;
	}
	struct usb_gadget_undo *u = &g->undo[g->nundo++];
	u->kind = kind;
	u->fd = fd;
	snprintf(u->path, sizeof(u->path), "%s", path ? path : "");
}

/* mkdir of a configfs group, remembered for teardown (a group that exists was made by someone
 * else: not ours to use or remove). */
static int make_dir(struct usb_gadget *g, const char *path)
{
	if (g->fs.mkdir(path) != 0)
		return err_set("mkdir %s: %s", path, strerror(errno));
	push_undo(g, UNDO_RMDIR, path, -1);
	return 0;
}

static int make_link(struct usb_gadget *g, const char *target, const char *link)
{
	if (symlink(target, link) != 0)
		return err_set("symlink %s -> %s: %s", link, target, strerror(errno));
	push_undo(g, UNDO_UNLINK, link, -1);
	return 0;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int copy_string(char *dst, const char *src, const char *what)
{
	size_t n = strlen(src);
	if (n > USB_GADGET_STRING_MAX)
		return err_set("USB %s '%.20s...' is %zu characters, a USB string holds at most %d",
			       what, src, n, USB_GADGET_STRING_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)src[i] < 0x20 || src[i] == 0x7f)
			return err_set("USB %s has control character 0x%02x at %zu", what,
				       (unsigned)(unsigned char)src[i], i);
	memcpy(dst, src, n + 1);
	return 0;
}

static int gadget_init(struct usb_gadget *g, const struct usb_gadget_opts *o)
{
	memset(g, 0, sizeof(*g));
	g->o = *o;
	g->ep0 = g->ep_in = g->ep_out = g->pending_w = g->session_w = -1;
	g->wake[0] = g->wake[1] = -1;
	g->max_packet = 64;
	g->fs.mkdir = o->fs && o->fs->mkdir ? o->fs->mkdir : real_mkdir;
	g->fs.rmdir = o->fs && o->fs->rmdir ? o->fs->rmdir : real_rmdir;
	g->fs.mount = o->fs && o->fs->mount ? o->fs->mount : real_mount;
	g->fs.umount = o->fs && o->fs->umount ? o->fs->umount : real_umount;
	if (!g->o.vendor)
		g->o.vendor = USB_GADGET_VENDOR;
	if (!g->o.product)
		g->o.product = USB_GADGET_PRODUCT;
	if (!g->o.bcd_device)
		g->o.bcd_device = USB_GADGET_BCD_DEVICE;
	const char *paths[3][2] = { { o->configfs, "/sys/kernel/config" },
				    { o->ffs_mount, "/dev/ffs-" FFS_INSTANCE },
				    { o->udc_class, "/sys/class/udc" } };
	char *dst[3] = { g->configfs, g->ffs_mount, g->udc_class };
	for (int i = 0; i < 3; i++) {
		const char *p = paths[i][0] ? paths[i][0] : paths[i][1];
		if (strlen(p) + 64 >= USB_GADGET_PATH_MAX)
			return err_set("path %s is too long for the USB gadget setup", p);
		memcpy(dst[i], p, strlen(p) + 1);
	}
	if (o->udc && strlen(o->udc) >= sizeof(g->udc))
		return err_set("UDC name '%s' is too long", o->udc);
	snprintf(g->udc, sizeof(g->udc), "%s", o->udc ? o->udc : "");
	if (copy_string(g->manufacturer, o->manufacturer ? o->manufacturer : USB_GADGET_MANUFACTURER,
			"manufacturer") != 0 ||
	    copy_string(g->product_name, o->product_name ? o->product_name : USB_GADGET_PRODUCT_NAME,
			"product name") != 0 ||
	    copy_string(g->serial, o->serial ? o->serial : "", "serial number") != 0)
		return -1;
	g->o.manufacturer = g->manufacturer;
	g->o.product_name = g->product_name;
	g->o.serial = g->serial;
	g->o.udc = g->udc;
	g->o.configfs = g->configfs;
	g->o.ffs_mount = g->ffs_mount;
	g->o.udc_class = g->udc_class;
	pthread_mutex_init(&g->lock, NULL);
	timing_cond_init(&g->changed);
	g->initialised = 1;
	return 0;
}

/* configfs mounted with usb_gadget in it (mounting it when the directory has none). */
static int configfs_ready(struct usb_gadget *g, char *gadgets)
{
	if (path_join(gadgets, g->configfs, "usb_gadget") != 0)
		return -1;
	if (is_dir(gadgets))
		return 0;
	if (g->fs.mount("configfs", g->configfs, "configfs") != 0) {
		if (errno == EBUSY)
			return err_set("%s: configfs is mounted but has no usb_gadget (the kernel needs "
				       "CONFIG_USB_CONFIGFS, or a module line for libcomposite)",
				       g->configfs);
		return err_set("mount configfs on %s: %s (the kernel needs CONFIG_CONFIGFS_FS)",
			       g->configfs, strerror(errno));
	}
	push_undo(g, UNDO_UMOUNT, g->configfs, -1);
	if (!is_dir(gadgets))
		return err_set("%s: no such directory after mounting configfs (the kernel needs "
			       "CONFIG_USB_CONFIGFS)", gadgets);
	return 0;
}

/* The device: ids, strings, configuration c.1 with the FunctionFS and ACM functions. */
static int configfs_build(struct usb_gadget *g)
{
	char gadgets[USB_GADGET_PATH_MAX], path[USB_GADGET_PATH_MAX], link[USB_GADGET_PATH_MAX];
	char hex[8];
	if (configfs_ready(g, gadgets) != 0 || path_join(g->gadget, gadgets, GADGET_NAME) != 0)
		return -1;
	if (g->fs.mkdir(g->gadget) != 0) {
		if (errno == EEXIST)
			return err_set("%s already exists: another gadget of that name is set up "
				       "(remove it first)", g->gadget);
		return err_set("mkdir %s: %s", g->gadget, strerror(errno));
	}
	push_undo(g, UNDO_RMDIR, g->gadget, -1);
	snprintf(hex, sizeof(hex), "0x%04x", g->o.vendor);
	if (set_attr(g->gadget, "idVendor", hex) != 0)
		return -1;
	snprintf(hex, sizeof(hex), "0x%04x", g->o.product);
	if (set_attr(g->gadget, "idProduct", hex) != 0)
		return -1;
	snprintf(hex, sizeof(hex), "0x%04x", g->o.bcd_device);
	if (set_attr(g->gadget, "bcdDevice", hex) != 0)
		return -1;

	if (path_join(path, g->gadget, "strings/0x409") != 0 || make_dir(g, path) != 0 ||
	    set_attr(path, "manufacturer", g->manufacturer) != 0 ||
	    set_attr(path, "product", g->product_name) != 0 ||
	    (g->serial[0] && set_attr(path, "serialnumber", g->serial) != 0))
		return -1;

	char config[USB_GADGET_PATH_MAX];
	if (path_join(config, g->gadget, "configs/" CONFIG_NAME) != 0 || make_dir(g, config) != 0 ||
	    path_join(path, config, "strings/0x409") != 0 || make_dir(g, path) != 0 ||
	    set_attr(path, "configuration", "selfflash") != 0)
		return -1;

	/* the FunctionFS function first: it is interface 0 */
	if (path_join(path, g->gadget, "functions/ffs." FFS_INSTANCE) != 0 || make_dir(g, path) != 0 ||
	    path_join(link, config, "ffs." FFS_INSTANCE) != 0 || make_link(g, path, link) != 0)
		return -1;

	if (g->o.no_acm)
		return 0;
	if (path_join(path, g->gadget, "functions/acm." ACM_INSTANCE) != 0 ||
	    path_join(link, config, "acm." ACM_INSTANCE) != 0)
		return -1;
	if (g->fs.mkdir(path) != 0) {
		/* the fallback is optional: the bulk link works without it */
		say(g, "no CDC-ACM fallback (mkdir %s: %s)", path, strerror(errno));
		return 0;
	}
	push_undo(g, UNDO_RMDIR, path, -1);
	if (make_link(g, path, link) != 0)
		return -1;
	/* ACM brings an interface association: a composite device says so in its class */
	return set_attr(g->gadget, "bDeviceClass", "0xef") != 0 ||
			       set_attr(g->gadget, "bDeviceSubClass", "0x02") != 0 ||
			       set_attr(g->gadget, "bDeviceProtocol", "0x01") != 0
		       ? -1
		       : 0;
}

static int write_blob(int fd, const uint8_t *blob, size_t len, const char *what, const char *path)
{
	ssize_t w = write(fd, blob, len);
	if (w < 0)
		return err_set("%s: writing the FunctionFS %s: %s", path, what, strerror(errno));
	if ((size_t)w != len)
		return err_set("%s: the FunctionFS %s: %zd of %zu bytes taken", path, what, w, len);
	return 0;
}

/* Opens an endpoint file, which FunctionFS makes once the descriptors are written. */
static int open_endpoint(struct usb_gadget *g, const char *name, int flags)
{
	char path[USB_GADGET_PATH_MAX];
	if (path_join(path, g->ffs_mount, name) != 0)
		return -1;
	for (int waited = 0;; waited += 10) {
		int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			push_undo(g, UNDO_CLOSE, path, fd);
			return fd;
		}
		if (errno != ENOENT || waited >= EP_OPEN_WAIT_MS)
			return err_set("%s: %s", path, strerror(errno));
		timing_sleep_ms(10);
	}
}

/* Mounts FunctionFS, hands it the descriptors and strings, opens ep0, ep1 (IN), ep2 (OUT). */
static int functionfs_start(struct usb_gadget *g, int *ep0, int *ep_in, int *ep_out)
{
	if (mkdir(g->ffs_mount, 0755) == 0)
		push_undo(g, UNDO_RMDIR_PLAIN, g->ffs_mount, -1);
	else if (errno != EEXIST)
		return err_set("mkdir %s: %s", g->ffs_mount, strerror(errno));
	if (g->fs.mount(FFS_INSTANCE, g->ffs_mount, "functionfs") != 0)
		return err_set("mount functionfs %s on %s: %s", FFS_INSTANCE, g->ffs_mount,
			       strerror(errno));
	push_undo(g, UNDO_UMOUNT, g->ffs_mount, -1);
	char path[USB_GADGET_PATH_MAX];
	if (path_join(path, g->ffs_mount, "ep0") != 0)
		return -1;
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	push_undo(g, UNDO_CLOSE, path, fd);
	*ep0 = fd;
	uint8_t desc[USB_GADGET_DESCRIPTORS_SIZE], strings[USB_GADGET_STRINGS_SIZE];
	if (write_blob(fd, desc, usb_gadget_descriptors(desc), "descriptors", path) != 0 ||
	    write_blob(fd, strings, usb_gadget_strings(strings), "strings", path) != 0)
		return -1;
	/* an IN endpoint file must never be read (FunctionFS halts the endpoint), nor an OUT
	 * one written: open each one way */
	if ((*ep_in = open_endpoint(g, "ep1", O_WRONLY)) < 0 ||
	    (*ep_out = open_endpoint(g, "ep2", O_RDONLY)) < 0)
		return -1;
	return 0;
}

/* The UDC to bind: the named one, or the first by name. */
static int pick_udc(struct usb_gadget *g)
{
	char found[256] = "";
	if (g->udc[0]) {
		char path[USB_GADGET_PATH_MAX];
		struct stat st;
		if (path_join(path, g->udc_class, g->udc) != 0)
			return -1;
		if (lstat(path, &st) == 0)
			return 0;
	}
	DIR *d = opendir(g->udc_class);
	if (!d)
		return err_set("%s: %s (no USB device controller support in this kernel)", g->udc_class,
			       strerror(errno));
	struct dirent *e;
	char first[sizeof(g->udc)] = "";
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), n = strlen(found);
		if (e->d_name[0] == '.' || len >= sizeof(first))
			continue;
		if (!first[0] || strcmp(e->d_name, first) < 0)
			memcpy(first, e->d_name, len + 1);
		if (n + 2 + len < sizeof(found)) /* the list in the message may be cut */
			snprintf(found + n, sizeof(found) - n, "%s%.*s", n ? ", " : "", (int)len,
				 e->d_name);
	}
	closedir(d);
	if (g->udc[0])
		return err_set("no UDC %s in %s (there: %s)", g->udc, g->udc_class,
			       found[0] ? found : "none");
	if (!first[0])
		return err_set("no USB device controller in %s: its driver (tegra-xudc on a Jetson, "
			       "dummy_hcd in QEMU) is not loaded", g->udc_class);
	memcpy(g->udc, first, sizeof(first));
	return 0;
}

/* Binds to the UDC pick_udc chose (before the bridge's threads started: they read g->udc). */
static int bind_udc(struct usb_gadget *g)
{
	if (set_attr(g->gadget, "UDC", g->udc) != 0)
		return err_prefix("binding the USB gadget");
	g->bound = 1;
	push_undo(g, UNDO_UNBIND, g->udc, -1);
	say(g, "gadget %s (%04x:%04x, serial %s) on UDC %s", GADGET_NAME, g->o.vendor, g->o.product,
	    g->serial[0] ? g->serial : "none", g->udc);
	return 0;
}

/* ---- the bridge ------------------------------------------------------------------------------ */

/* Max packet of the IN endpoint at the speed the UDC runs at (64 when unknown: a spare
 * zero-length packet is harmless, a missing one stalls the host's read). */
static unsigned current_max_packet(const struct usb_gadget *g)
{
	char path[USB_GADGET_PATH_MAX], speed[32] = "";
	if (!g->udc[0] || snprintf(path, sizeof(path), "%s/%s/current_speed", g->udc_class,
				   g->udc) >= (int)sizeof(path))
		return 64;
	FILE *f = fopen(path, "re");
	if (!f)
		return 64;
	if (!fgets(speed, sizeof(speed), f))
		speed[0] = '\0';
	fclose(f);
	if (strncmp(speed, "super-speed", 11) == 0)
		return 1024;
	if (strncmp(speed, "high-speed", 10) == 0)
		return 512;
	return 64;
}

/* The reader's session ends: its socket is closed (the link client reads EOF). Reader only,
 * under the lock. */
static void end_session(struct usb_gadget *g)
{
	if (g->session_w >= 0)
		close(g->session_w);
	g->session_w = -1;
}

/* A session started by usb_gadget_connect() replaces the reader's. Reader only, under lock. */
static void take_pending(struct usb_gadget *g)
{
	if (g->pending_w < 0)
		return;
	end_session(g);
	g->session_w = g->pending_w;
	g->session_epoch = g->pending_epoch;
	g->pending_w = -1;
}

/*
 * EAGAIN from the OUT endpoint: FunctionFS says so when the function is disabled (ep0's DISABLE
 * is on its way and ends the session); a stand-in endpoint that can be polled (tests) when
 * nothing has arrived. FunctionFS endpoints always poll ready: after one quick retry, pause.
 */
static void wait_out(struct usb_gadget *g, unsigned *retries)
{
	struct pollfd p = { .fd = g->ep_out, .events = POLLIN };
	if (poll(&p, 1, 100) > 0 && (*retries)++ > 0)
		timing_sleep_ms(10);
}

/* Copies the OUT endpoint into the current session while the host has the function enabled. */
static void *reader_main(void *arg)
{
	struct usb_gadget *g = arg;
	unsigned retries = 0;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		take_pending(g);
		if (g->stopping)
			break;
		if (g->session_w >= 0 && g->session_epoch != g->epoch)
			end_session(g); /* the host went away since it started */
		if (g->session_w < 0 || !g->enabled) {
			pthread_cond_wait(&g->changed, &g->lock);
			continue;
		}
		pthread_mutex_unlock(&g->lock);
		ssize_t n = read(g->ep_out, g->buf, sizeof(g->buf));
		int e = errno;
		pthread_mutex_lock(&g->lock);
		take_pending(g); /* what arrives after a new session started belongs to it */
		if (n < 0 && e == EAGAIN) {
			pthread_mutex_unlock(&g->lock);
			wait_out(g, &retries);
			pthread_mutex_lock(&g->lock);
		} else if (n < 0 && e != EINTR) {
			/* ESHUTDOWN, ECONNRESET: the host went away in the middle of a transfer */
			if (g->session_w >= 0 && !g->stopping)
				say(g, "OUT endpoint: %s: the session ends", strerror(e));
			end_session(g);
		} else if (n > 0 && g->session_w >= 0 && g->session_epoch == g->epoch) {
			retries = 0;
			int w = g->session_w; /* only this thread closes it */
			pthread_mutex_unlock(&g->lock);
			int rc = link_write_all(w, 1, g->buf, (size_t)n);
			pthread_mutex_lock(&g->lock);
			if (rc != 0 && g->session_w == w)
				end_session(g); /* the client closed its end */
		}
		/* n == 0: a zero-length packet, nothing to pass on */
	}
	end_session(g);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* The host is gone: the session's reader sees EOF now, even if the OUT read is still blocked. */
static void host_gone(struct usb_gadget *g, const char *why)
{
	pthread_mutex_lock(&g->lock);
	int was = g->enabled;
	if (was) {
		g->enabled = 0;
		g->epoch++;
	}
	if (g->session_w >= 0)
		shutdown(g->session_w, SHUT_RDWR);
	if (g->pending_w >= 0)
		close(g->pending_w);
	g->pending_w = -1;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	if (was)
		say(g, "host went away (%s)", why);
}

static void handle_event(struct usb_gadget *g, const uint8_t *ev)
{
	switch (ev[8]) {
	case EV_ENABLE: {
		unsigned mp = current_max_packet(g);
		pthread_mutex_lock(&g->lock);
		g->enabled = 1;
		g->epoch++;
		g->enables++;
		g->max_packet = mp;
		pthread_cond_broadcast(&g->changed);
		pthread_mutex_unlock(&g->lock);
		say(g, "host enabled the link interface (max packet %u)", mp);
		break;
	}
	case EV_DISABLE:
		host_gone(g, "DISABLE");
		break;
	case EV_UNBIND:
		host_gone(g, "UNBIND");
		break;
	case EV_SETUP:
		/* no class or vendor requests are defined: stall by answering in the wrong
		 * direction (a read for an IN request, a write for an OUT one) */
		if (ev[0] & USB_DIR_IN_) {
			if (read(g->ep0, NULL, 0) < 0 && errno != EL2HLT)
				say(g, "stalling control request 0x%02x: %s", ev[1], strerror(errno));
		} else if (write(g->ep0, NULL, 0) < 0 && errno != EL2HLT) {
			say(g, "stalling control request 0x%02x: %s", ev[1], strerror(errno));
		}
		break;
	default: /* BIND, SUSPEND, RESUME: nothing to do */
		break;
	}
}

/* Reads FunctionFS events from ep0 (which, unlike the endpoints, can be polled). */
static void *events_main(void *arg)
{
	struct usb_gadget *g = arg;
	const char *why = "";
	for (;;) {
		struct pollfd p[2] = { { .fd = g->ep0, .events = POLLIN },
				       { .fd = g->wake[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			why = strerror(errno);
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		uint8_t ev[4 * FFS_EVENT_SIZE];
		ssize_t n = read(g->ep0, ev, sizeof(ev));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			why = n == 0 ? "ep0 closed" : strerror(errno);
			break;
		}
		for (size_t at = 0; at + FFS_EVENT_SIZE <= (size_t)n; at += FFS_EVENT_SIZE)
			handle_event(g, ev + at);
	}
	pthread_mutex_lock(&g->lock);
	int stopping = g->stopping;
	g->events_dead = 1;
	pthread_mutex_unlock(&g->lock);
	if (!stopping)
		say(g, "ep0 events end: %s", why);
	host_gone(g, "ep0 events ended");
	return NULL;
}

/* ---- writes the host does not take ------------------------------------------------------------ */

/*
 * FunctionFS waits for an IN transfer to complete interruptibly: a signal dequeues the request
 * and write() returns EINTR. The handler does nothing; it must only exist, without SA_RESTART.
 */
#define WRITE_SIGNAL SIGUSR2

static void write_signal_handler(int sig)
{
	(void)sig;
}

/* Interrupts a write that has passed its deadline, and again every 50 ms until it is out:
 * a signal that lands just before the writer blocks is spent on nothing. */
static void *watch_main(void *arg)
{
	struct usb_gadget *g = arg;
	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		if (!g->writing) {
			pthread_cond_wait(&g->changed, &g->lock);
			continue;
		}
		uint64_t now = timing_now_ms(), until = g->write_deadline_ms;
		if (now >= until) {
			g->write_timed_out = 1;
			pthread_kill(g->writer, WRITE_SIGNAL);
			until = now + 50;
		}
		struct timespec ts = timing_timespec_at(until);
		pthread_cond_timedwait(&g->changed, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

static void stop_threads(struct usb_gadget *g)
{
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	if (g->session_w >= 0)
		shutdown(g->session_w, SHUT_RDWR); /* a reader blocked on the client returns */
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	if (write(g->wake[1], "x", 1) < 0)
		say(g, "waking the ep0 thread: %s", strerror(errno));
	pthread_join(g->events_thread, NULL);
	/* the OUT reader returns once the endpoint is disabled (unbind comes first) */
	pthread_join(g->reader_thread, NULL);
	pthread_join(g->watch_thread, NULL);
	pthread_mutex_lock(&g->lock);
	if (g->pending_w >= 0)
		close(g->pending_w);
	g->pending_w = -1;
	pthread_mutex_unlock(&g->lock);
	g->threads = 0;
}

static int bridge_start(struct usb_gadget *g, int ep0, int ep_in, int ep_out)
{
	g->ep0 = ep0;
	g->ep_in = ep_in;
	g->ep_out = ep_out;
	if (pipe2(g->wake, O_CLOEXEC) != 0)
		return err_set("pipe: %s", strerror(errno));
	push_undo(g, UNDO_CLOSE, "wake", g->wake[0]);
	push_undo(g, UNDO_CLOSE, "wake", g->wake[1]);
	struct sigaction sa = { .sa_handler = write_signal_handler }; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	if (sigaction(WRITE_SIGNAL, &sa, NULL) != 0)
		return err_set("sigaction: %s", strerror(errno));
	if (pthread_create(&g->watch_thread, NULL, watch_main, g) != 0)
		return err_set("cannot start the USB write watch thread");
	int started = pthread_create(&g->events_thread, NULL, events_main, g) == 0;
	if (!started || pthread_create(&g->reader_thread, NULL, reader_main, g) != 0) {
		pthread_mutex_lock(&g->lock);
		g->stopping = 1;
		pthread_cond_broadcast(&g->changed);
		pthread_mutex_unlock(&g->lock);
		if (started && write(g->wake[1], "x", 1) < 0)
			say(g, "waking the ep0 thread: %s", strerror(errno));
		if (started)
			pthread_join(g->events_thread, NULL);
		pthread_join(g->watch_thread, NULL);
		return err_set("cannot start the USB %s thread", started ? "OUT" : "ep0");
	}
	g->threads = 1;
	push_undo(g, UNDO_THREADS, NULL, -1);
	return 0;
}

/* ---- public ---------------------------------------------------------------------------------- */

/* Undoes what an open did before it failed, keeping the failure's message; -1. */
static int close_failed(struct usb_gadget *g)
{
	char why[ERR_MSG_MAX];
	snprintf(why, sizeof(why), "%s", err_msg());
	usb_gadget_close(g);
	return err_set("%s", why);
}

int usb_gadget_open(struct usb_gadget *g, const struct usb_gadget_opts *o)
{
	int ep0 = -1, ep_in = -1, ep_out = -1;
	int rc = gadget_init(g, o);
	if (rc == 0)
		rc = configfs_build(g);
	if (rc == 0 && pick_udc(g) != 0)
		rc = err_prefix("binding the USB gadget");
	if (rc == 0)
		rc = functionfs_start(g, &ep0, &ep_in, &ep_out);
	if (rc == 0)
		rc = bridge_start(g, ep0, ep_in, ep_out);
	if (rc == 0)
		rc = bind_udc(g);
	return rc == 0 ? 0 : close_failed(g);
}

int usb_gadget_start_bridge(struct usb_gadget *g, const struct usb_gadget_opts *o, int ep0,
			    int ep_in, int ep_out)
{
	int rc = gadget_init(g, o);
	if (rc == 0) {
		push_undo(g, UNDO_CLOSE, "ep0", ep0);
		push_undo(g, UNDO_CLOSE, "ep1", ep_in);
		push_undo(g, UNDO_CLOSE, "ep2", ep_out);
		rc = bridge_start(g, ep0, ep_in, ep_out);
	}
	return rc == 0 ? 0 : close_failed(g);
}

int usb_gadget_connect(struct usb_gadget *g, unsigned timeout_ms, int *rfd, int *wfd)
{
	struct timespec deadline = timing_timespec_in(timeout_ms);
	pthread_mutex_lock(&g->lock);
	while (!g->enabled && !g->events_dead && !g->stopping)
		if (pthread_cond_timedwait(&g->changed, &g->lock, &deadline) == ETIMEDOUT)
			break;
	if (!g->enabled || g->stopping) {
		int dead = g->events_dead;
		pthread_mutex_unlock(&g->lock);
		return dead ? err_set("USB gadget: its ep0 event stream ended")
			    : err_set("no USB host has enabled the selfflash interface (waited %u ms)",
				      timeout_ms);
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		int e = errno;
		pthread_mutex_unlock(&g->lock);
		return err_set("socketpair: %s", strerror(e));
	}
	if (g->pending_w >= 0)
		close(g->pending_w);
	g->pending_w = sv[1];
	g->pending_epoch = g->epoch;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	*rfd = sv[0];
	*wfd = g->ep_in;
	return 0;
}

static int write_in(struct usb_gadget *g, const void *p, size_t n)
{
	pthread_mutex_lock(&g->lock);
	g->writer = pthread_self();
	g->write_deadline_ms = timing_now_ms() + g->o.write_timeout_ms;
	g->write_timed_out = 0;
	g->writing = g->o.write_timeout_ms != 0;
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
	ssize_t w;
	int e, timed_out;
	for (;;) {
		w = write(g->ep_in, p, n);
		e = errno;
		pthread_mutex_lock(&g->lock);
		timed_out = g->write_timed_out;
		if (!(w < 0 && e == EINTR) || timed_out)
			g->writing = 0;
		pthread_mutex_unlock(&g->lock);
		if (!(w < 0 && e == EINTR) || timed_out)
			break;
	}
	errno = e;
	if (w < 0 && timed_out)
		return err_set("USB host has read nothing for %u ms; is hostload stopped?",
			       g->o.write_timeout_ms);
	if (w < 0 && errno == EAGAIN)
		return err_set("USB host is not connected (link interface disabled)");
	if (w < 0)
		return err_set("USB IN endpoint: %s", strerror(errno));
	if ((size_t)w != n)
		return err_set("USB IN endpoint took %zd of %zu bytes", w, n);
	return 0;
}

int usb_gadget_write(struct usb_gadget *g, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	pthread_mutex_lock(&g->lock);
	unsigned mp = g->max_packet;
	pthread_mutex_unlock(&g->lock);
	if (write_in(g, p, n) != 0)
		return -1;
	/* a transfer ends on a short packet: a multiple of the max packet needs a zero-length
	 * one, or the host's read waits for the next frame */
	return n % mp == 0 ? write_in(g, "", 0) : 0;
}

void usb_gadget_unbind(struct usb_gadget *g)
{
	if (!g->bound)
		return;
	g->bound = 0;
	char path[USB_GADGET_PATH_MAX];
	if (path_join(path, g->gadget, "UDC") != 0)
		return;
	int e = write_file(path, "\n"); /* an empty write never reaches configfs */
	if (e)
		say(g, "unbinding %s: %s", path, strerror(e));
	else
		say(g, "gadget unbound from UDC %s", g->udc);
}

void usb_gadget_close(struct usb_gadget *g)
{
	if (!g->initialised)
		return;
	while (g->nundo) {
		struct usb_gadget_undo *u = &g->undo[--g->nundo];
		const char *what = NULL;
		int failed = 0;
		switch (u->kind) {
		case UNDO_UNBIND:
			usb_gadget_unbind(g);
			break;
		case UNDO_THREADS:
			if (g->threads)
				stop_threads(g);
			break;
		case UNDO_CLOSE:
			close(u->fd);
			break;
		case UNDO_UMOUNT:
			what = "umount";
			failed = g->fs.umount(u->path) != 0;
			break;
		case UNDO_RMDIR:
			what = "rmdir";
			failed = g->fs.rmdir(u->path) != 0;
			break;
		case UNDO_RMDIR_PLAIN:
			what = "rmdir";
			failed = rmdir(u->path) != 0;
			break;
		case UNDO_UNLINK:
			what = "unlink";
			failed = unlink(u->path) != 0;
			break;
		default:
			break;
		}
		if (failed)
			say(g, "teardown: %s %s: %s", what, u->path, strerror(errno));
	}
	g->ep0 = g->ep_in = g->ep_out = -1;
	pthread_cond_destroy(&g->changed);
	pthread_mutex_destroy(&g->lock);
	g->initialised = 0;
}
