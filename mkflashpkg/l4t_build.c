/* SPDX-License-Identifier: MIT */
/* The steps of `mkflashpkg l4t` between finding the tree and building: one layout from two
 * indexes, the board the images are for, and the flasher's modules and settings. */
#include "l4t.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "io.h"
#include "kmods.h"

static int load_idx(const char *path, struct layout *l)
{
	size_t len;
	char *text = read_small_file(path, 16u << 20, &len);
	if (!text)
		return -1;
	int rc = layout_from_flash_idx(text, len, l);
	free(text);
	return rc ? err_prefix("%s", path) : 0;
}

int l4t_merge_layouts(const struct l4t_tree *t, struct layout *out)
{
	struct layout ext;
	if (load_idx(t->internal_idx, out) != 0)
		return -1;
	if (load_idx(t->external_idx, &ext) != 0) {
		layout_free(out);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < ext.ndev; i++) {
		for (size_t j = 0; j < out->ndev; j++)
			if (strcmp(out->dev[j].type, ext.dev[i].type) == 0 &&
			    out->dev[j].instance == ext.dev[i].instance)
				rc = err_set("%s and %s both describe device %s:%u", t->internal_idx,
					     t->external_idx, ext.dev[i].type, ext.dev[i].instance);
		if (rc == 0 && (out->ndev == LAYOUT_MAX_DEVICES ||
				out->nparts + ext.dev[i].count > LAYOUT_MAX_PARTS))
			rc = err_set("the two indexes hold more than %d devices or %d partitions",
				     LAYOUT_MAX_DEVICES, LAYOUT_MAX_PARTS);
		if (rc != 0)
			break;
		struct layout_device *d = &out->dev[out->ndev++];
		*d = ext.dev[i];
		d->first = out->nparts;
		memcpy(&out->parts[out->nparts], &ext.parts[ext.dev[i].first],
		       ext.dev[i].count * sizeof(*out->parts));
		out->nparts += ext.dev[i].count;
	}
	layout_free(&ext);
	if (rc != 0)
		layout_free(out);
	return rc;
}

/* "3701-0005" at s (4 digits, '-', 4 digits, not part of a longer number) */
static int board_pair_at(const char *s)
{
	for (int i = 0; i < 9; i++)
		if (i == 4 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return 0;
	return !isdigit((unsigned char)s[9]);
}

/* TNSPEC "3701-300-0005-G.0-1-2-jetson-agx-orin-devkit-": BOARDID-FAB-BOARDSKU-... */
static int board_from_tnspec(const char *spec, char board[8], char sku[8])
{
	if (!board_pair_at(spec) && !(strlen(spec) > 9 && isdigit((unsigned char)spec[0])))
		return -1;
	const char *fab = strchr(spec, '-');
	const char *s = fab ? strchr(fab + 1, '-') : NULL;
	if (!fab || fab - spec != 4 || !s || strspn(s + 1, "0123456789") != 4)
		return -1;
	snprintf(board, 8, "%.4s", spec);
	snprintf(sku, 8, "%.4s", s + 1);
	return 0;
}

/*
 * The module the images are for. flash.sh writes TNSPEC (board, FAB, SKU, ...) into the
 * rootfs it signs for: board and SKU. Without it, NVIDIA's board-specific file names tell the
 * module family only: the kernel DTB "kernel_tegra234-p3701-0000-p3737-0000.dtb", the BPMP DTB
 * "tegra234-bpmp-3701-0000-3737-0000...": one DTB serves several SKUs (p3701.conf.common,
 * R35.3.1), so the SKU is left open.
 */
int l4t_board_of(const struct l4t_tree *t, const struct layout *l, char board[8], char sku[8],
		 const char **origin)
{
	board[0] = sku[0] = '\0';
	if (t->tnspec[0] && board_from_tnspec(t->tnspec, board, sku) == 0) {
		*origin = "TNSPEC in rootfs/etc/nv_boot_control.conf";
		return 0;
	}
	*origin = "NVIDIA's DTB file names";
	for (size_t i = 0; i < l->nparts; i++) {
		const char *f = strstr(l->parts[i].filename, "tegra234-");
		if (!f)
			continue;
		f += strlen("tegra234-");
		if (strncmp(f, "bpmp-", 5) == 0)
			f += 5;
		if (*f == 'p')
			f++;
		if (!board_pair_at(f))
			continue;
		if (board[0] && strncmp(board, f, 4) != 0)
			return err_set("the images are for more than one module: %s and %.4s (%s); "
				       "name the one with --board-id", board, f, l->parts[i].filename);
		snprintf(board, 8, "%.4s", f);
	}
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	if (!in)
		return err_set("%s: %s", from, strerror(errno));
	FILE *out = fopen(to, "wb");
	if (!out) {
		fclose(in);
		return err_set("%s: %s", to, strerror(errno));
	}
	static char buf[1u << 16];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n) {
			rc = err_set("%s: write failed", to);
			break;
		}
	if (rc == 0 && ferror(in))
		rc = err_set("%s: read failed", from);
	fclose(in);
	if (fclose(out) != 0 && rc == 0)
		rc = err_set("%s: write failed", to);
	return rc;
}

int l4t_copy_file(const char *from, const char *to)
{
	return copy_file(from, to);
}

/* nvme0n1p1 -> nvme0n1, mmcblk0p1 -> mmcblk0, sda1 -> sda */
void l4t_disk_of(const char *dev, char *out, size_t size)
{
	snprintf(out, size, "%s", dev);
	size_t n = strlen(out);
	size_t d = n;
	while (d > 0 && isdigit((unsigned char)out[d - 1]))
		d--;
	if (d < n && d > 0 && out[d - 1] == 'p' &&
	    (strncmp(out, "nvme", 4) == 0 || strncmp(out, "mmcblk", 6) == 0))
		out[d - 1] = '\0';
	else if (d < n && strncmp(out, "sd", 2) == 0)
		out[d] = '\0';
}

int l4t_write_modules(const struct l4t_opts *o, const struct l4t_tree *t, unsigned use,
		      const char *disk_type, const char *conf_path, char (*paths)[L4T_PATH_MAX], size_t *npaths)
{
	struct kmods k;
	if (kmods_read(&k, t->module_dir) != 0)
		return -1;
	unsigned order[KMODS_MAX_ORDER];
	size_t count = 0;
	printf("modules the flasher loads (%s):\n", l4t_profile_name(o->profile));
	int rc = l4t_modules_resolve(o->profile, use, &k, o->extra_modules, o->n_extra_modules,
				     order, &count, stdout);
	char dir[L4T_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/modules", o->out_dir);
	if (rc == 0 && !o->check_only && mkdir(dir, 0755) != 0 && errno != EEXIST)
		rc = err_set("%s: %s", dir, strerror(errno));
	FILE *conf = NULL;
	if (rc == 0 && !o->check_only && !(conf = fopen(conf_path, "w")))
		rc = err_set("%s: %s", conf_path, strerror(errno));
	*npaths = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		const struct kmod *m = &k.mods[order[i]];
		char from[L4T_PATH_MAX + 512];
		snprintf(from, sizeof(from), "%s/%s", t->module_dir, m->path);
		struct stat st;
		if (stat(from, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = err_set("module %s: %s is missing (modules.dep lists it; is the tree's "
				     "rootfs complete? sudo ./apply_binaries.sh installs the modules)",
				     m->name, from);
			break;
		}
		if (o->check_only)
			continue;
		const char *base = strrchr(m->path, '/') ? strrchr(m->path, '/') + 1 : m->path;
		int n = snprintf(paths[*npaths], L4T_PATH_MAX, "%s/%s", dir, base);
		if (n < 0 || n >= L4T_PATH_MAX)
			rc = err_set("%s/%s: path too long", dir, base);
		else if (copy_file(from, paths[*npaths]) == 0)
			fprintf(conf, "module /lib/modules/%s\n", base);
		else
			rc = -1;
		(*npaths)++;
	}
	if (conf && rc == 0) {
		char disk[64];
		l4t_disk_of(o->external ? o->external : t->external_device, disk, sizeof(disk));
		fprintf(conf, "link %s\npubkey /etc/selfflash/pubkey.pem\n",
			l4t_profile_link(o->profile));
		if (use & L4T_USE_QSPI)
			fprintf(conf, "target spi %s\n", l4t_profile_qspi_target(o->profile));
		fprintf(conf, "target %s block:/dev/%s\n", disk_type, disk);
		fprintf(conf, "on-failure %s\n", l4t_profile_on_failure(o->profile));
	}
	if (conf && fclose(conf) != 0 && rc == 0)
		rc = err_set("%s: write failed", conf_path);
	kmods_free(&k);
	return rc;
}
