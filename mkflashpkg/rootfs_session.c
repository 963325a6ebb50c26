/* SPDX-License-Identifier: MIT */
/*
 * The conversion's work, as root or inside one fakeroot session: bsdtar extracts the tar,
 * mke2fs -d makes the file system from the tree, debugfs gives its root the tar's "./".
 */
#include "rootfs_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "rootfs_tar.h"
#include "rootfs_version.h"
#include "tool_run.h"

/* longest tool message quoted in an error (ERR_MSG_MAX bounds the whole message) */
#define TOOL_MSG 300
/* deepest directory nesting open_up_files() follows: far beyond PATH_MAX's 4096 bytes */
#define MAX_DEPTH 2048

/* What the walk over the extracted tree found. */
struct tree_stats {
	uint64_t entries;     /* files, directories, links, nodes */
	uint64_t file_bytes;  /* sizes of regular files, each inode once */
};

static int path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, ROOTFS_PATH_MAX, "%s/%s", dir, name);
	if (n < 0 || n >= ROOTFS_PATH_MAX)
		return err_set("path too long: %s/%s", dir, name);
	return 0;
}

/*
 * Runs one tool with its output in work_dir/NAME.log and copies that output to log. A
 * non-zero exit becomes an error quoting the tool's last words.
 */
static int run_logged(const struct rootfs_session *s, const char *name, const char *const argv[],
		      const char *const env[], FILE *log, int *status)
{
	char path[ROOTFS_PATH_MAX], lname[64];
	snprintf(lname, sizeof(lname), "%s.log", name);
	if (path_join(path, s->work_dir, lname) != 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set("%s: %s", path, strerror(errno));
	int rc = tool_run(argv, env, fd);
	close(fd);
	if (rc < 0)
		return -1;
	if (log) {
		FILE *f = fopen(path, "r");
		char line[1024];
		while (f && fgets(line, sizeof(line), f))
			fprintf(log, "  %s: %s", name, line);
		if (f)
			fclose(f);
	}
	*status = rc;
	if (rc != 0) {
		char msg[TOOL_MSG];
		tool_output_tail(path, msg, sizeof(msg));
		return err_set("%s failed (exit status %d): %s", argv[0], rc, msg[0] ? msg : "(no message)");
	}
	return 0;
}

static int extract(const struct rootfs_session *s, FILE *log)
{
	/* bsdtar, not GNU tar: GNU tar 1.34 creates a file that carries xattrs with mknodat(path,
	 * mode without S_IFREG, 0) before setting them (src/extract.c set_xattr), and fakeroot
	 * 1.31 records exactly that mode in its database (libfakeroot.c mknodat wrapper), so the
	 * file has no type under fakeroot and mke2fs -d skips it ("ignoring entry"). libarchive
	 * opens regular files and sets xattrs on them afterwards. bsdtar strips a leading "/",
	 * refuses names with ".." and extraction through symbolic links (without -P), and exits
	 * non-zero when an xattr cannot be set. ACLs and file flags are not restored: NVIDIA's
	 * tar --xattrs stores neither, and an immutable flag would make the tree undeletable.
	 * Every name and hard link target gets "root/" in front (not symbolic link targets): the
	 * tar's "./" is then a directory bsdtar makes and gives its owner, mode and times, where
	 * it leaves the times of an existing -C directory alone. */
	const char *const argv[] = { "bsdtar", "-x", "--preserve-permissions", "--same-owner",
				     "--numeric-owner", "--xattrs", "--no-acls", "--no-fflags",
				     "--no-mac-metadata", "-s", ",^," ROOTFS_TREE "/,rhS", "-f",
				     s->tar_path, "-C", s->work_dir, NULL };
	int status;
	if (run_logged(s, "tar", argv, NULL, log, &status) != 0)
		return err_prefix("%s: extracting", s->tar_path);
	return 0;
}

/* Counts and sizes the tree (for messages) */
static int walk_tree(const char *tree, struct tree_stats *t)
{
	char *const roots[] = { (char *)tree, NULL };
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR, NULL);
	if (!fts)
		return err_set("%s: %s", tree, strerror(errno));
	memset(t, 0, sizeof(*t));
	int rc = 0;
	while (rc == 0) {
		errno = 0;
		FTSENT *e = fts_read(fts);
		if (!e) {
			if (errno != 0)
				rc = err_set("%s: %s", tree, strerror(errno));
			break;
		}
		switch (e->fts_info) {
		case FTS_DP:
			continue;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			rc = err_set("%s: %s", e->fts_path, strerror(e->fts_errno));
			continue;
		default:
			break;
		}
		const struct stat *st = e->fts_statp;
		t->entries++;
		if (S_ISREG(st->st_mode))
			t->file_bytes += (uint64_t)st->st_size / (st->st_nlink ? st->st_nlink : 1);
	}
	fts_close(fts);
	return rc;
}

/*
 * Under fakeroot only: gives every regular file its owner's read bit on disk. libarchive
 * creates a file with its final mode and calls no chmod when that already fits, so a file of
 * mode 0000 (or 0200, 0111) is really unreadable, and mke2fs, which is not root, cannot copy
 * it. fakeroot keeps the mode it was told in its database; this changes only the disk's, by
 * raw system calls that libfakeroot does not see (its chmod would change the faked mode too).
 * Directories are opened with O_NOATIME: reading them would set access times mke2fs copies.
 */
static int open_up_files(int dfd, const char *path, unsigned depth)
{
	if (depth > MAX_DEPTH)
		return err_set("%s: directories nested deeper than %d", path, MAX_DEPTH);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_set("%s: %s", path, strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		struct statx sx;
		if (syscall(SYS_statx, dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE,
			    &sx) != 0) {
			rc = err_set("%s/%s: %s", path, de->d_name, strerror(errno));
		} else if (S_ISDIR(sx.stx_mode)) {
			char sub[ROOTFS_PATH_MAX];
			int fd = openat(dirfd(d), de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
			if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
				snprintf(sub, sizeof(sub), "%s/...", path);
			if (fd < 0)
				rc = err_set("%s: %s", sub, strerror(errno));
			else
				rc = open_up_files(fd, sub, depth + 1);
		} else if (S_ISREG(sx.stx_mode) && !(sx.stx_mode & S_IRUSR) &&
			   syscall(SYS_fchmodat, dirfd(d), de->d_name, (sx.stx_mode & 07777) | S_IRUSR) != 0) {
			rc = err_set("%s/%s: %s", path, de->d_name, strerror(errno));
		}
	}
	if (rc == 0 && errno != 0)
		rc = err_set("%s: %s", path, strerror(errno));
	closedir(d);
	return rc;
}

static int make_fs(const struct rootfs_session *s, const char *tree, const struct stat *root,
		   FILE *log)
{
	char conf_env[ROOTFS_PATH_MAX + 16], conf[ROOTFS_PATH_MAX], time_env[64];
	char ext_opts[256], blocks[32];
	if (path_join(conf, s->work_dir, ROOTFS_MKE2FS_CONF) != 0)
		return -1;
	snprintf(conf_env, sizeof(conf_env), "MKE2FS_CONFIG=%s", conf);
	/* e2fsprogs 1.47.0 takes the file system's own times (superblock, journal, lost+found)
	 * from E2FSPROGS_FAKE_TIME (lib/ext2fs/initialize.c): the tar's "./" mtime; 0 would
	 * mean "now" */
	snprintf(time_env, sizeof(time_env), "E2FSPROGS_FAKE_TIME=%" PRId64,
		 root->st_mtime > 0 ? (int64_t)root->st_mtime : 1);
	const char *const env[] = { conf_env, s->uuid ? time_env : NULL, NULL };
	/* lazy_itable_init=1: the inode tables are marked not zeroed and the kernel zeroes them
	 * after mounting, as after mkfs.ext4 on the board, so stale data under the image's holes
	 * is never taken for inodes. lazy_journal_init=1: the image file is new, its journal
	 * reads as zeros already; zeroing it again would only allocate blocks (see the journal
	 * note in rootfs_tar.c). The root gets the owner of the tar's "./". */
	snprintf(ext_opts, sizeof(ext_opts),
		 "root_owner=%u:%u,lazy_itable_init=1,lazy_journal_init=1,nodiscard%s%s",
		 (unsigned)root->st_uid, (unsigned)root->st_gid, s->hash_seed ? ",hash_seed=" : "",
		 s->hash_seed ? s->hash_seed : "");
	snprintf(blocks, sizeof(blocks), "%" PRIu64, s->blocks);
	const char *argv[24];
	size_t n = 0;
	argv[n++] = "mke2fs";
	argv[n++] = "-q";
	argv[n++] = "-F";
	argv[n++] = "-t";
	argv[n++] = "ext4";
	argv[n++] = "-T"; /* the same layout at any size: no "small" 1 KiB blocks under 512 MiB */
	argv[n++] = "default";
	argv[n++] = "-b";
	argv[n++] = "4096";
	argv[n++] = "-E";
	argv[n++] = ext_opts;
	if (s->uuid) {
		argv[n++] = "-U";
		argv[n++] = s->uuid;
	}
	argv[n++] = "-d";
	argv[n++] = tree;
	argv[n++] = "--"; /* an image named "-x.img" is not an option */
	argv[n++] = s->img_path;
	argv[n++] = blocks;
	argv[n] = NULL;
	int status;
	return run_logged(s, "mke2fs", argv, env, log, &status);
}

/* mke2fs -d gives the root directory mode 0755 and its own times whatever the source's are;
 * NVIDIA's tar -x onto the mounted file system gives it the tar's "./" */
static int fix_root(const struct rootfs_session *s, const struct stat *root)
{
	char cmds[ROOTFS_PATH_MAX], path[ROOTFS_PATH_MAX];
	if (path_join(cmds, s->work_dir, "debugfs.cmd") != 0 ||
	    path_join(path, s->work_dir, "debugfs.log") != 0)
		return -1;
	FILE *f = fopen(cmds, "w");
	if (!f)
		return err_set("%s: %s", cmds, strerror(errno));
	/* <2> is the root inode: no path for debugfs to parse */
	fprintf(f, "sif <2> mode 0%o\nsif <2> mtime @%" PRId64 "\nsif <2> atime @%" PRId64 "\n",
		(unsigned)root->st_mode, (int64_t)root->st_mtime, (int64_t)root->st_atime);
	/* the change time cannot come from the tar (no tar restores one): the mtime, for
	 * images that should come out alike */
	if (s->uuid)
		fprintf(f, "sif <2> ctime @%" PRId64 "\nsif <2> crtime @%" PRId64 "\n",
			(int64_t)root->st_mtime, (int64_t)root->st_mtime);
	if (fclose(f) != 0)
		return err_set("%s: %s", cmds, strerror(errno));
	const char *const argv[] = { "debugfs", "-w", "-f", cmds, "--", s->img_path, NULL };
	int status;
	if (run_logged(s, "debugfs", argv, NULL, NULL, &status) != 0)
		return -1;
	/* debugfs exits 0 whatever its commands did: besides its banner and the echo of each
	 * command ("debugfs ..."), every line it prints is a failure */
	f = fopen(path, "r");
	char line[512];
	int rc = 0;
	while (rc == 0 && f && fgets(line, sizeof(line), f))
		if (strncmp(line, "debugfs", 7) != 0)
			rc = err_set("debugfs, setting the root directory: %.*s",
				     (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	return rc;
}

/* The running system's version file, for a tegra board's first mark-good; in the
 * deterministic mode with the tar's "./" times, as the file system's own times are */
static int put_version(const struct rootfs_session *s, const char *tree, const struct stat *root,
		       FILE *log)
{
	int fd = open(tree, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), added = 0;
	if (fd < 0)
		return err_set("%s: %s", tree, strerror(errno));
	struct timespec when = { .tv_sec = root->st_mtime > 0 ? root->st_mtime : 1 };
	int rc = rootfs_version_put(fd, s->system_version, s->uuid ? &when : NULL, &added);
	close(fd);
	if (rc != 0)
		return err_prefix("%s", s->tar_path);
	if (log)
		fprintf(log, "rootfs: %s %s: %" PRIu64 " (a tegra board records it at its first "
			"mark-good)\n", ROOTFS_VERSION_FILE,
			added ? "added" : "already in the tar, says", s->system_version);
	return 0;
}

int rootfs_session_run(const struct rootfs_session *s, FILE *log)
{
	char tree[ROOTFS_PATH_MAX];
	if (path_join(tree, s->work_dir, ROOTFS_TREE) != 0)
		return -1;
	if (extract(s, log) != 0)
		return -1;
	/* a tar without a single entry makes an empty file system */
	struct stat root;
	if ((mkdir(tree, 0755) != 0 && errno != EEXIST) || lstat(tree, &root) != 0)
		return err_set("%s: %s", tree, strerror(errno));
	if (s->system_version && put_version(s, tree, &root, log) != 0)
		return -1;
	if (s->under_fakeroot) {
		int fd = open(tree, O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC);
		if (fd < 0 || open_up_files(fd, tree, 0) != 0)
			return fd < 0 ? err_set("%s: %s", tree, strerror(errno)) : -1;
	}
	/* the tree is walked only after mke2fs: reading a directory sets its access time
	 * (relatime: it is older than the change time), and mke2fs copies access times */
	struct tree_stats t;
	if (make_fs(s, tree, &root, log) != 0) {
		char msg[ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err_msg());
		if (walk_tree(tree, &t) != 0)
			return err_set("%s: %s", s->tar_path, msg);
		return err_set("%s: making a %" PRIu64 "-byte ext4 file system of its %" PRIu64
			       " bytes of files in %" PRIu64 " entries: %s",
			       s->tar_path, s->blocks * ROOTFS_BLOCK_SIZE, t.file_bytes, t.entries,
			       msg);
	}
	if (fix_root(s, &root) != 0)
		return -1;
	if (log && walk_tree(tree, &t) == 0)
		fprintf(log,
			"rootfs: %" PRIu64 " entries, %" PRIu64 " bytes of files%s, in a %" PRIu64
			"-byte ext4 file system (%s UUID)\n",
			t.entries, t.file_bytes, s->under_fakeroot ? " (extracted under fakeroot)" : "",
			s->blocks * ROOTFS_BLOCK_SIZE, s->uuid ? s->uuid : "random");
	return 0;
}
