/* SPDX-License-Identifier: MIT */
/* edk2-nvidia's capsule on disk, modelled on the variable directory (t234_model_capsule.h). */
#include "t234_model_capsule.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capsule.h"
#include "slot/capsule_status.h"
#include "io.h"
#include "le.h"
#include "slot/bootslot.h"

/* STATUS_ERROR_CANCELED_FOR_FMP_CONFLICT (BootChainDxePrivate.h) */
#define STATUS_CANCELED_FOR_FMP 3u
/* MdePkg SystemResourceTable.h; TegraFmp.c LAS_ERROR_IMAGE_NOT_IN_PACKAGE */
#define LAS_INVALID_FORMAT 4u
#define LAS_IMAGE_NOT_IN_PACKAGE 6151u

/* The firmware's own variable access: straight to the files, not through the backend's
 * primitives (a test counts those to cut the power). */
static void var_path(const struct t234_model *m, const char *name, const char *guid, char *out,
		     size_t size)
{
	snprintf(out, size, "%s/%s-%s", m->dir, name, guid);
}

static int var_exists(const struct t234_model *m, const char *name)
{
	char p[600];
	var_path(m, name, BOOTCHAIN_GUID, p, sizeof(p));
	return access(p, F_OK) == 0;
}

static void var_delete(const struct t234_model *m, const char *name, const char *guid)
{
	char p[600];
	var_path(m, name, guid, p, sizeof(p));
	unlink(p);
}

static int var_write(const struct t234_model *m, const char *name, const char *guid,
		     const uint8_t *v, size_t len)
{
	char p[600];
	uint8_t buf[16];
	var_path(m, name, guid, p, sizeof(p));
	le32_store(buf, 7);
	memcpy(buf + 4, v, len);
	FILE *f = fopen(p, "wb");
	int rc = f && fwrite(buf, 1, 4 + len, f) == 4 + len ? 0 : -1;
	if (f)
		fclose(f);
	return rc;
}

static void esrt_write(const struct model_capsule *c)
{
	if (!c->esrt)
		return;
	char p[600];
	snprintf(p, sizeof(p), "%s/entries", c->esrt);
	mkdir(c->esrt, 0755);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/entries/entry0", c->esrt);
	mkdir(p, 0755);
	static const char *const files[] = { "fw_class", "last_attempt_status" };
	for (int i = 0; i < 2; i++) {
		char f[700];
		snprintf(f, sizeof(f), "%s/%s", p, files[i]);
		FILE *o = fopen(f, "w");
		if (!o)
			continue;
		if (i == 0)
			fprintf(o, "%s\n", CAPSULE_T234_IMAGE_GUID);
		else
			fprintf(o, "%u\n", c->las);
		fclose(o);
	}
}

/* TegraFmp's CheckImage and SetImage for one capsule file. */
static void process(struct t234_model *m, uint32_t chain, struct model_capsule *c,
		    const uint8_t *buf, size_t len)
{
	struct capsule_info ci;
	c->las_present = 1;
	if (capsule_parse(buf, len, &ci) != 0) {
		c->las = LAS_INVALID_FORMAT;
		return;
	}
	/* BootChainCheckAndCancelUpdate (BootChainDxe.c:218-252@r35.4.1) */
	int cancel = 0;
	if (var_exists(m, "BootChainFwNext")) {
		cancel = 1;
		var_delete(m, "BootChainFwNext", BOOTCHAIN_GUID);
	}
	cancel |= var_exists(m, "BootChainFwStatus");
	if (cancel) {
		uint8_t v[4];
		le32_store(v, STATUS_CANCELED_FOR_FMP);
		var_write(m, "BootChainFwStatus", BOOTCHAIN_GUID, v, 4);
		c->las = CAPSULE_LAS_BOOT_CHAIN_CANCELED;
		return;
	}
	char seen[CAPSULE_BUP_TNSPEC_LEN + 1];
	if (c->board_spec && c->board_spec[0] && ci.has_bup &&
	    !capsule_bup_names_board(&ci, c->board_spec, NULL, NULL, seen, sizeof(seen))) {
		c->las = LAS_IMAGE_NOT_IN_PACKAGE;
		return;
	}
	/* the inactive chain written, then UpdateFwChain (OTHER_BOOT_CHAIN): no variable */
	m->br_bct_chain = 1 - chain;
	c->las = 0;
	c->applied++;
}

int model_capsule_on_disk(struct t234_model *m, uint32_t chain, struct model_capsule *c)
{
	uint8_t v[8];
	char p[600];
	var_path(m, "OsIndications", EFI_GLOBAL_GUID, p, sizeof(p));
	size_t len;
	char *text = read_small_file(p, 64, &len);
	uint64_t ind = text && len == 12 ? le64_load((const uint8_t *)text + 4) : 0;
	free(text);
	c->files_loaded = 0;
	if (!(ind & 0x4))
		return 0; /* CoDCheckCapsuleOnDiskFlag */
	/* CoDClearCapsuleOnDiskFlag: the bit cleared, BootNext deleted */
	le64_store(v, ind & ~(uint64_t)0x4);
	if (var_write(m, "OsIndications", EFI_GLOBAL_GUID, v, 8) != 0)
		return -1;
	var_delete(m, "BootNext", EFI_GLOBAL_GUID);
	/* GetAllCapsuleOnDisk: every file, alphabetical, all of them removed */
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/EFI/UpdateCapsule", c->esp);
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		char f[1200];
		struct stat st;
		snprintf(f, sizeof(f), "%s/%s", dir, list[i]->d_name);
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode)) {
			uint8_t *buf = (uint8_t *)read_small_file(f, CAPSULE_MAX_SIZE, &len);
			unlink(f);
			c->files_loaded++;
			if (buf)
				process(m, chain, c, buf, len);
			free(buf);
		}
		free(list[i]);
	}
	free(list);
	if (c->las_present)
		esrt_write(c);
	return 1; /* PlatformBm: NeedReset = TRUE, ResetSystem (EfiResetCold) */
}
