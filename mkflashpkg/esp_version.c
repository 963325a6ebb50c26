/* SPDX-License-Identifier: MIT */
/* The system version in an ESP image's selfflash loader entries, read with mtools
 * (esp_version.h). */
#include "esp_version.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "tool_run.h"
#include "version_text.h"

/* the board's entry names (initrd-flasher/slot/bls_entry.h BLS_NAME_PREFIX) and its line */
#define ENTRY_PREFIX "selfflash-slot-"
#define VERSION_LINE "# selfflash system-version "
#define ENTRIES_DIR "::/loader/entries"
/* an entry is a few hundred bytes (the board reads at most 4 KiB); a listing of many entries */
#define TOOL_OUTPUT_MAX 65536
#define ENTRY_NAME_MAX 255

/* A FAT boot sector: the 0x55AA signature and "FAT" where FAT12/16 or FAT32 name the type. */
static int is_fat(const char *image)
{
	unsigned char b[512];
	int fd = open(image, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: %s", image, strerror(errno));
	ssize_t n = pread(fd, b, sizeof(b), 0);
	close(fd);
	return n == (ssize_t)sizeof(b) && b[510] == 0x55 && b[511] == 0xAA &&
	       (memcmp(b + 54, "FAT", 3) == 0 || memcmp(b + 82, "FAT32", 5) == 0);
}

/* What a tool wrote to f (a tmpfile), NUL-terminated, at most TOOL_OUTPUT_MAX bytes. */
static char *slurp(FILE *f, size_t *len)
{
	char *text = malloc(TOOL_OUTPUT_MAX + 1);
	if (!text)
		return NULL;
	rewind(f);
	*len = fread(text, 1, TOOL_OUTPUT_MAX, f);
	text[*len] = '\0';
	return text;
}

/*
 * argv run with mtools told to skip its geometry check (a file system image has no disk
 * geometry); its standard output in *out (malloc'd), its last message in msg. The program's
 * exit status, or -1 with err_set() when it could not run.
 */
static int run_mtool(const char *const argv[], char **out, size_t *len, char *msg, size_t cap)
{
	static const char *const env[] = { "MTOOLS_SKIP_CHECK=1", NULL };
	FILE *o = tmpfile(), *e = tmpfile();
	int rc = !o || !e ? err_set("a temporary file: %s", strerror(errno))
			  : tool_run_split(argv, env, fileno(o), fileno(e));
	*out = NULL;
	msg[0] = '\0';
	if (rc >= 0) {
		*out = slurp(o, len);
		size_t elen;
		char *etext = slurp(e, &elen);
		if (!*out || !etext)
			rc = err_set("out of memory");
		else /* the last line: mtools says one thing per failure */
			snprintf(msg, cap, "%.*s", (int)strcspn(etext, "\n"), etext);
		free(etext);
	}
	if (o)
		fclose(o);
	if (e)
		fclose(e);
	return rc;
}

/* One entry's version line against version. */
static int check_entry(const char *part, const char *image, const char *name, uint64_t version,
		       FILE *out)
{
	char path[sizeof(ENTRIES_DIR) + ENTRY_NAME_MAX + 2], msg[256];
	snprintf(path, sizeof(path), "%s/%s", ENTRIES_DIR, name);
	const char *const argv[] = { "mtype", "-i", image, path, NULL };
	char *text;
	size_t len;
	int rc = run_mtool(argv, &text, &len, msg, sizeof(msg));
	if (rc != 0) {
		free(text);
		return rc < 0 ? -1 : err_set("partition %s: mtype %s %s: %s", part, image, path, msg);
	}
	char label[4096 + 2 * ENTRY_NAME_MAX];
	snprintf(label, sizeof(label), "partition %s: %s's loader/entries/%s", part, image, name);
	const char *line = strstr(text, VERSION_LINE);
	while (line && line != text && line[-1] != '\n') /* only at the start of a line */
		line = strstr(line + 1, VERSION_LINE);
	uint64_t says = 0;
	if (!line) {
		fprintf(stderr, "mkflashpkg: warning: %s has no '" VERSION_LINE "N' line: a "
				"systemd-boot board flashed with it does not know its version, so its "
				"first update is refused unless given --allow-downgrade (add the line "
				"saying %" PRIu64 ")\n", label, version);
	} else {
		const char *number = line + strlen(VERSION_LINE);
		size_t n = strcspn(number, "\n");
		rc = version_text_parse(number, n, label, &says);
		if (rc == 0 && says != version)
			rc = err_set("%s says system version %" PRIu64 ", but --system-version is "
				     "%" PRIu64 ": a systemd-boot board flashed with it would take "
				     "itself for %" PRIu64 " and accept packages older than what it "
				     "runs (make them agree)", label, says, version, says);
		if (rc == 0 && out)
			fprintf(out, "esp       %s says %" PRIu64 ", as --system-version\n", name, says);
	}
	free(text);
	return rc;
}

int esp_version_check_image(const char *part, const char *image, uint64_t version, FILE *out)
{
	int fat = is_fat(image);
	if (fat <= 0)
		return fat;
	const char *const argv[] = { "mdir", "-b", "-i", image, ENTRIES_DIR, NULL };
	char *list, msg[256];
	size_t len;
	int rc = run_mtool(argv, &list, &len, msg, sizeof(msg));
	if (rc < 0 && strstr(err_msg(), "is not installed")) {
		fprintf(stderr, "mkflashpkg: note: partition %s: %s is a FAT file system; its "
				"loader entries' system version is not checked (%s: install mtools)\n",
			part, image, err_msg());
		return 0;
	}
	if (rc != 0) {
		free(list);
		/* no loader/entries: not a systemd-boot ESP (mtools: File "..." not found) */
		return rc < 0 ? -1 : strstr(msg, "not found") ? 0
				     : err_set("partition %s: mdir %s: %s", part, image, msg);
	}
	for (char *at = list, *end; rc == 0 && *at; at = *end ? end + 1 : end) {
		end = at + strcspn(at, "\n");
		char *name = at;
		for (char *p = at; p < end; p++) /* "::/loader/entries/NAME": NAME */
			if (*p == '/')
				name = p + 1;
		size_t n = (size_t)(end - name);
		if (n > ENTRY_NAME_MAX || n < strlen(ENTRY_PREFIX) + 5 ||
		    strncmp(name, ENTRY_PREFIX, strlen(ENTRY_PREFIX)) != 0 ||
		    strncmp(end - 5, ".conf", 5) != 0)
			continue;
		char entry[ENTRY_NAME_MAX + 1];
		snprintf(entry, sizeof(entry), "%.*s", (int)n, name);
		rc = check_entry(part, image, entry, version, out);
	}
	free(list);
	return rc;
}
