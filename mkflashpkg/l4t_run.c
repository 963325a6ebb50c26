/* SPDX-License-Identifier: MIT */
/* mkflashpkg l4t, step by step: find, report, check, then build every output. */
#include "l4t.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "error.h"
#include "pkg.h"
#include "rootfs_tar.h"
#include "tool_run.h"

/* The devices the flasher will open, from the layout and the disk's name. */
static unsigned devices_used(const struct layout *l, const char *disk, unsigned link_use)
{
	unsigned use = L4T_USE_EEPROM | link_use;
	for (size_t i = 0; i < l->ndev; i++)
		if (strcmp(l->dev[i].type, "spi") == 0)
			use |= L4T_USE_QSPI;
	if (strncmp(disk, "nvme", 4) == 0)
		use |= L4T_USE_NVME;
	else if (strncmp(disk, "mmcblk", 6) == 0)
		use |= L4T_USE_MMC;
	else if (strncmp(disk, "sd", 2) == 0)
		use |= L4T_USE_USB_DISK;
	return use;
}

/* The one device of the external index: the disk the flasher writes as a block device. */
static const struct layout_device *disk_device(const struct layout *l)
{
	for (size_t i = 0; i < l->ndev; i++)
		if (strcmp(l->dev[i].type, "spi") != 0)
			return &l->dev[i];
	return NULL;
}

/* APP and APP_b: what NVIDIA left for each (flash.cfg's APP_ext, APP_b_ext; flash.idx
 * leaves their file empty) and what the package gets */
struct rootfs_slot {
	const char *part;          /* "APP", "APP_b" */
	uint64_t part_size;
	char source[L4T_PATH_MAX]; /* the file NVIDIA left, or --rootfs */
	int kind;                  /* enum rootfs_kind */
	char image[L4T_PATH_MAX];  /* what the package gets */
};

struct rootfs_plan {
	struct rootfs_slot slot[2];
	size_t count;
};

static const struct layout_part *find_part(const struct layout *l, const char *name)
{
	for (size_t i = 0; i < l->nparts; i++)
		if (strcmp(l->parts[i].name, name) == 0)
			return &l->parts[i];
	return NULL;
}

static int plan_rootfs(const struct l4t_opts *o, const struct l4t_tree *t, const struct layout *l,
		       struct rootfs_plan *r)
{
	static const char *const parts[] = { "APP", "APP_b" };
	memset(r, 0, sizeof(*r));
	char dir[L4T_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", t->external_idx);
	const char *images = dirname(dir);
	for (size_t i = 0; i < 2; i++) {
		const struct layout_part *p = find_part(l, parts[i]);
		if (!p)
			continue;
		struct rootfs_slot *s = &r->slot[r->count++];
		s->part = parts[i];
		s->part_size = p->size;
		/* without APP_b_ext (no ROOTFS_AB=1 run) slot B gets slot A's rootfs */
		const char *file = i == 1 && t->app_b_file[0] ? t->app_b_file : t->app_file;
		if (o->rootfs)
			snprintf(s->source, sizeof(s->source), "%s", o->rootfs);
		else if (!file[0])
			return err_set("%s/flash.cfg names no APP_ext file: no rootfs for %s (was the "
				       "l4t_initrd_flash.sh --no-flash run for the external device "
				       "complete?)", images, parts[i]);
		else if (strchr(file, '/') ||
			 snprintf(s->source, sizeof(s->source), "%s/%s", images, file) >=
				 (int)sizeof(s->source))
			return err_set("flash.cfg: rootfs file \"%s\" is not a plain file name", file);
		if ((s->kind = rootfs_kind(s->source)) < 0)
			return -1;
		if (s->kind != ROOTFS_KIND_TAR && s->kind != ROOTFS_KIND_SPARSE &&
		    s->kind != ROOTFS_KIND_EXT4)
			return err_set("%s: %s, expected NVIDIA's rootfs tar, an Android sparse image "
				       "or an ext4 image (a compressed tar must be unpacked first)",
				       s->source, rootfs_kind_name(s->kind));
		printf("rootfs %-9s %s: %s%s%s\n", s->part, s->source, rootfs_kind_name(s->kind),
		       s->kind == ROOTFS_KIND_TAR ? " (NVIDIA's kernel-flash tar): made into ext4 here, "
					       "owners, modes and xattrs kept"
					     : ", written as it is",
		       s->kind == ROOTFS_KIND_TAR && o->system_version
			       ? ", /etc/selfflash/system-version put in (--system-version)"
			       : "");
	}
	if (r->count == 0)
		return err_set("%s has no APP partition: nothing would hold the rootfs",
			       t->external_idx);
	return 0;
}

static int make_rootfs(const struct l4t_opts *o, struct rootfs_plan *r)
{
	for (size_t i = 0; i < r->count; i++) {
		struct rootfs_slot *s = &r->slot[i];
		if (s->kind != ROOTFS_KIND_TAR) {
			snprintf(s->image, sizeof(s->image), "%s", s->source);
			continue;
		}
		/* the same tar for both slots is converted once */
		if (i == 1 && strcmp(s->source, r->slot[0].source) == 0 &&
		    s->part_size == r->slot[0].part_size) {
			snprintf(s->image, sizeof(s->image), "%s", r->slot[0].image);
			continue;
		}
		snprintf(s->image, sizeof(s->image), "%s/%s.ext4", o->out_dir, s->part);
		printf("making %s (%" PRIu64 " bytes, the %s partition) from %s\n", s->image,
		       s->part_size, s->part, s->source);
		/* a random UUID, as NVIDIA's mkfs.ext4 on the board makes: stale journal blocks a
		 * package's holes leave on the disk fail its checksums (rootfs_tar.h) */
		struct rootfs_tar_opts t = { .tar_path = s->source, .fs_bytes = s->part_size,
					     .img_path = s->image, .tmp_dir = o->out_dir,
					     .system_version = o->system_version, .log = stdout };
		if (rootfs_tar_to_ext4(&t) != 0)
			return -1;
	}
	return 0;
}

static void remove_made_rootfs(const struct rootfs_plan *r)
{
	/* in the package now, and each as large as its partition */
	for (size_t i = 0; i < r->count; i++)
		if (r->slot[i].kind == ROOTFS_KIND_TAR && r->slot[i].image[0])
			unlink(r->slot[i].image);
}

/* files[] for the build: every indexed file by its name, in its index's directory */
static int build_package(const struct l4t_opts *o, const struct l4t_tree *t, struct layout *l,
			 const struct rootfs_plan *r, const char *board, const char *sku)
{
	static struct layout_set files[LAYOUT_MAX_PARTS];
	static char paths[LAYOUT_MAX_PARTS][L4T_PATH_MAX];
	size_t nfiles = 0;
	char idir[L4T_PATH_MAX], edir[L4T_PATH_MAX];
	snprintf(idir, sizeof(idir), "%s", t->internal_idx);
	snprintf(edir, sizeof(edir), "%s", t->external_idx);
	const char *internal = dirname(idir), *external = dirname(edir);
	const struct layout_device *disk = disk_device(l);
	/* first: it puts the disk's partitions in NVIDIA's GPT order, and files[] points into
	 * the layout's names */
	for (size_t i = 0; disk && i < disk->count; i++) {
		const struct layout_part *p = &l->parts[disk->first + i];
		char gpt[L4T_PATH_MAX];
		unsigned applied;
		if (p->kind != PKG_PART_PRIMARY_GPT || !p->filename[0])
			continue;
		snprintf(gpt, sizeof(gpt), "%s/%s", external, p->filename);
		if (l4t_apply_gpt_guids(l, disk, gpt, &applied) != 0)
			return -1;
		printf("disk GPT         NVIDIA's partition GUIDs (type, unique) for %u partitions, "
		       "from %s\n", applied, p->filename);
	}
	for (size_t i = 0; i < l->nparts; i++) {
		struct layout_part *p = &l->parts[i];
		if (!p->filename[0] || p->kind != PKG_PART_DATA)
			continue; /* the flasher writes GPTs itself, with NVIDIA's GUIDs (below) */
		if (nfiles + 2 >= LAYOUT_MAX_PARTS)
			return err_set("too many files");
		int on_disk = disk && i >= disk->first && i < disk->first + disk->count;
		const char *path = paths[nfiles];
		snprintf(paths[nfiles], L4T_PATH_MAX, "%s/%s", on_disk ? external : internal,
			 p->filename);
		int seen = 0;
		for (size_t j = 0; j < nfiles; j++)
			if (strcmp(files[j].key, p->filename) == 0)
				seen = strcmp(files[j].value, path) == 0 ? 1 : -1;
		if (seen < 0)
			return err_set("both indexes name a file %s, in different directories",
				       p->filename);
		if (seen == 0)
			files[nfiles++] = (struct layout_set){ p->filename, path };
	}
	/* APP's file is empty in the index (tegraparser_v2 leaves it so): the rootfs goes in by
	 * partition name, checked by its own size, not the index's */
	for (size_t i = 0; i < r->count; i++) {
		struct layout_part *p = (struct layout_part *)find_part(l, r->slot[i].part);
		struct stat st;
		if (stat(r->slot[i].image, &st) != 0)
			return err_set("%s: %s", r->slot[i].image, strerror(errno));
		p->sha1[0] = '\0';
		p->file_size = (uint64_t)st.st_size;
		files[nfiles++] = (struct layout_set){ r->slot[i].part, r->slot[i].image };
	}
	static const char *const gpt_parts[] = { "master_boot_record", "primary_gpt",
						 "secondary_gpt" };
	char stride[24], pkg[L4T_PATH_MAX];
	snprintf(stride, sizeof(stride), "%u", l4t_bct_stride(&t->rel));
	struct layout_set replicate = { "BCT", stride };
	static struct variant variant;
	memset(&variant, 0, sizeof(variant));
	snprintf(pkg, sizeof(pkg), "%s/package.sfpkg", o->out_dir);
	struct build_opts b = {
		.output = pkg, .key_path = o->key_path, .allow_unsigned = o->allow_unsigned,
		.layout = l, .from_flash_idx = 1, .file_dir = internal, .files = files,
		.nfiles = nfiles, .chunk_size = PKG_DEFAULT_CHUNK_SIZE,
		.system_version = o->system_version, .jobs = o->jobs, .codec = o->codec,
		.no_file = gpt_parts, .n_no_file = 3,
	};
	int has_bct = 0;
	for (size_t i = 0; i < l->nparts; i++)
		has_bct |= strcmp(l->parts[i].name, "BCT") == 0 && l->parts[i].filename[0];
	if (has_bct) {
		b.replicate = &replicate;
		b.nreplicate = 1;
	}
	if (board[0]) {
		/* one variant: only this module accepts the package (its EEPROM says so) */
		snprintf(variant.v.name, sizeof(variant.v.name), "p%s%s%s", board, sku[0] ? "-" : "",
			 sku);
		snprintf(variant.v.board, sizeof(variant.v.board), "%s", board);
		snprintf(variant.v.sku, sizeof(variant.v.sku), "%s", sku[0] ? sku : "");
		b.variants = &variant;
		b.nvariants = 1;
	}
	/* l4t_generate_soc_capsule.sh writes where -o says (generate_capsule/, R35.3.1); NVIDIA's
	 * update guide names the file TEGRA_BL.Cap, so one at the tree's top is taken */
	static char capsule[L4T_PATH_MAX];
	snprintf(capsule, sizeof(capsule), "%s/TEGRA_BL.Cap", o->tree_dir);
	b.capsule = o->capsule ? o->capsule : access(capsule, R_OK) == 0 ? capsule : NULL;
	if (b.capsule)
		printf("capsule for updates of a running board: %s\n", b.capsule);
	printf("building %s\n", pkg);
	return pkg_build(&b);
}

static int make_initrd(const struct l4t_opts *o, const struct l4t_tree *t, unsigned use,
		       const char *disk_type)
{
	static char modules[KMODS_MAX_ORDER][L4T_PATH_MAX];
	size_t nmodules = 0;
	char conf[L4T_PATH_MAX], initrd[L4T_PATH_MAX], pub[L4T_PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/flasher.conf", o->out_dir);
	snprintf(initrd, sizeof(initrd), "%s/initrd.cpio.gz", o->out_dir);
	if (l4t_write_modules(o, t, use, disk_type, conf, modules, &nmodules) != 0)
		return -1;
	if (o->check_only)
		return 0;
	const char *pubkey = o->pubkey_path;
	if (!pubkey && o->key_path) {
		/* keygen writes BASENAME.key and BASENAME.pub */
		size_t n = strlen(o->key_path);
		if (n > 4 && strcmp(o->key_path + n - 4, ".key") == 0 && n < sizeof(pub))
			snprintf(pub, sizeof(pub), "%.*s.pub", (int)(n - 4), o->key_path);
		else
			snprintf(pub, sizeof(pub), "%s.pub", o->key_path);
		pubkey = pub;
	}
	const char *argv[16 + 2 * KMODS_MAX_ORDER];
	size_t n = 0;
	argv[n++] = o->mkinitrd;
	argv[n++] = "-o";
	argv[n++] = initrd;
	argv[n++] = "--init";
	argv[n++] = o->flasher;
	argv[n++] = "--config";
	argv[n++] = conf;
	if (pubkey) {
		argv[n++] = "--pubkey";
		argv[n++] = pubkey;
	}
	for (size_t i = 0; i < nmodules; i++) {
		argv[n++] = "--module";
		argv[n++] = modules[i];
	}
	argv[n] = NULL;
	printf("making %s (flasher %s, %zu modules)\n", initrd, o->flasher, nmodules);
	fflush(NULL); /* our lines before the tool's */
	int rc = tool_run(argv, NULL, STDOUT_FILENO);
	if (rc > 0)
		return err_set("making the initrd: %s exited with status %d", o->mkinitrd, rc);
	return rc ? err_prefix("making the initrd") : 0;
}

static void print_next(const struct l4t_opts *o, const struct l4t_tree *t)
{
	if (l4t_profile_link_use(o->profile) == L4T_USE_VIRTIO_LINK) {
		printf("\nDone. The QEMU board: hostload rcm --qemu --kernel %s/Image \\\n"
		       "    --initrd %s/initrd.cpio.gz [--qspi FILE --disk FILE] %s/package.sfpkg\n",
		       o->out_dir, o->out_dir, o->out_dir);
		return;
	}
	printf("\nDone. Put the board in recovery mode, then on any Linux host:\n");
	if (t->bundle_dir[0])
		printf("  hostload rcm --usb --bundle %s/rcm-bundle --kernel %s/Image \\\n"
		       "      --initrd %s/initrd.cpio.gz %s/package.sfpkg\n",
		       o->out_dir, o->out_dir, o->out_dir, o->out_dir);
	else
		printf("  (no RCM bundle: boot %s/Image with %s/initrd.cpio.gz by other means,\n"
		       "   then: hostload serve %s/package.sfpkg)\n",
		       o->out_dir, o->out_dir, o->out_dir);
}

int l4t_run(struct l4t_opts *o)
{
	static struct l4t_tree t;
	if (l4t_tree_scan(o->tree_dir, &t) != 0)
		return -1;
	if (o->bundle && l4t_tree_set_bundle(&t, o->bundle) != 0)
		return -1;
	if (o->no_bundle)
		t.bundle_dir[0] = t.bundle_cmd[0] = '\0';
	if (!o->profile && t.has_release && !(o->profile = l4t_profile_for_branch(t.rel.branch)))
		return err_set("release R%u: no driver profile for it (--profile: %s)", t.rel.branch,
			       l4t_profile_list());
	unsigned link_use = o->profile ? l4t_profile_link_use(o->profile) : L4T_USE_USB_LINK;
	int need_bundle = link_use == L4T_USE_USB_LINK && !o->no_bundle;
	int missing = l4t_tree_report(stdout, &t, o->board, need_bundle);
	if (missing)
		return err_set("%d part%s missing in %s (above, with what makes %s): nothing was "
			       "written", missing, missing == 1 ? " is" : "s are", o->tree_dir,
			       missing == 1 ? "it" : "them");
	if (!o->profile)
		return err_set("no driver profile: give --profile (%s)", l4t_profile_list());
	struct layout l;
	if (l4t_merge_layouts(&t, &l) != 0)
		return -1;
	int rc = 0;
	char board[8] = "", sku[8] = "", disk[64];
	const struct layout_device *dd = disk_device(&l);
	l4t_disk_of(o->external ? o->external : t.external_device, disk, sizeof(disk));
	if (!dd)
		rc = err_set("%s describes no disk", t.external_idx);
	else if (!disk[0])
		rc = err_set("the board's disk is not known: flash.cfg names no external_device; "
			     "give --external (e.g. nvme0n1)");
	/* it becomes a line of the flasher's settings and a /dev path: a device name only */
	else if (strspn(disk, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(disk) ||
		 strlen(disk) > 32)
		rc = err_set("%s \"%s\" is not a block device name such as nvme0n1, mmcblk0 or sda",
			     o->external ? "--external" : "flash.cfg's external_device",
			     o->external ? o->external : t.external_device);
	const char *origin = "--board-id";
	if (rc == 0 && o->board_id) {
		if (strlen(o->board_id) != 9 || o->board_id[4] != '-' ||
		    strspn(o->board_id, "0123456789-") != 9)
			rc = err_set("--board-id %s: expected BBBB-SSSS, e.g. 3701-0005", o->board_id);
		snprintf(board, sizeof(board), "%.4s", o->board_id);
		snprintf(sku, sizeof(sku), "%.4s", o->board_id + 5);
	} else if (rc == 0) {
		rc = l4t_board_of(&t, &l, board, sku, &origin);
	}
	if (rc == 0) {
		if (board[0] && sku[0])
			printf("module           %s-%s (%s): the package is for it alone\n", board,
			       sku, origin);
		else if (board[0])
			printf("module           %s, any SKU (%s; --board-id %s-SSSS pins one)\n",
			       board, origin, board);
		else
			printf("module           not named by the tree: the package fits any board\n");
		printf("board disk       /dev/%s (%s in the package)\n", disk, dd->type);
	}
	if (rc == 0 && t.bundle_dir[0])
		rc = l4t_check_bundle_board(&t, board);
	struct rootfs_plan r;
	memset(&r, 0, sizeof(r));
	if (rc == 0)
		rc = plan_rootfs(o, &t, &l, &r);
	unsigned use = rc == 0 ? devices_used(&l, disk, link_use) : 0;
	if (rc == 0 && o->check_only) {
		rc = make_initrd(o, &t, use, dd->type);
		layout_free(&l);
		if (rc == 0)
			printf("\nEverything is there (--check: nothing was written).\n");
		return rc;
	}
	if (rc == 0 && mkdir(o->out_dir, 0755) != 0 && errno != EEXIST)
		rc = err_set("%s: %s", o->out_dir, strerror(errno));
	if (rc == 0)
		rc = make_initrd(o, &t, use, dd->type);
	if (rc == 0)
		rc = make_rootfs(o, &r);
	if (rc == 0)
		rc = build_package(o, &t, &l, &r, board, sku);
	char path[L4T_PATH_MAX];
	snprintf(path, sizeof(path), "%s/Image", o->out_dir);
	if (rc == 0)
		rc = l4t_copy_file(t.kernel, path);
	snprintf(path, sizeof(path), "%s/rcm-bundle", o->out_dir);
	if (rc == 0 && t.bundle_dir[0]) {
		printf("copying the RCM bundle to %s\n", path);
		rc = l4t_copy_bundle(&t, path);
	}
	remove_made_rootfs(&r);
	layout_free(&l);
	if (rc == 0)
		print_next(o, &t);
	return rc;
}
