/* SPDX-License-Identifier: MIT */
/* `mkflashpkg l4t`: from NVIDIA's Linux_for_Tegra tree to a package, kernel, flasher initrd
 * and RCM bundle, or a report of what is missing and the NVIDIA command that makes it. */
#ifndef SELFFLASH_L4T_H
#define SELFFLASH_L4T_H

#include <stddef.h>
#include <stdint.h>

#include "chunker.h"
#include "l4t_modules.h"
#include "l4t_tree.h"
#include "layout.h"

#define L4T_MAX_EXTRA_MODULES 32

struct l4t_opts {
	const char *tree_dir, *out_dir;
	const char *key_path;      /* NULL with allow_unsigned */
	int allow_unsigned;
	const char *pubkey_path;   /* trusted by the flasher; default: KEY with .pub */
	const char *board;         /* NVIDIA's board configuration name, for the commands shown */
	const char *external;      /* the disk on the board, e.g. nvme0n1 */
	const char *rootfs;        /* an image or tar to use instead of the index's system.img */
	const char *bundle;        /* an RCM bundle directory made elsewhere */
	int no_bundle;             /* build without one */
	const char *board_id;      /* "3701-0005" when file names do not tell */
	const struct l4t_module_profile *profile;
	const char *extra_modules[L4T_MAX_EXTRA_MODULES];
	size_t n_extra_modules;
	const char *flasher, *mkinitrd;
	uint64_t system_version;
	const char *capsule;       /* the boot firmware's UEFI capsule; NULL: TREE/TEGRA_BL.Cap when
				    * it is there, else none */
	unsigned jobs;
	struct chunk_codec codec;  /* as build_opts' */
	int check_only;            /* report, write nothing */
};

int l4t_run(struct l4t_opts *o);

/* l4t_build.c: the steps after the tree was found complete */
/* Both indexes as one layout (QSPI first); each file's path in files[] keyed by file name. */
int l4t_merge_layouts(const struct l4t_tree *t, struct layout *out);
/* The module the images are for: "3701" and "0005", or "" for a SKU (or board) the tree
 * does not tell; *origin says where it was read. 0 or -1 with err_msg(). */
int l4t_board_of(const struct l4t_tree *t, const struct layout *l, char board[8], char sku[8],
		 const char **origin);
/* Copies the kernel's modules into dir/modules in load order and writes the flasher's
 * settings to conf_path; fills paths[] (in load order) with the copies. */
int l4t_write_modules(const struct l4t_opts *o, const struct l4t_tree *t, unsigned use,
		      const char *disk_type, const char *conf_path, char (*paths)[L4T_PATH_MAX],
		      size_t *npaths);
int l4t_copy_file(const char *from, const char *to);
/* The whole disk of a partition's device name: nvme0n1p1 -> nvme0n1, sda1 -> sda. */
void l4t_disk_of(const char *dev, char *out, size_t size);
/* Copies the RCM bundle's command file and every file it names into dir; checks each. */
int l4t_copy_bundle(const struct l4t_tree *t, const char *dir);
/* The root compatible strings of the kernel DTB (entry 46) in an RCM blob.bin. */
int l4t_bundle_compatible(const char *blob_path, char *out, size_t out_size);
/* The blob the bundle sends (its command file's `--download blob FILE`, else blob.bin). */
int l4t_bundle_blob(const struct l4t_tree *t, char *out, size_t size);
/* Refuses a bundle whose blob's kernel DTB is for another module than `board` ("3701");
 * says so and accepts when the blob carries no readable DTB. */
int l4t_check_bundle_board(const struct l4t_tree *t, const char *board);
/* Copies the type and unique GUIDs of NVIDIA's primary GPT file (gpt_primary_9_0.bin) onto
 * device d's partitions of the same name, after checking that both place them alike. */
int l4t_apply_gpt_guids(struct layout *l, const struct layout_device *d, const char *path,
			unsigned *applied);
/* The same for the file's bytes f[0..len) (changed in place: the header's CRC field);
 * path names it in messages. */
int l4t_apply_gpt_bytes(struct layout *l, const struct layout_device *d, uint8_t *f, size_t len,
			const char *path, unsigned *applied);
/* The command-line entry: mkflashpkg l4t ... */
int l4t_main(int argc, char **argv);

#endif
