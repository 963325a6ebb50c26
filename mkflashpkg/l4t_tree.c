/* SPDX-License-Identifier: MIT */
/* Finding selfflash's inputs in a Linux_for_Tegra tree, release by release. */
#include "l4t_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"

/*
 * Where each release puts things. Sources (read at the release named):
 * - tools/kernel_flash/l4t_create_images_for_kernel_flash.sh (R35.3.1): copies
 *   bootloader/signed/flash.idx to tools/kernel_flash/images/{internal,external}/flash.idx
 *   with the images it names, the rootfs as a tar called system.img, and flash.cfg
 *   ("external_device=...").
 * - tools/kernel_flash/README_initrd_flash.txt (R35.3.1), workflows 4 and 5: the commands.
 * - the RCM bundle: R36.4 bootloader/rcmboot_blob/rcmbootcmd.txt, R36.3 bootloader/rcm_blob/rcmcmd.txt
 *   (tegraflash.py runs in bootloader/; OE4T meta-tegra commits 29efc2db, a54fed34),
 *   none offline before (DESIGN.md section 12).
 * - the BCT copies: l4t_flash_from_kernel.sh writes one per QSPI erase block in R35.3.1
 *   (BRBCT_SLOT_SIZE from `mtd_debug info`; qspi_mtd.c sets erasesize to the flash's 64 KiB
 *   sector) and one per 16 KiB from R36.2 (DESIGN.md section 12).
 */
struct release_facts {
	unsigned branch;
	unsigned min_major; /* first minor release these facts hold for */
	const char *qspi_xml;
	const char *nvme_ab_xml;
	const char *bundle_dir, *bundle_cmd; /* NULL: none is made offline */
	const char *bundle_how;              /* what makes one; NULL: a live rcmboot (below) */
	unsigned bct_stride;
};

static const struct release_facts releases[] = {
	{ 35, 0, "bootloader/t186ref/cfg/flash_t234_qspi.xml",
	  "tools/kernel_flash/flash_l4t_nvme_rootfs_ab.xml", NULL, NULL, NULL, 65536 },
	{ 36, 0, "bootloader/generic/cfg/flash_t234_qspi.xml",
	  "tools/kernel_flash/flash_l4t_t234_nvme_rootfs_ab.xml", NULL, NULL, NULL, 16384 },
	{ 36, 3, "bootloader/generic/cfg/flash_t234_qspi.xml",
	  "tools/kernel_flash/flash_l4t_t234_nvme_rootfs_ab.xml", "bootloader/rcm_blob", "rcmcmd.txt",
	  "the l4t_initrd_flash.sh --no-flash run below makes it", 16384 },
	{ 36, 4, "bootloader/generic/cfg/flash_t234_qspi.xml",
	  "tools/kernel_flash/flash_l4t_t234_nvme_rootfs_ab.xml", "bootloader/rcmboot_blob",
	  "rcmbootcmd.txt", "the l4t_initrd_flash.sh --no-flash run below makes it", 16384 },
};

static const struct release_facts *facts_for(const struct l4t_release *r)
{
	const struct release_facts *best = NULL;
	for (size_t i = 0; i < sizeof(releases) / sizeof(releases[0]); i++)
		if (releases[i].branch == r->branch && releases[i].min_major <= r->major)
			best = &releases[i];
	return best;
}

void l4t_release_name(const struct l4t_release *r, char *out, size_t size)
{
	snprintf(out, size, "R%u.%u.%u", r->branch, r->major, r->minor);
}

static int join(char *out, const char *dir, const char *rel)
{
	int n = snprintf(out, L4T_PATH_MAX, "%s/%s", dir, rel);
	return n > 0 && n < L4T_PATH_MAX ? 0 : err_set("%s/%s: path too long", dir, rel);
}

static int is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The files tegraflash's rcmboot sends on a T234 when no command file was kept (an R35 or
 * R36.2 live run leaves blob.bin with these names: Linux_for_Tegra R35.3.1
 * bootloader/tegraflash_impl_t234.py rcmboot), in tegrarcm_v2's two sessions.
 */
static const char *const t234_defaults[][2] = {
	{ "bct_br", "br_bct_BR.bct" },
	{ "mb1", "mb1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "psc_bl1", "psc_bl1_t234_prod_aligned_sigheader.bin.encrypt" },
	{ "bct_mb1", "mb1_bct_MB1_sigheader.bct.encrypt" },
	{ "bct_mem", "mem_rcm_sigheader.bct.encrypt" },
	{ "blob", "blob.bin" },
};
#define T234_DEFAULTS (sizeof(t234_defaults) / sizeof(t234_defaults[0]))

const char *const (*l4t_rcm_default_names(size_t *count))[2]
{
	*count = T234_DEFAULTS;
	return t234_defaults;
}

int l4t_bundle_defaults_present(const char *dir)
{
	for (size_t i = 0; i < T234_DEFAULTS; i++) {
		char path[4200];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, t234_defaults[i][1]);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			return 0;
	}
	return 1;
}

unsigned l4t_bct_stride(const struct l4t_release *r)
{
	const struct release_facts *f = facts_for(r);
	return f ? f->bct_stride : 16384;
}

int l4t_tree_set_bundle(struct l4t_tree *t, const char *dir)
{
	static const char *const names[] = { "rcmbootcmd.txt", "rcmcmd.txt" };
	if (strlen(dir) >= L4T_PATH_MAX - 32)
		return err_set("%s: path too long", dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char cmd[L4T_PATH_MAX];
		if (join(cmd, dir, names[i]) == 0 && is_file(cmd)) {
			strcpy(t->bundle_dir, dir);
			strcpy(t->bundle_cmd, cmd);
			return 0;
		}
	}
	if (l4t_bundle_defaults_present(dir)) {
		/* a live rcmboot's directory (R35, R36.2): NVIDIA's default names, no command file */
		strcpy(t->bundle_dir, dir);
		t->bundle_cmd[0] = '\0';
		return 0;
	}
	return err_set("--bundle %s: no rcmbootcmd.txt or rcmcmd.txt in it, nor the files of an "
		       "rcmboot under NVIDIA's names (br_bct_BR.bct ... blob.bin)", dir);
}

/* The value of `key=` in a small shell-variable file (bsp_version, flash.cfg); "" if absent. */
static void shell_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		const char *v = p + klen + 1;
		size_t n = strcspn(v, "\n\r");
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v++;
			n -= 2;
		}
		if (n < size) {
			memcpy(out, v, n);
			out[n] = '\0';
		}
		return;
	}
}

static int parse_unsigned(const char *s, unsigned *v)
{
	char *end;
	if (!*s || *s < '0' || *s > '9')
		return -1;
	unsigned long x = strtoul(s, &end, 10);
	if (*end || x > 1000)
		return -1;
	*v = (unsigned)x;
	return 0;
}

/*
 * nv_tegra/bsp_version: BSP_BRANCH=35 BSP_MAJOR=3 BSP_MINOR=1 (R35.3.1 tree);
 * rootfs/etc/nv_tegra_release: "# R35 (release), REVISION: 3.1, GCID: ..." (R35.3.1 tree).
 */
static void read_release(struct l4t_tree *t)
{
	char path[L4T_PATH_MAX];
	size_t len;
	char *text = NULL;
	if (join(path, t->dir, "nv_tegra/bsp_version") == 0 && is_file(path) &&
	    (text = read_small_file(path, 1u << 16, &len))) {
		char b[16], ma[16], mi[16];
		shell_value(text, "BSP_BRANCH", b, sizeof(b));
		shell_value(text, "BSP_MAJOR", ma, sizeof(ma));
		shell_value(text, "BSP_MINOR", mi, sizeof(mi));
		free(text);
		if (parse_unsigned(b, &t->rel.branch) == 0 && parse_unsigned(ma, &t->rel.major) == 0 &&
		    parse_unsigned(mi, &t->rel.minor) == 0) {
			snprintf(t->rel.origin, sizeof(t->rel.origin), "nv_tegra/bsp_version");
			t->has_release = 1;
			return;
		}
	}
	if (join(path, t->dir, "rootfs/etc/nv_tegra_release") == 0 && is_file(path) &&
	    (text = read_small_file(path, 1u << 16, &len))) {
		unsigned b, ma, mi;
		if (sscanf(text, "# R%u (release), REVISION: %u.%u", &b, &ma, &mi) == 3 && b < 1000 &&
		    ma < 1000 && mi < 1000) {
			t->rel = (struct l4t_release){ b, ma, mi, "rootfs/etc/nv_tegra_release" };
			t->has_release = 1;
		}
		free(text);
	}
}

int l4t_kernel_version(const char *image, char *out, size_t size)
{
	static const char banner[] = "Linux version ";
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", image, strerror(errno));
	/* read in pieces that overlap by the banner and a version's length */
	static char buf[(1u << 20) + 256];
	size_t keep = 0;
	int rc = err_set("%s: no \"Linux version\" banner (is it an arm64 kernel Image?)", image);
	for (;;) {
		ssize_t n = read(fd, buf + keep, sizeof(buf) - 1 - keep);
		if (n <= 0)
			break;
		size_t have = keep + (size_t)n;
		buf[have] = '\0';
		for (size_t i = 0; i + sizeof(banner) - 1 < have; i++) {
			if (memcmp(buf + i, banner, sizeof(banner) - 1) != 0)
				continue;
			const char *v = buf + i + sizeof(banner) - 1;
			size_t vlen = strcspn(v, " ");
			/* it names a directory under rootfs/lib/modules: a release string only */
			if (vlen == 0 || vlen >= size || v + vlen >= buf + have ||
			    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      ".+_-") < vlen)
				continue;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			rc = 0;
			break;
		}
		if (rc == 0)
			break;
		keep = have < 200 ? have : 200;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	return rc;
}

/* rootfs/lib/modules/KVER, or the only directory there when the banner is unreadable */
static void find_modules(struct l4t_tree *t)
{
	char base[L4T_PATH_MAX], path[L4T_PATH_MAX];
	if (join(base, t->dir, "rootfs/lib/modules") != 0 || !is_dir(base))
		return;
	if (t->kernel_version[0]) {
		if (join(path, base, t->kernel_version) == 0 && is_dir(path))
			strcpy(t->module_dir, path);
		return;
	}
	DIR *d = opendir(base);
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || join(path, base, e->d_name) != 0 || !is_dir(path))
			continue;
		if (found++ == 0)
			strcpy(t->module_dir, path);
	}
	if (d)
		closedir(d);
	if (found != 1)
		t->module_dir[0] = '\0';
}

int l4t_tree_scan(const char *dir, struct l4t_tree *t)
{
	memset(t, 0, sizeof(*t));
	if (strlen(dir) >= sizeof(t->dir) - 128)
		return err_set("%s: path too long", dir);
	strcpy(t->dir, dir);
	char path[L4T_PATH_MAX];
	if (join(path, dir, "bootloader") != 0 || !is_dir(path))
		return err_set("%s is not a Linux_for_Tegra directory (it has no bootloader/)", dir);
	read_release(t);
	if (join(path, dir, "tools/kernel_flash/images/internal/flash.idx") == 0 && is_file(path))
		strcpy(t->internal_idx, path);
	if (join(path, dir, "tools/kernel_flash/images/external/flash.idx") == 0 && is_file(path))
		strcpy(t->external_idx, path);
	if (t->external_idx[0] &&
	    join(path, dir, "tools/kernel_flash/images/external/flash.cfg") == 0 && is_file(path)) {
		size_t len;
		char *text = read_small_file(path, 1u << 16, &len);
		if (text) {
			shell_value(text, "external_device", t->external_device,
				    sizeof(t->external_device));
			shell_value(text, "APP_ext", t->app_file, sizeof(t->app_file));
			shell_value(text, "APP_b_ext", t->app_b_file, sizeof(t->app_b_file));
			free(text);
		}
	}
	/* flash.sh appends "TNSPEC BOARDID-FAB-BOARDSKU-BOARDREV-1-CHIPREV-BOARD-" for the
	 * board it signed for (Linux_for_Tegra R35.3.1 flash.sh, near line 3351) */
	if (join(path, dir, "rootfs/etc/nv_boot_control.conf") == 0 && is_file(path)) {
		size_t len;
		char *text = read_small_file(path, 1u << 16, &len);
		const char *p = text ? strstr(text, "TNSPEC ") : NULL;
		if (p && (p == text || p[-1] == '\n'))
			snprintf(t->tnspec, sizeof(t->tnspec), "%.*s", (int)strcspn(p + 7, "\r\n"),
				 p + 7);
		free(text);
	}
	if (join(path, dir, "kernel/Image") == 0 && is_file(path)) {
		strcpy(t->kernel, path);
		if (l4t_kernel_version(path, t->kernel_version, sizeof(t->kernel_version)) != 0)
			t->kernel_version[0] = '\0';
	}
	find_modules(t);
	const struct release_facts *f = t->has_release ? facts_for(&t->rel) : NULL;
	if (f && f->bundle_dir && join(path, dir, f->bundle_dir) == 0 && is_dir(path)) {
		char cmd[L4T_PATH_MAX];
		if (join(cmd, path, f->bundle_cmd) == 0 && is_file(cmd)) {
			strcpy(t->bundle_dir, path);
			strcpy(t->bundle_cmd, cmd);
		}
	}
	return 0;
}

/* path shown relative to the tree */
static const char *rel(const struct l4t_tree *t, const char *path)
{
	size_t n = strlen(t->dir);
	return strncmp(path, t->dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

/* The line that makes the signed images, both indexes and the rootfs tar, A/B (ROOTFS_AB=1
 * is mandatory for A/B: DESIGN.md section 12). README_initrd_flash.txt (R35.3.1) workflows
 * 4 and 5; --no-flash stops before the board is touched. */
static void print_make_images(FILE *out, const struct release_facts *f, const char *board)
{
	fprintf(out,
		"    cd %s  # the Linux_for_Tegra directory, on an x86_64 host, once\n"
		"    sudo ./apply_binaries.sh\n"
		"    sudo ROOTFS_AB=1 ./tools/kernel_flash/l4t_initrd_flash.sh --no-flash \\\n"
		"        --external-device nvme0n1p1 -c %s \\\n"
		"        -p \"-c %s\" %s external\n"
		"    (board not connected: put BOARDID=3701 BOARDSKU=0005 FAB=300 BOARDREV=... CHIP_SKU=...\n"
		"     for your module before ROOTFS_AB=1, as README_initrd_flash.txt shows)\n",
		"Linux_for_Tegra", f->nvme_ab_xml, f->qspi_xml, board);
}

int l4t_tree_report(FILE *out, const struct l4t_tree *t, const char *board, int need_bundle)
{
	static const struct release_facts r36_4 = { 36, 4, "bootloader/generic/cfg/flash_t234_qspi.xml",
		"tools/kernel_flash/flash_l4t_t234_nvme_rootfs_ab.xml", NULL, NULL, NULL, 16384 };
	const struct release_facts *f = t->has_release ? facts_for(&t->rel) : NULL;
	int missing = 0, images_missing = 0;
	char name[32] = "unknown release";
	if (t->has_release)
		l4t_release_name(&t->rel, name, sizeof(name));
	fprintf(out, "Linux_for_Tegra  %s\n", t->dir);
	if (!t->has_release) {
		fprintf(out, "  release        MISSING: neither nv_tegra/bsp_version nor "
			     "rootfs/etc/nv_tegra_release gives it\n");
		missing++;
	} else if (!f) {
		fprintf(out, "  release        %s (%s): not a release selfflash knows (R35, R36)\n",
			name, t->rel.origin);
		missing++;
	} else {
		fprintf(out, "  release        %s (from %s)\n", name, t->rel.origin);
	}
	if (t->internal_idx[0])
		fprintf(out, "  QSPI index     %s\n", rel(t, t->internal_idx));
	else
		fprintf(out, "  QSPI index     MISSING: tools/kernel_flash/images/internal/flash.idx\n");
	if (t->external_idx[0])
		fprintf(out, "  disk index     %s (external device %s)\n", rel(t, t->external_idx),
			t->external_device[0] ? t->external_device : "not named in flash.cfg");
	else
		fprintf(out, "  disk index     MISSING: tools/kernel_flash/images/external/flash.idx\n");
	images_missing = !t->internal_idx[0] || !t->external_idx[0];
	missing += images_missing;
	if (t->kernel[0])
		fprintf(out, "  kernel         %s (Linux %s)\n", rel(t, t->kernel),
			t->kernel_version[0] ? t->kernel_version : "version unreadable");
	else
		fprintf(out, "  kernel         MISSING: kernel/Image\n");
	if (t->module_dir[0])
		fprintf(out, "  modules        %s\n", rel(t, t->module_dir));
	else
		fprintf(out, "  modules        MISSING: rootfs/lib/modules/%s (run sudo ./apply_binaries.sh, "
			     "which installs the kernel's modules into rootfs/)\n",
			t->kernel_version[0] ? t->kernel_version : "KVER");
	missing += !t->kernel[0] + !t->module_dir[0];
	if (!need_bundle && !t->bundle_dir[0])
		fprintf(out, "  RCM bundle     none (not needed: the board is booted otherwise)\n");
	else if (t->bundle_dir[0])
		fprintf(out, "  RCM bundle     %s (%s)\n", rel(t, t->bundle_dir),
			t->bundle_cmd[0] ? rel(t, t->bundle_cmd) : "NVIDIA's default names");
	else if (f && !f->bundle_dir)
		fprintf(out, "  RCM bundle     none: %s makes none offline (--bundle DIR, see below)\n",
			name);
	else
		fprintf(out, "  RCM bundle     MISSING: %s/%s (%s)\n", f ? f->bundle_dir : "?",
			f ? f->bundle_cmd : "?", f ? f->bundle_how : "");
	if (need_bundle && !t->bundle_dir[0])
		missing++;
	if (need_bundle && !t->bundle_dir[0] && f && !f->bundle_dir)
		/* l4t_initrd_flash_internal.sh boot_initrd (R35.3.1) runs tegraflash.py rcmboot in
		 * bootloader/, which leaves blob.bin and the signed boot files there */
		fprintf(out, "\nTo make an RCM bundle in %s (board in recovery mode, once):\n"
			     "    sudo ./flash.sh --rcm-boot %s mmcblk0p1\n"
			     "  then power the board back into recovery mode and give\n"
			     "  --bundle Linux_for_Tegra/bootloader (or --no-bundle to boot it otherwise)\n",
			name, board);
	if (images_missing || (need_bundle && !t->bundle_dir[0] && f && f->bundle_dir)) {
		fprintf(out, "\nTo make the signed images and both indexes (NVIDIA's tools, %s):\n", name);
		print_make_images(out, f ? f : &r36_4, board);
	}
	return missing;
}
