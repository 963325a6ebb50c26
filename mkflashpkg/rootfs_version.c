/* SPDX-License-Identifier: MIT */
/* The running system's version file: put into a tree from a tar, checked in an ext4 image. */
#include "rootfs_version.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "version_text.h"
#include "io.h"
#include "rootfs_tar.h"
#include "tool_run.h"

/* "18446744073709551615\n" and a byte more: the board reads this much and refuses a file
 * that fills it (slot_version.c VERSION_TEXT_MAX) */
#define VERSION_TEXT_MAX 24
/* debugfs's answer to `stat`: the lines with Type and Size come first */
#define STAT_TEXT_MAX 4096
/* the private directory's path (from $TMPDIR), and a file's in it */
#define DIR_MAX 512
#define PATH_MAX_LEN (DIR_MAX + 32)

int rootfs_version_is_rootfs(const char *part_name)
{
	return strcmp(part_name, "APP") == 0 || strcmp(part_name, "APP_b") == 0;
}

/* ---- the tree a tar was extracted to ------------------------------------------------- */

/* The directory `name` in parent, made (0755, root:root) when missing; *made says so. */
static int open_dir_in(int parent, const char *name, const char *shown, int *made)
{
	*made = 0;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (errno == ELOOP || errno == ENOTDIR)
		return err_set("the rootfs's %s is a symbolic link or no directory: %s is not "
			       "written through it", shown, ROOTFS_VERSION_FILE);
	if (errno != ENOENT || mkdirat(parent, name, 0755) != 0)
		return err_set("%s: %s", shown, strerror(errno));
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* the mode against the umask; the owner as the tar's own directories have it (under
	 * fakeroot: recorded in its database) */
	if (fd < 0 || fchown(fd, 0, 0) != 0 || fchmod(fd, 0755) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return err_set("%s: %s", shown, strerror(e));
	}
	*made = 1;
	return fd;
}

/* The file already in the tree: kept when it says `version`, else refused. */
static int check_existing(int fd, uint64_t version)
{
	struct stat st;
	char text[VERSION_TEXT_MAX];
	if (fstat(fd, &st) != 0)
		return err_set("%s: %s", ROOTFS_VERSION_FILE, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set("the rootfs's %s is not a regular file", ROOTFS_VERSION_FILE);
	ssize_t got = read(fd, text, sizeof(text));
	if (got < 0)
		return err_set("%s: %s", ROOTFS_VERSION_FILE, strerror(errno));
	if ((size_t)got == sizeof(text))
		return err_set("the rootfs's %s: longer than a system version", ROOTFS_VERSION_FILE);
	uint64_t says;
	if (version_text_parse(text, (size_t)got, "the rootfs's " ROOTFS_VERSION_FILE, &says) != 0)
		return -1;
	if (says != version)
		return err_set("the rootfs's %s says %" PRIu64 ", --system-version %" PRIu64 ": a tegra "
			       "board would record %" PRIu64 " at its first mark-good (make them agree)",
			       ROOTFS_VERSION_FILE, says, version, says);
	return 0;
}

static int write_new(int dir, uint64_t version, const struct timespec times[2])
{
	char text[VERSION_TEXT_MAX];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", version);
	int fd = openat(dir, "system-version", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0644);
	if (fd < 0)
		return err_set("%s: %s", ROOTFS_VERSION_FILE, strerror(errno));
	int rc = io_write_all(fd, text, (size_t)n);
	if (rc == 0 && (fchown(fd, 0, 0) != 0 || fchmod(fd, 0644) != 0 || futimens(fd, times) != 0))
		rc = -1;
	if (close(fd) != 0 || rc != 0)
		return err_set("%s: %s", ROOTFS_VERSION_FILE, strerror(errno));
	return 0;
}

int rootfs_version_put(int tree_fd, uint64_t version, const struct timespec *when, int *added)
{
	/* what is added gets `when`; a directory that gains an entry keeps the times the tar
	 * gave it (the kernel sets them to now) */
	struct timespec now[2] = { { 0, UTIME_NOW }, { 0, UTIME_NOW } };
	struct timespec fresh[2] = { when ? *when : now[0], when ? *when : now[1] };
	struct stat root_st, etc_st = { 0 }, sf_st = { 0 };
	int made_etc = 0, made_sf = 0, rc = 0, etc, sf = -1;
	*added = 0;
	if (fstat(tree_fd, &root_st) != 0)
		return err_set("the extracted tree: %s", strerror(errno));
	if ((etc = open_dir_in(tree_fd, "etc", "/etc", &made_etc)) < 0)
		return -1;
	if (fstat(etc, &etc_st) != 0)
		rc = err_set("/etc: %s", strerror(errno));
	if (rc == 0 && (sf = open_dir_in(etc, "selfflash", "/etc/selfflash", &made_sf)) < 0)
		rc = -1;
	if (rc == 0 && fstat(sf, &sf_st) != 0)
		rc = err_set("/etc/selfflash: %s", strerror(errno));
	if (rc == 0) {
		/* O_NOATIME: reading would set an access time mke2fs copies into the image */
		int fd = openat(sf, "system-version", O_RDONLY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC);
		if (fd < 0 && errno == EPERM)
			fd = openat(sf, "system-version", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			rc = check_existing(fd, version);
		else if (errno == ENOENT)
			rc = write_new(sf, version, fresh);
		else if (errno == ELOOP)
			rc = err_set("the rootfs's %s is a symbolic link", ROOTFS_VERSION_FILE);
		else
			rc = err_set("%s: %s", ROOTFS_VERSION_FILE, strerror(errno));
		*added = fd < 0 && rc == 0;
		if (fd >= 0)
			close(fd);
	}
	struct timespec keep_sf[2] = { sf_st.st_atim, sf_st.st_mtim };
	struct timespec keep_etc[2] = { etc_st.st_atim, etc_st.st_mtim };
	struct timespec keep_root[2] = { root_st.st_atim, root_st.st_mtim };
	if (rc == 0 && (made_sf || *added) && futimens(sf, made_sf ? fresh : keep_sf) != 0)
		rc = err_set("/etc/selfflash: %s", strerror(errno));
	if (rc == 0 && (made_etc || made_sf) && futimens(etc, made_etc ? fresh : keep_etc) != 0)
		rc = err_set("/etc: %s", strerror(errno));
	if (rc == 0 && made_etc && futimens(tree_fd, keep_root) != 0)
		rc = err_set("the extracted tree: %s", strerror(errno));
	if (sf >= 0)
		close(sf);
	close(etc);
	return rc;
}

/* ---- an ext4 image given as it is ---------------------------------------------------- */

/* debugfs -R REQUEST IMAGE, read-only, its output in dir/NAME.out and its messages in
 * dir/NAME.err */
static int run_debugfs(const char *dir, const char *name, const char *request, const char *image)
{
	char out[PATH_MAX_LEN], err[PATH_MAX_LEN];
	snprintf(out, sizeof(out), "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *const argv[] = { "debugfs", "-R", request, "--", image, NULL };
	/* no pager between debugfs and the file, whatever the user's environment says */
	const char *const env[] = { "DEBUGFS_PAGER=__none__", "PAGER=__none__", NULL };
	int rc = ofd < 0 || efd < 0 ? err_set("%s: %s", dir, strerror(errno))
				    : tool_run_split(argv, env, ofd, efd);
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	if (rc > 0)
		return err_set("debugfs %s: exit status %d", image, rc);
	return rc < 0 ? err_prefix("reading %s of %s", ROOTFS_VERSION_FILE, image) : 0;
}

static char *read_result(const char *dir, const char *file, size_t max, size_t *len)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_small_file(path, max, len);
}

/* What debugfs found: 1 and *size for a regular file, 0 for none, -1 with err_set(). */
static int stat_in_image(const char *dir, const char *part, const char *image, uint64_t *size)
{
	if (run_debugfs(dir, "stat", "stat " ROOTFS_VERSION_FILE, image) != 0)
		return -1;
	size_t len;
	char *text = read_result(dir, "stat.out", STAT_TEXT_MAX, &len);
	const char *type = text ? strstr(text, "Type: ") : NULL;
	const char *size_at = text ? strstr(text, "Size: ") : NULL;
	int rc;
	if (type && size_at) {
		char *end;
		errno = 0;
		*size = strtoull(size_at + 6, &end, 10);
		rc = strncmp(type + 6, "regular", 7) != 0
			     ? err_set("partition %s: %s's %s is no regular file (debugfs: Type: "
				       "%.*s)", part, image, ROOTFS_VERSION_FILE,
				       (int)strcspn(type + 6, " \n"), type + 6)
		     : errno || end == size_at + 6
			     ? err_set("partition %s: debugfs gives no size for %s", part,
				       ROOTFS_VERSION_FILE)
			     : 1;
	} else {
		char path[PATH_MAX_LEN], msg[300];
		snprintf(path, sizeof(path), "%s/stat.err", dir);
		tool_output_tail(path, msg, sizeof(msg));
		/* e2fsprogs' message for a name no directory holds (debugfs/util.c) */
		rc = strstr(msg, "File not found by ext2_lookup")
			     ? 0
			     : err_set("partition %s: debugfs cannot read %s: %s", part, image,
				       msg[0] ? msg : "(no message)");
	}
	free(text);
	return rc;
}

static int compare_in_image(const char *dir, const char *part, const char *image,
			    uint64_t version, FILE *out)
{
	uint64_t size = 0;
	int found = stat_in_image(dir, part, image, &size);
	if (found < 0)
		return -1;
	if (!found) {
		fprintf(stderr,
			"mkflashpkg: warning: partition %s: %s has no %s: a tegra board flashed with "
			"it cannot record its system version (%" PRIu64 ") at its first mark-good, "
			"so its first update is refused unless given --allow-downgrade. Add the file "
			"to the rootfs (one line: %" PRIu64 "), or give mkflashpkg l4t NVIDIA's rootfs "
			"tar, which it puts the file into\n",
			part, image, ROOTFS_VERSION_FILE, version, version);
		return 0;
	}
	if (size >= VERSION_TEXT_MAX)
		return err_set("partition %s: %s's %s is %" PRIu64 " bytes, longer than a system "
			       "version", part, image, ROOTFS_VERSION_FILE, size);
	if (run_debugfs(dir, "cat", "cat " ROOTFS_VERSION_FILE, image) != 0)
		return -1;
	size_t len;
	char label[4096 + 128];
	snprintf(label, sizeof(label), "partition %s: %s's %s", part, image, ROOTFS_VERSION_FILE);
	char *text = read_result(dir, "cat.out", VERSION_TEXT_MAX, &len);
	uint64_t says = 0;
	int rc = !text ? -1
		 : len != size ? err_set("%s: debugfs gave %zu bytes of its %" PRIu64, label, len, size)
			       : version_text_parse(text, len, label, &says);
	free(text);
	if (rc == 0 && says != version)
		rc = err_set("%s says %" PRIu64 ", but --system-version is %" PRIu64 ": a tegra board "
			     "flashed with it would record %" PRIu64 " at its first mark-good (make "
			     "them agree)", label, says, version, says);
	if (rc == 0 && out)
		fprintf(out, "rootfs %-9s %s says %" PRIu64 ", as --system-version\n", part,
			ROOTFS_VERSION_FILE, says);
	return rc;
}

int rootfs_version_check_image(const char *part, const char *image, uint64_t version, FILE *out)
{
	int kind = rootfs_kind(image);
	if (kind < 0)
		return -1;
	if (kind != ROOTFS_KIND_EXT4) {
		fprintf(stderr,
			"mkflashpkg: note: partition %s: %s (%s): its %s is not checked against "
			"--system-version (mkflashpkg reads it from raw ext4 images only); a tegra "
			"board records what that file says at its first mark-good\n",
			part, image, rootfs_kind_name(kind), ROOTFS_VERSION_FILE);
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[DIR_MAX];
	if (snprintf(dir, sizeof(dir), "%s/mkflashpkg-version.XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(dir))
		return err_set("temporary directory path too long: %s", tmp);
	if (!mkdtemp(dir))
		return err_set("%s: making a private directory: %s", dir, strerror(errno));
	int rc = compare_in_image(dir, part, image, version, out);
	static const char *const files[] = { "stat.out", "stat.err", "cat.out", "cat.err" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[PATH_MAX_LEN];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return rc;
}
