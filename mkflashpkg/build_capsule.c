/* SPDX-License-Identifier: MIT */
/* A firmware capsule checked before a package carries it (build_capsule.h). */
#include "build_capsule.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "capsule.h"
#include "error.h"
#include "io.h"

int build_capsule_check(const char *path, const struct pkg_variant *variants, uint32_t n,
			uint64_t *size, FILE *log)
{
	size_t len;
	uint8_t *buf = (uint8_t *)read_small_file(path, CAPSULE_MAX_SIZE, &len);
	if (!buf)
		return err_prefix("--capsule");
	struct capsule_info ci;
	int rc = capsule_parse(buf, len, &ci);
	if (rc != 0)
		rc = err_prefix("--capsule %s", path);
	for (uint32_t i = 0; rc == 0 && ci.has_bup && i < n; i++) {
		char seen[CAPSULE_BUP_TNSPEC_LEN + 1];
		const struct pkg_variant *v = &variants[i];
		if (!capsule_bup_names_board(&ci, NULL, v->board, v->sku, seen, sizeof(seen)))
			rc = err_set("--capsule %s is not for variant %s (board %s, SKU %s): its "
				     "update package's entries name %s...; the firmware would refuse "
				     "it (6151)", path, v->name, v->board[0] ? v->board : "any",
				     v->sku[0] ? v->sku : "any", seen);
	}
	if (rc == 0 && log)
		fprintf(log, "capsule %s: %zu bytes, payload %s%s; %s%s\n", path, len, ci.image_type,
			strcmp(ci.image_type, CAPSULE_T234_IMAGE_GUID) == 0 ? " (T234)" : "",
			ci.has_bup ? "its update package names the package's boards" : "board not "
			"checked: ", ci.has_bup ? "" : ci.no_bup);
	*size = len;
	free(buf);
	return rc;
}
