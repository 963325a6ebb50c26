/* SPDX-License-Identifier: MIT */
/* An RCM bundle directory resolved to its files, in send order, and checked before anything is
 * sent: from selfflash-rcm.txt, NVIDIA's rcmbootcmd.txt, or NVIDIA's default names. */
#include "rcm_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "lines.h"

/* Longest list or command file read; NVIDIA's rcmbootcmd.txt is about 500 bytes. */
#define BUNDLE_TEXT_MAX (64u << 10)
#define BUNDLE_LINE_MAX 4096

/* Reads a small text file whole into a malloc'd buffer; 1 if it does not exist. */
static int read_text(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return err_set("%s: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set("%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > BUNDLE_TEXT_MAX) {
		close(fd);
		return err_set("%s: %lld bytes, expected at most %u", path, (long long)st.st_size,
			       BUNDLE_TEXT_MAX);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set("out of memory");
	}
	if (io_pread_all(fd, buf, (size_t)st.st_size, 0) != 0) {
		err_set("%s: %s", path, io_error());
		free(buf);
		close(fd);
		return -1;
	}
	close(fd);
	buf[st.st_size] = '\0';
	*text = buf;
	*len = (size_t)st.st_size;
	return 0;
}

struct bundle_parse {
	struct rcm_tegra_bundle *b;
	const char *what; /* "selfflash-rcm.txt" */
};

/* Appends kind/name to the bundle after the checks that need no file system. */
static int bundle_add(struct rcm_tegra_bundle *b, const char *kind, const char *name,
		      const char *origin)
{
	const struct rcm_kind *k = rcm_kind_find(kind);
	if (!k)
		return err_set("%s: unknown kind \"%s\", expected one of " RCM_KIND_LIST, origin,
			       kind);
	if (!(k->chips & rcm_chip_bit(b->chip)))
		return err_set("%s: %s is not part of a %s boot (it exists on T234 only)", origin,
			       kind, rcm_tegra_chip_name(b->chip));
	if (strncmp(name, "./", 2) == 0)
		name += 2;
	if (!*name || strchr(name, '/') || strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
		return err_set("%s: file \"%s\" for %s: expected a plain file name inside the "
			       "bundle directory", origin, name, kind);
	if (strlen(name) >= RCM_TEGRA_NAME_MAX)
		return err_set("%s: file name for %s is %zu bytes, expected at most %d", origin,
			       kind, strlen(name), RCM_TEGRA_NAME_MAX - 1);
	for (unsigned i = 0; i < b->count; i++) {
		if (!k->repeatable && strcmp(b->files[i].kind, kind) == 0)
			return err_set("%s: %s is listed twice (%s and %s)", origin, kind,
				       b->files[i].name, name);
		if (b->files[i].stage == RCM_TEGRA_STAGE_MB1 &&
		    k->stage == RCM_TEGRA_STAGE_BOOTROM)
			return err_set("%s: %s (bootrom stage) comes after %s (MB1 stage); the "
				       "bootrom stage is sent first", origin, kind,
				       b->files[i].kind);
	}
	if (b->count >= RCM_TEGRA_FILES_MAX)
		return err_set("%s: more than %d files", origin, RCM_TEGRA_FILES_MAX);
	struct rcm_tegra_file *f = &b->files[b->count++];
	memset(f, 0, sizeof(*f));
	snprintf(f->kind, sizeof(f->kind), "%s", kind);
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->stage = k->stage;
	return 0;
}

/* A list file line: "KIND FILE". */
static int list_line(char *line, unsigned lineno, void *ctx)
{
	struct bundle_parse *p = ctx;
	char origin[64];
	snprintf(origin, sizeof(origin), "%s line %u", p->what, lineno);
	char *save = NULL;
	char *kind = strtok_r(line, " \t", &save);
	char *name = strtok_r(NULL, " \t", &save);
	char *extra = strtok_r(NULL, " \t", &save);
	if (!kind || !name || extra)
		return err_set("%s: expected \"KIND FILE\", found %s", origin,
			       extra ? "more than two words" : "one word");
	return bundle_add(p->b, kind, name, origin);
}

/* An rcmbootcmd.txt line: picks "--download KIND FILE" and "--rcm FILE" out of a command. */
static int cmd_line(char *line, unsigned lineno, void *ctx)
{
	struct bundle_parse *p = ctx;
	char origin[64];
	snprintf(origin, sizeof(origin), "%s line %u", p->what, lineno);
	char *save = NULL;
	for (char *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "--download") == 0) {
			char *kind = strtok_r(NULL, " \t", &save);
			char *name = kind ? strtok_r(NULL, " \t", &save) : NULL;
			if (!name)
				return err_set("%s: --download needs KIND FILE", origin);
			if (!rcm_kind_find(kind))
				return err_set("%s: --download %s is a kind this tool does not "
					       "send (expected one of " RCM_KIND_LIST "); list the "
					       "files in %s instead", origin, kind,
					       RCM_TEGRA_LIST_NAME);
			if (bundle_add(p->b, kind, name, origin) != 0)
				return -1;
		} else if (strcmp(w, "--rcm") == 0) {
			char *name = strtok_r(NULL, " \t", &save);
			if (!name)
				return err_set("%s: --rcm needs a FILE", origin);
			if (bundle_add(p->b, "rcm", name, origin) != 0)
				return -1;
		}
	}
	return 0;
}

int rcm_bundle_path(const struct rcm_tegra_bundle *b, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", b->dir, name);
	if (n < 0 || (size_t)n >= size)
		return err_set("%s/%s: path longer than %zu bytes", b->dir, name, size - 1);
	return 0;
}

static int bundle_from_defaults(struct rcm_tegra_bundle *b)
{
	size_t n;
	const struct rcm_default_file *d = rcm_chip_default_files(b->chip, &n);
	char missing[1024] = "";
	size_t used = 0, found = 0;
	for (size_t i = 0; i < n; i++) {
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		struct stat st;
		if (rcm_bundle_path(b, d[i].name, path, sizeof(path)) != 0)
			return -1;
		if (stat(path, &st) == 0) {
			found++;
		} else {
			int w = snprintf(missing + used, sizeof(missing) - used, "%s%s (%s)",
					 used ? ", " : "", d[i].name, d[i].kind);
			if (w > 0 && (size_t)w < sizeof(missing) - used)
				used += (size_t)w;
		}
		if (bundle_add(b, d[i].kind, d[i].name, "built-in names") != 0)
			return -1;
	}
	if (found == 0)
		return err_set("RCM bundle %s: found no %s, no %s and none of NVIDIA's %s file "
			       "names; expected the rcmboot_blob directory tegraflash leaves "
			       "after an rcm boot", b->dir, RCM_TEGRA_LIST_NAME,
			       RCM_TEGRA_CMD_NAME, rcm_tegra_chip_name(b->chip));
	if (found < n)
		return err_set("RCM bundle %s: no %s or %s, and NVIDIA's %s files are incomplete: "
			       "missing %s", b->dir, RCM_TEGRA_LIST_NAME, RCM_TEGRA_CMD_NAME,
			       rcm_tegra_chip_name(b->chip), missing);
	return 0;
}

/* Every file exists, is regular, not empty and within its kind's limit; records sizes. */
static int bundle_check_files(struct rcm_tegra_bundle *b)
{
	for (unsigned i = 0; i < b->count; i++) {
		struct rcm_tegra_file *f = &b->files[i];
		const struct rcm_kind *k = rcm_kind_find(f->kind);
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		struct stat st;
		if (rcm_bundle_path(b, f->name, path, sizeof(path)) != 0)
			return -1;
		if (stat(path, &st) != 0)
			return err_set("RCM bundle %s: %s file %s (from %s): %s", b->dir, f->kind,
				       f->name, b->source,
				       errno == ENOENT ? "missing" : strerror(errno));
		if (!S_ISREG(st.st_mode))
			return err_set("RCM bundle %s: %s file %s is not a regular file", b->dir,
				       f->kind, f->name);
		f->size = (uint64_t)st.st_size;
		if (f->size == 0)
			return err_set("RCM bundle %s: %s file %s is empty", b->dir, f->kind,
				       f->name);
		if (f->size > k->max)
			return err_set("RCM bundle %s: %s file %s is %llu bytes, the limit for %s "
				       "is %llu bytes (%llu KiB)", b->dir, f->kind, f->name,
				       (unsigned long long)f->size, f->kind,
				       (unsigned long long)k->max,
				       (unsigned long long)(k->max >> 10));
		if (b->chip == RCM_TEGRA_T234 && rcm_kind_wants_nvda(f->kind)) {
			uint8_t magic[4] = { 0 };
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			int rc = fd < 0 ? -1 : io_pread_all(fd, magic, sizeof(magic), 0);
			if (fd >= 0)
				close(fd);
			if (rc != 0)
				return err_set("RCM bundle %s: %s file %s: %s", b->dir, f->kind,
					       f->name, fd < 0 ? strerror(errno) : io_error());
			if (memcmp(magic, RCM_NVDA_MAGIC, 4) != 0)
				return err_set("RCM bundle %s: %s file %s starts with %02x %02x %02x "
					       "%02x, expected \"NVDA\" (a file signed by NVIDIA's "
					       "tools)", b->dir, f->kind, f->name, magic[0],
					       magic[1], magic[2], magic[3]);
		}
	}
	return 0;
}

/* The stages hold what the chip needs: something for the bootrom, then bct_mem and blob. */
static int bundle_check_stages(const struct rcm_tegra_bundle *b)
{
	unsigned bootrom = 0;
	const char *mb1_kinds[2] = { NULL, NULL };
	unsigned mb1 = 0;
	for (unsigned i = 0; i < b->count; i++) {
		if (b->files[i].stage == RCM_TEGRA_STAGE_BOOTROM)
			bootrom++;
		else if (mb1 < 2)
			mb1_kinds[mb1++] = b->files[i].kind;
	}
	if (bootrom == 0)
		return err_set("RCM bundle %s (%s): no bootrom-stage file, expected e.g. bct_br, "
			       "mb1, bct_mb1", b->dir, b->source);
	if (b->chip == RCM_TEGRA_T234) {
		for (unsigned r = 0; r < RCM_T234_BOOTROM_FILES; r++) {
			unsigned i = 0;
			while (i < b->count && strcmp(b->files[i].kind, rcm_t234_bootrom_order[r]))
				i++;
			if (i == b->count)
				return err_set("RCM bundle %s (%s): a T234 bootrom stage needs "
					       "bct_br, mb1, psc_bl1 and bct_mb1; %s is missing",
					       b->dir, b->source, rcm_t234_bootrom_order[r]);
			if (i != r)
				return err_set("RCM bundle %s (%s): %s is file %u of the bootrom "
					       "stage; T234 takes bct_br, mb1, psc_bl1, bct_mb1 in "
					       "that order", b->dir, b->source, rcm_t234_bootrom_order[r],
					       i + 1);
		}
	}
	if (mb1 != 2 || strcmp(mb1_kinds[0], "bct_mem") != 0 || strcmp(mb1_kinds[1], "blob") != 0)
		return err_set("RCM bundle %s (%s): the MB1 stage must be bct_mem then blob, found "
			       "%s%s%s", b->dir, b->source, mb1 ? mb1_kinds[0] : "nothing",
			       mb1 > 1 ? " then " : "", mb1 > 1 ? mb1_kinds[1] : "");
	return 0;
}

int rcm_tegra_load_bundle(struct rcm_tegra_bundle *b, const char *dir, enum rcm_tegra_chip chip)
{
	memset(b, 0, sizeof(*b));
	if (!rcm_chip_bit(chip))
		return err_set("RCM bundle: chip 0x%02x is not T194 (0x19) or T234 (0x23)",
			       (unsigned)chip);
	if (strlen(dir) >= sizeof(b->dir))
		return err_set("RCM bundle: directory path longer than %zu bytes",
			       sizeof(b->dir) - 1);
	snprintf(b->dir, sizeof(b->dir), "%s", dir);
	b->chip = chip;
	struct stat st;
	if (stat(dir, &st) != 0)
		return err_set("RCM bundle %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set("RCM bundle %s: not a directory", dir);

	static const struct {
		const char *name;
		line_fn fn;
	} texts[] = { { RCM_TEGRA_LIST_NAME, list_line }, { RCM_TEGRA_CMD_NAME, cmd_line } };
	int rc = 1;
	for (size_t i = 0; rc == 1 && i < sizeof(texts) / sizeof(texts[0]); i++) {
		char path[RCM_TEGRA_DIR_MAX + RCM_TEGRA_NAME_MAX + 2];
		char *text = NULL;
		size_t len = 0;
		if (rcm_bundle_path(b, texts[i].name, path, sizeof(path)) != 0)
			return -1;
		rc = read_text(path, &text, &len);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			b->source = texts[i].name;
			struct bundle_parse p = { b, texts[i].name };
			int prc = text_each_line(text, len, texts[i].name, BUNDLE_LINE_MAX,
						 texts[i].fn, &p);
			free(text);
			if (prc != 0)
				return err_prefix("RCM bundle %s", dir);
			if (b->count == 0)
				return err_set("RCM bundle %s: %s names no files", dir,
					       texts[i].name);
		}
	}
	if (rc == 1) {
		b->source = "NVIDIA's default names";
		if (bundle_from_defaults(b) != 0)
			return -1;
	}
	if (bundle_check_stages(b) != 0 || bundle_check_files(b) != 0)
		return -1;
	return 0;
}

int rcm_tegra_bundle_set_blob(struct rcm_tegra_bundle *b, const uint8_t *data, uint64_t size)
{
	if (size == 0 || size > RCM_TEGRA_BLOB_MAX)
		return err_set("RCM bundle %s: blob of %llu bytes, expected 1..%u", b->dir,
			       (unsigned long long)size, RCM_TEGRA_BLOB_MAX);
	for (unsigned i = 0; i < b->count; i++) {
		if (strcmp(b->files[i].kind, "blob") == 0) {
			b->blob = data;
			b->blob_size = size;
			b->files[i].size = size;
			return 0;
		}
	}
	return err_set("RCM bundle %s: has no blob to replace", b->dir);
}

void rcm_tegra_print_bundle(FILE *out, const struct rcm_tegra_bundle *b)
{
	fprintf(out, "RCM bundle %s for %s (files from %s):\n", b->dir,
		rcm_tegra_chip_name(b->chip), b->source);
	for (unsigned i = 0; i < b->count; i++)
		fprintf(out, "  %-13s %-8s %10llu  %s%s\n", rcm_stage_name(b->files[i].stage),
			b->files[i].kind, (unsigned long long)b->files[i].size, b->files[i].name,
			b->blob && strcmp(b->files[i].kind, "blob") == 0
				? " with its kernel swapped (the size sent)"
				: "");
}
