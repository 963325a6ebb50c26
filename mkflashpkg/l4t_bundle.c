/* SPDX-License-Identifier: MIT */
/*
 * The RCM bundle as NVIDIA's tools leave it: a command file of tegrarcm_v2 lines, each
 * "--download KIND FILE" naming a file in the same directory, e.g. (R36.4 rcmbootcmd.txt)
 *   ./tegrarcm_v2 --new_session --chip 0x23 0 --uid --download bct_br br_bct_BR.bct ...
 *   ./tegrarcm_v2 --chip 0x23 0 --pollbl --download bct_mem mem_rcm.bct --download blob blob.bin
 * The command file is read, not file names assumed; hostload reads the copy the same way.
 */
#include "l4t.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "fdt_compat.h"
#include "io.h"
#include "rcm_blob.h"

#define BUNDLE_FILES_MAX 16
/* RcmDxe.h (edk2-nvidia) IMAGE_TYPE_KERNEL_DTB: the kernel's DTB in an RCM blob */
#define BLOB_TYPE_KERNEL_DTB 46u

/* Writes the two tegrarcm_v2 lines NVIDIA's rcmbootcmd.txt holds, for the default names. */
static int copy_defaults(const char *from_dir, const char *dir)
{
	char to[4200], from[4200];
	snprintf(to, sizeof(to), "%s/rcmbootcmd.txt", dir);
	FILE *cmd = fopen(to, "w");
	if (!cmd)
		return err_set("%s: %s", to, strerror(errno));
	fprintf(cmd, "./tegrarcm_v2 --new_session --chip 0x23 0 --uid");
	int rc = 0;
	size_t count;
	const char *const(*t234_defaults)[2] = l4t_rcm_default_names(&count);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		if (i == 4)
			fprintf(cmd, "\n./tegrarcm_v2 --chip 0x23 0 --pollbl");
		fprintf(cmd, " --download %s %s", t234_defaults[i][0], t234_defaults[i][1]);
		snprintf(from, sizeof(from), "%s/%s", from_dir, t234_defaults[i][1]);
		snprintf(to, sizeof(to), "%s/%s", dir, t234_defaults[i][1]);
		rc = l4t_copy_file(from, to);
	}
	fputc('\n', cmd);
	if (fclose(cmd) != 0 && rc == 0)
		rc = err_set("%s/rcmbootcmd.txt: write failed", dir);
	return rc;
}

int l4t_bundle_compatible(const char *blob_path, char *out, size_t out_size)
{
	int fd = open(blob_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", blob_path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return err_set("%s: not a regular file", blob_path);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return err_set("%s: mmap: %s", blob_path, strerror(errno));
	static struct rcm_blob b;
	int rc = rcm_blob_parse(&b, map, (uint64_t)st.st_size);
	int k = rc == 0 ? rcm_blob_find(&b, BLOB_TYPE_KERNEL_DTB) : -1;
	if (k >= 0)
		rc = fdt_root_compatible((const uint8_t *)map + b.entry[k].offset, b.entry[k].size,
					 out, out_size);
	else
		rc = -1;
	munmap(map, (size_t)st.st_size);
	return rc ? err_prefix("%s", blob_path) : 0;
}

static int plain_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int l4t_copy_bundle(const struct l4t_tree *t, const char *dir)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return err_set("%s: %s", dir, strerror(errno));
	if (!t->bundle_cmd[0])
		return copy_defaults(t->bundle_dir, dir);
	size_t len;
	char *text = read_small_file(t->bundle_cmd, 1u << 16, &len);
	if (!text)
		return -1;
	const char *base = strrchr(t->bundle_cmd, '/') ? strrchr(t->bundle_cmd, '/') + 1
						      : t->bundle_cmd;
	char to[L4T_PATH_MAX + 256], from[L4T_PATH_MAX + 256];
	/* hostload reads rcmbootcmd.txt: the copy has that name whatever the release called it */
	snprintf(to, sizeof(to), "%s/rcmbootcmd.txt", dir);
	int rc = l4t_copy_file(t->bundle_cmd, to), files = 0;
	char *save = NULL;
	for (char *tok = strtok_r(text, " \t\r\n", &save); rc == 0 && tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (strcmp(tok, "--download") != 0)
			continue;
		char *kind = strtok_r(NULL, " \t\r\n", &save);
		char *name = kind ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (!name) {
			rc = err_set("%s: --download without KIND FILE", t->bundle_cmd);
			break;
		}
		if (strncmp(name, "./", 2) == 0)
			name += 2;
		if (!plain_name(name)) {
			rc = err_set("%s: %s file \"%s\" is not a plain file name in the bundle "
				     "directory", t->bundle_cmd, kind, name);
			break;
		}
		snprintf(from, sizeof(from), "%s/%s", t->bundle_dir, name);
		snprintf(to, sizeof(to), "%s/%s", dir, name);
		struct stat st;
		if (stat(from, &st) != 0 || !S_ISREG(st.st_mode))
			rc = err_set("%s names %s %s, which is not in %s", base, kind, name,
				     t->bundle_dir);
		else if (++files > BUNDLE_FILES_MAX)
			rc = err_set("%s names more than %d files", base, BUNDLE_FILES_MAX);
		else
			rc = l4t_copy_file(from, to);
	}
	free(text);
	if (rc == 0 && files == 0)
		rc = err_set("%s names no file to send (no --download KIND FILE)", t->bundle_cmd);
	return rc;
}

int l4t_bundle_blob(const struct l4t_tree *t, char *out, size_t size)
{
	const char *name = "blob.bin";
	size_t len;
	char *text = t->bundle_cmd[0] ? read_small_file(t->bundle_cmd, 1u << 16, &len) : NULL;
	const char *p = text ? strstr(text, "--download blob ") : NULL;
	if (p) {
		static char found[256]; /* name points into it after the block */
		p += strlen("--download blob ");
		snprintf(found, sizeof(found), "%.*s", (int)strcspn(p, " \t\r\n"), p);
		name = strncmp(found, "./", 2) == 0 ? found + 2 : found;
	}
	int rc = plain_name(name) ? 0 : err_set("%s: blob file \"%s\" is not a plain name",
						t->bundle_cmd, name);
	if (rc == 0 && snprintf(out, size, "%s/%s", t->bundle_dir, name) >= (int)size)
		rc = err_set("%s/%s: path too long", t->bundle_dir, name);
	free(text);
	return rc;
}

int l4t_check_bundle_board(const struct l4t_tree *t, const char *board)
{
	char blob[L4T_PATH_MAX], compat[1024], want[16];
	if (l4t_bundle_blob(t, blob, sizeof(blob)) != 0)
		return -1;
	if (l4t_bundle_compatible(blob, compat, sizeof(compat)) != 0) {
		printf("RCM bundle       board NOT checked: %s\n", err_msg());
		return 0;
	}
	snprintf(want, sizeof(want), "p%s", board);
	if (board[0] && !strstr(compat, want))
		return err_set("the RCM bundle in %s boots a board whose DTB is \"%s\", but the "
			       "images are for module %s: make the bundle for the same board",
			       t->bundle_dir, compat, board);
	printf("RCM bundle       for %s (its blob's kernel DTB)%s\n", compat,
	       board[0] ? ": the same module as the images" : "");
	return 0;
}
