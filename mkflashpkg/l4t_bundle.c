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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "io.h"

#define BUNDLE_FILES_MAX 16

static int plain_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int l4t_copy_bundle(const struct l4t_tree *t, const char *dir)
{
	size_t len;
	char *text = read_small_file(t->bundle_cmd, 1u << 16, &len);
	if (!text)
		return -1;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		free(text);
		return err_set("%s: %s", dir, strerror(errno));
	}
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
