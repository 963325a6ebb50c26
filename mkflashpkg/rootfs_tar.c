/* SPDX-License-Identifier: MIT */
/*
 * NVIDIA's rootfs tar to an ext4 image: the checks, the private work directory, the image
 * file, and the session (rootfs_session.c) run as root or under one fakeroot.
 *
 * Why a tar at all: NVIDIA's l4t_create_images_for_kernel_flash.sh (R35.3.1, around line 344)
 * stores the APP partition as `tar --xattrs -cpf system.img --checkpoint=10000
 * --warning=no-timestamp --numeric-owner -C mnt .`, and its l4t_flash_from_kernel.sh
 * (do_write_APP) runs `mkfs.ext4 -F` on the board and unpacks it there. selfflash writes
 * images, so the file system is made here, with the board's mkfs defaults: NVIDIA pins no
 * feature; R35's base is Ubuntu 20.04, whose e2fsprogs 1.45.5 mke2fs.conf makes ext4 with
 * the features below. The host's own mke2fs.conf is not used: e2fsprogs 1.47 upstream adds
 * orphan_file and metadata_csum_seed; orphan_file came with Linux 5.15 (R35 runs 5.10), and
 * the board's e2fsck 1.45.5 refuses to check a file system with a feature it does not know.
 *
 * The journal note: mke2fs zeroes the journal, and in a sparse image those zeros are holes.
 * A package does not store holes, and a board keeps what the partition held there unless the
 * image is written with --zero-holes. With a random UUID stale journal blocks of the previous
 * install fail jbd2's checksums (seeded by the UUID) and are never replayed. With a UUID
 * derived from the tar (uuid_seed), re-flashing the same tar over an install of it gives the
 * old blocks valid checksums: write such images with --zero-holes, or keep the UUID random.
 */
#include "rootfs_internal.h"
#include "rootfs_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "le.h"
#include "sha256.h"
#include "tool_run.h"

/* e2fsprogs 1.45.5's misc/mke2fs.conf.in (Ubuntu 20.04, NVIDIA's R35 base), ext4 only */
static const char mke2fs_conf[] =
	"[defaults]\n"
	"\tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr\n"
	"\tdefault_mntopts = acl,user_xattr\n"
	"\tenable_periodic_fsck = 0\n"
	"\tblocksize = 4096\n"
	"\tinode_size = 256\n"
	"\tinode_ratio = 16384\n"
	"[fs_types]\n"
	"\text4 = {\n"
	"\t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,"
	"extra_isize\n"
	"\t\tinode_size = 256\n"
	"\t}\n"
	"\tdefault = {\n"
	"\t}\n";

static void uuid_text(const uint8_t *b, char out[37])
{
	uint8_t u[16];
	memcpy(u, b, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x80); /* version 8: made by this program's own rule */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 9562 variant */
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
		 u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
		 u[14], u[15]);
}

/* SHA-256 over a label, the seed and the tar: the UUID (bytes 0..15) and the directory
 * hash seed (16..31) */
static int derive_ids(const char *tar, const char *seed, uint64_t system_version, char uuid[37],
		      char hash_seed[37])
{
	int fd = open(tar, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", tar, strerror(errno));
	static uint8_t buf[1u << 20];
	struct sha256 h;
	sha256_init(&h);
	static const char label[] = "selfflash rootfs-tar ids 1";
	/* an added version file makes another file system: another label, and the version, so
	 * that images without one keep the ids they always had */
	static const char label_version[] = "selfflash rootfs-tar ids 1 system-version";
	if (system_version) {
		uint8_t v[8];
		le64_store(v, system_version);
		sha256_update(&h, label_version, sizeof(label_version));
		sha256_update(&h, v, sizeof(v));
	} else {
		sha256_update(&h, label, sizeof(label)); /* with its NUL: label and seed stay apart */
	}
	sha256_update(&h, seed, strlen(seed) + 1);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return err_set("%s: %s", tar, strerror(e));
		}
		if (r == 0)
			break;
		sha256_update(&h, buf, (size_t)r);
	}
	close(fd);
	uint8_t d[SHA256_LEN];
	sha256_final(&h, d);
	uuid_text(d, uuid);
	uuid_text(d + 16, hash_seed);
	return 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[ROOTFS_PATH_MAX];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return err_set("path too long: %s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	int rc = io_write_all(fd, text, strlen(text));
	if (close(fd) != 0 || rc != 0)
		return err_set("%s: %s", path, strerror(errno));
	return 0;
}

/* Removes the work directory and everything in it. Directories are first made enterable
 * and writable: an extracted tree may hold a directory of mode 0555. */
static int remove_tree(const char *dir)
{
	char *const roots[] = { (char *)dir, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts)
		return err_set("%s: %s", dir, strerror(errno));
	int rc = 0;
	FTSENT *e;
	while ((e = fts_read(fts)) != NULL) {
		int r = 0;
		if (e->fts_info == FTS_D)
			r = chmod(e->fts_accpath, 0700);
		else if (e->fts_info == FTS_DP)
			r = rmdir(e->fts_accpath);
		else if (e->fts_info != FTS_DC)
			r = unlink(e->fts_accpath);
		if (r != 0 && rc == 0)
			rc = err_set("removing %s: %s", e->fts_path, strerror(errno));
	}
	fts_close(fts);
	return rc;
}

/* Runs the session again in this program, under fakeroot. Its message comes back through
 * work_dir/error, its log through fakeroot.log. */
static int run_under_fakeroot(const struct rootfs_session *s, FILE *log)
{
	char self[ROOTFS_PATH_MAX], out[ROOTFS_PATH_MAX], blocks[32], version[32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || (size_t)n >= sizeof(self) - 1)
		return err_set("cannot find this program's own file (/proc/self/exe)");
	self[n] = '\0';
	snprintf(out, sizeof(out), "%s/fakeroot.log", s->work_dir);
	snprintf(blocks, sizeof(blocks), "%" PRIu64, s->blocks);
	snprintf(version, sizeof(version), "%" PRIu64, s->system_version);
	const char *const argv[] = { "fakeroot", "--", self, ROOTFS_TAR_SESSION_CMD, s->work_dir,
				     s->tar_path, s->img_path, blocks, s->uuid ? s->uuid : "-",
				     s->hash_seed ? s->hash_seed : "-", version, NULL };
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set("%s: %s", out, strerror(errno));
	int rc = tool_run(argv, NULL, fd);
	close(fd);
	if (rc < 0)
		return err_prefix("not root, so the tar is extracted under fakeroot (Debian package "
				  "fakeroot)");
	if (log) {
		FILE *f = fopen(out, "r");
		char line[1024];
		while (f && fgets(line, sizeof(line), f))
			fputs(line, log);
		if (f)
			fclose(f);
	}
	if (rc == 0)
		return 0;
	char msg[ERR_MSG_MAX], path[ROOTFS_PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", s->work_dir, ROOTFS_ERROR);
	size_t len = 0;
	char *text = read_small_file(path, sizeof(msg), &len);
	if (text && len > 0) {
		err_set("%.*s", (int)strcspn(text, "\n"), text);
		free(text);
		return -1;
	}
	free(text);
	tool_output_tail(out, msg, 300);
	return err_set("fakeroot failed (exit status %d): %s", rc, msg[0] ? msg : "(no message)");
}

static int check_input(const struct rootfs_tar_opts *o)
{
	if (!o->tar_path || !o->img_path)
		return err_set("rootfs: a tar and an image path are needed");
	if (o->fs_bytes < ROOTFS_MIN_BYTES || o->fs_bytes > ROOTFS_MAX_BYTES)
		return err_set("%s: a file system of %" PRIu64 " bytes: expected %llu..%llu",
			       o->img_path, o->fs_bytes, ROOTFS_MIN_BYTES, ROOTFS_MAX_BYTES);
	int kind = rootfs_kind(o->tar_path);
	if (kind < 0)
		return -1;
	if (kind == ROOTFS_KIND_TAR)
		return 0;
	const char *what = kind == ROOTFS_KIND_SPARSE
				   ? "it is an Android sparse image: give it as the partition's image"
			   : kind == ROOTFS_KIND_EXT4
				   ? "it is a raw ext4 image: give it as the partition's image"
			   : kind == ROOTFS_KIND_COMPRESSED
				   ? "it is compressed (gzip, bzip2, xz or zstd): decompress it first"
				   : "nor any image kind mkflashpkg knows";
	return err_set("%s is not a tar (no valid ustar header at byte 0 with \"ustar\" at 257); %s",
		       o->tar_path, what);
}

/* The session in this process (root) or under fakeroot, in a fresh work directory */
static int convert(const struct rootfs_tar_opts *o, const char *work, const char *uuid,
		   const char *hash_seed)
{
	if (write_file(work, ROOTFS_MKE2FS_CONF, mke2fs_conf) != 0)
		return -1;
	int fd = open(o->img_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set("%s: %s", o->img_path, strerror(errno));
	if (ftruncate(fd, (off_t)o->fs_bytes) != 0) {
		int e = errno;
		close(fd);
		return err_set("%s: making it %" PRIu64 " bytes long: %s", o->img_path, o->fs_bytes,
			       strerror(e));
	}
	close(fd);
	const struct rootfs_session s = {
		.work_dir = work, .tar_path = o->tar_path, .img_path = o->img_path,
		.blocks = o->fs_bytes / ROOTFS_BLOCK_SIZE, .uuid = uuid, .hash_seed = hash_seed,
		.system_version = o->system_version,
		.under_fakeroot = geteuid() != 0 || o->force_fakeroot,
	};
	return s.under_fakeroot ? run_under_fakeroot(&s, o->log) : rootfs_session_run(&s, o->log);
}

int rootfs_tar_to_ext4(const struct rootfs_tar_opts *o)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (check_input(o) != 0)
		return -1;
	char uuid[37], hash_seed[37];
	if (o->uuid_seed && derive_ids(o->tar_path, o->uuid_seed, o->system_version, uuid, hash_seed) != 0)
		return -1;
	const char *tmp = o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
	char work[ROOTFS_PATH_MAX];
	if (snprintf(work, sizeof(work), "%s/mkflashpkg-rootfs.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(work))
		return err_set("temporary directory path too long: %s", tmp);
	if (!mkdtemp(work))
		return err_set("%s: making a private directory: %s", work, strerror(errno));
	int rc = convert(o, work, o->uuid_seed ? uuid : NULL, o->uuid_seed ? hash_seed : NULL);
	char msg[ERR_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", err_msg());
	if (remove_tree(work) != 0) {
		/* a leftover directory is worth a line, not a failed image */
		fprintf(o->log ? o->log : stderr, "rootfs: warning: %s\n", err_msg());
	}
	if (rc != 0) {
		unlink(o->img_path);
		return err_set("%s", msg);
	}
	struct stat st;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (o->log && stat(o->img_path, &st) == 0)
		fprintf(o->log, "rootfs: %s: %" PRIu64 " bytes, %" PRIu64 " allocated, in %.1f s\n",
			o->img_path, (uint64_t)st.st_size, (uint64_t)st.st_blocks * 512,
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

int rootfs_tar_session_main(int argc, char **argv)
{
	/* argv: SESSION_CMD WORK TAR IMG BLOCKS UUID|- HASH_SEED|- VERSION (run_under_fakeroot) */
	if (argc != 8) {
		fprintf(stderr, "%s: internal command, run by rootfs_tar_to_ext4\n", argv[0]);
		return 2;
	}
	char *end;
	errno = 0;
	unsigned long long blocks = strtoull(argv[4], &end, 10);
	int bad = errno || *end || blocks == 0;
	unsigned long long version = strtoull(argv[7], &end, 10);
	bad |= errno || *end || !argv[7][0];
	struct rootfs_session s = {
		.work_dir = argv[1], .tar_path = argv[2], .img_path = argv[3], .blocks = blocks,
		.uuid = strcmp(argv[5], "-") ? argv[5] : NULL,
		.hash_seed = strcmp(argv[6], "-") ? argv[6] : NULL, .system_version = version,
		.under_fakeroot = 1,
	};
	int rc = bad ? err_set("bad block count '%s' or system version '%s'", argv[4], argv[7])
		     : rootfs_session_run(&s, stdout);
	fflush(stdout);
	if (rc != 0) {
		char text[ERR_MSG_MAX + 1];
		snprintf(text, sizeof(text), "%s\n", err_msg());
		write_file(s.work_dir, ROOTFS_ERROR, text);
		fprintf(stderr, "%s\n", err_msg());
	}
	return rc ? 1 : 0;
}
