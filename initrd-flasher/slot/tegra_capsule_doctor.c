/* SPDX-License-Identifier: MIT */
/*
 * doctor's capsule checks (tegra_capsule.h): a capsule waiting in <ESP>/EFI/UpdateCapsule is
 * one UEFI can use, is for this board (TegraFmp refuses another board's at boot, 6151) and is
 * requested (OsIndications bit 0x4; without it UEFI never looks); the ESRT's last result.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capsule.h"
#include "capsule_status.h"
#include "error.h"
#include "io.h"
#include "tegra_backend.h"
#include "tegra_capsule.h"

static void check_file(const struct slot_env *e, const char *path, int asked, FILE *out,
		       int *problems)
{
	char text[1400], seen[CAPSULE_BUP_TNSPEC_LEN + 1] = "";
	size_t len;
	uint8_t *buf = (uint8_t *)read_small_file(path, CAPSULE_MAX_SIZE, &len);
	struct capsule_info ci;
	if (!buf || capsule_parse(buf, len, &ci) != 0) {
		snprintf(text, sizeof(text), "%s: %s; UEFI would apply every file there; fix: remove "
					     "it", path, buf ? err_msg() : "not readable");
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_PROBLEM, "capsule", text);
		free(buf);
		return;
	}
	char compat[CAPSULE_BUP_TNSPEC_LEN + 1];
	tegra_board_spec(e->efivars, "TegraPlatformCompatSpec", compat, sizeof(compat));
	if (ci.has_bup && compat[0] &&
	    !capsule_bup_names_board(&ci, compat, NULL, NULL, seen, sizeof(seen))) {
		snprintf(text, sizeof(text), "%s is for another board (its TnSpec %s, this board "
					     "%s): the firmware would refuse it (6151); fix: remove "
					     "it and update with a package built for this board",
			 path, seen, compat);
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_PROBLEM, "capsule", text);
	} else if (asked) {
		snprintf(text, sizeof(text), "%s is requested: UEFI applies it at the next boot and "
					     "switches to the other chain", path);
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_NOTE, "capsule", text);
	} else {
		snprintf(text, sizeof(text), "%s waits without OsIndications bit 0x4 (an update "
					     "stopped before its last write): UEFI ignores it; fix: "
					     "run the update again", path);
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_PROBLEM, "capsule", text);
	}
	free(buf);
}

/* The T234 entry's last result: a failure is told with its meaning. */
static void check_esrt(const struct slot_env *e, FILE *out, int *problems)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/entries", e->esrt);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[800], line[64] = "";
		size_t len;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/fw_class", dir, de->d_name);
		char *cls = read_small_file(path, 64, &len);
		const int t234 = cls && strncasecmp(cls, CAPSULE_T234_IMAGE_GUID, 36) == 0;
		free(cls);
		snprintf(path, sizeof(path), "%s/%s/last_attempt_status", dir, de->d_name);
		char *las = t234 ? read_small_file(path, 32, &len) : NULL;
		if (las)
			snprintf(line, sizeof(line), "%s", las);
		free(las);
		if (!t234 || !line[0])
			continue;
		char *end, words[200], text[400];
		unsigned long code = strtoul(line, &end, 10);
		if (end == line || code > 0xffffffffu)
			continue;
		capsule_status_text((uint32_t)code, words, sizeof(words));
		snprintf(text, sizeof(text), "the last capsule %s (ESRT %lu: %s)%s",
			 code ? "failed" : "was applied", code, words,
			 code ? "; fix: `selfflash mark-good` clears a stale boot-chain state, "
				"then update again with boot firmware for this board and release"
			      : "");
		tegra_doctor_say(out, problems, code ? TEGRA_DOCTOR_PROBLEM : TEGRA_DOCTOR_OK,
				 "capsule", text);
	}
	closedir(d);
}

void tegra_capsule_doctor(const struct slot_env *e, FILE *out, int *problems)
{
	if (e->esrt)
		check_esrt(e, out, problems);
	if (!e->esp) {
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_NOTE, "capsule",
				 "no esp in the config: an update cannot stage boot firmware");
		return;
	}
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/%s", e->esp, TEGRA_CAPSULE_DIR);
	uint64_t ind = 0;
	int present = 0;
	const int asked = tegra_os_indications_read(e->efivars, &ind, &present) == 0 &&
			  (ind & TEGRA_CAPSULE_OS_INDICATION);
	DIR *d = opendir(dir);
	int files = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char path[800];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		files++;
		check_file(e, path, asked, out, problems);
	}
	if (d)
		closedir(d);
	if (!files)
		tegra_doctor_say(out, problems, TEGRA_DOCTOR_OK, "capsule", "none waiting on the ESP");
}
