/* SPDX-License-Identifier: MIT */
/* selfflash's loader entries as text: names with boot counters, contents, loader.conf. */
#include "bls_entry.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/*
 * A decimal number at *s up to max, no sign, at least one digit; *s moves past it. Leading
 * zeros are allowed: systemd-boot's parse_number16 takes them (src/boot/efi/efi-string.c).
 */
static int parse_decimal(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (v > (max - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	*s = p;
	*out = v;
	return 0;
}

int bls_name_parse(const char *name, struct bls_name *n)
{
	size_t plen = strlen(BLS_NAME_PREFIX);
	if (strncmp(name, BLS_NAME_PREFIX, plen) != 0)
		return 0;
	const char *p = name + plen;
	memset(n, 0, sizeof(*n));
	if (*p != 'a' && *p != 'b')
		return err_set("loader entry %s: the slot after '%s' is '%.1s', expected a or b",
			       name, BLS_NAME_PREFIX, p);
	n->slot = *p == 'b';
	p++;
	if (*p == '+') {
		/*
		 * systemd-boot ignores a counter above INT_MAX and would then treat the entry as
		 * confirmed (config_entry_parse_tries, src/boot/efi/boot.c), so such a name is
		 * refused rather than read as a trial.
		 */
		uint64_t left, done = 0;
		p++;
		if (parse_decimal(&p, INT_MAX, &left) < 0)
			return err_set("loader entry %s: the boot counter after '+' is not a decimal "
				       "number up to %d",
				       name, INT_MAX);
		if (*p == '-') {
			p++;
			if (parse_decimal(&p, INT_MAX, &done) < 0)
				return err_set("loader entry %s: the tries-done counter after '-' is "
					       "not a decimal number up to %d",
					       name, INT_MAX);
		}
		n->has_counter = 1;
		n->tries_left = (int)left;
		n->tries_done = (int)done;
	}
	if (strcmp(p, ".conf") == 0)
		return 1;
	if (strcmp(p, ".conf.tmp") == 0) {
		n->is_tmp = 1;
		return 1;
	}
	return err_set("loader entry %s: unexpected '%s' after the slot and counter; expected "
		       "%sS.conf, %sS+LEFT.conf or %sS+LEFT-DONE.conf",
		       name, p, BLS_NAME_PREFIX, BLS_NAME_PREFIX, BLS_NAME_PREFIX);
}

int bls_name_format(char *buf, size_t cap, int slot, int tries_left)
{
	int n;
	if (tries_left < 0)
		n = snprintf(buf, cap, "%s%c.conf", BLS_NAME_PREFIX, slot ? 'b' : 'a');
	else
		n = snprintf(buf, cap, "%s%c+%d.conf", BLS_NAME_PREFIX, slot ? 'b' : 'a',
			     tries_left);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The parts of an entry seen so far, to refuse a key given twice or missing. */
enum entry_key { KEY_TITLE, KEY_SORT_KEY, KEY_VERSION, KEY_LINUX, KEY_INITRD, KEY_OPTIONS, KEYS };
static const char *const entry_keys[KEYS] = { "title", "sort-key", "version",
					      "linux", "initrd", "options" };

static int entry_path_is(const char *value, int slot, const char *leaf)
{
	char want[64];
	snprintf(want, sizeof(want), "/selfflash/slot-%c/%s", slot ? 'b' : 'a', leaf);
	return strcmp(value, want) == 0;
}

/* One non-empty line of an entry (NUL-terminated, no newline). */
static int entry_parse_line(char *line, unsigned lineno, const char *file, int slot,
			    int seen[KEYS], struct bls_entry *e)
{
	static const char version_comment[] = "# selfflash system-version ";
	if (line[0] == '#') {
		if (strncmp(line, version_comment, sizeof(version_comment) - 1) != 0)
			return 0; /* a comment of someone else's */
		const char *p = line + sizeof(version_comment) - 1;
		if (e->has_system_version || parse_decimal(&p, UINT64_MAX, &e->system_version) < 0 ||
		    *p != '\0')
			return err_set("loader entry %s line %u: expected one '%sV' with V a "
				       "decimal number below 2^64",
				       file, lineno, version_comment);
		e->has_system_version = 1;
		return 0;
	}
	char *value = line + strcspn(line, " \t");
	if (*value != '\0')
		*value++ = '\0';
	value += strspn(value, " \t");
	int k;
	for (k = 0; k < KEYS && strcmp(line, entry_keys[k]) != 0; k++)
		;
	if (k == KEYS)
		return err_set("loader entry %s line %u: unknown key '%.40s' (selfflash writes "
			       "title, sort-key, version, linux, initrd, options)",
			       file, lineno, line);
	if (seen[k]++)
		return err_set("loader entry %s line %u: '%s' given twice", file, lineno, line);
	const char *p = value;
	switch (k) {
	case KEY_SORT_KEY:
		if (strcmp(value, BLS_SORT_KEY) != 0)
			return err_set("loader entry %s line %u: sort-key is '%.40s', expected "
				       "'%s' (both slots must share it to be ordered by version)",
				       file, lineno, value, BLS_SORT_KEY);
		break;
	case KEY_VERSION:
		if (parse_decimal(&p, UINT64_MAX, &e->generation) < 0 || *p != '\0' ||
		    e->generation == 0)
			return err_set("loader entry %s line %u: version '%.40s' is not a positive "
				       "decimal number below 2^64",
				       file, lineno, value);
		break;
	case KEY_LINUX:
		if (!entry_path_is(value, slot, "Image"))
			return err_set("loader entry %s line %u: linux is '%.80s', expected "
				       "/selfflash/slot-%c/Image",
				       file, lineno, value, slot ? 'b' : 'a');
		break;
	case KEY_INITRD:
		if (!entry_path_is(value, slot, "initrd"))
			return err_set("loader entry %s line %u: initrd is '%.80s', expected "
				       "/selfflash/slot-%c/initrd",
				       file, lineno, value, slot ? 'b' : 'a');
		e->has_initrd = 1;
		break;
	case KEY_OPTIONS:
		if (strncmp(value, "root=PARTLABEL=", 15) != 0)
			return err_set("loader entry %s line %u: options do not start with "
				       "root=PARTLABEL=",
				       file, lineno);
		break;
	default:
		break;
	}
	return 0;
}

int bls_entry_parse(const char *text, size_t len, const char *file, int slot,
		    struct bls_entry *e)
{
	char line[BLS_ENTRY_MAX + 1];
	int seen[KEYS] = { 0 };
	unsigned lineno = 0;
	memset(e, 0, sizeof(*e));
	if (len > BLS_ENTRY_MAX)
		return err_set("loader entry %s: %zu bytes, an entry is at most %d", file, len,
			       BLS_ENTRY_MAX);
	if (memchr(text, '\0', len))
		return err_set("loader entry %s: holds a NUL byte, expected text", file);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		memcpy(line, text + pos, n);
		pos += n + (nl != NULL);
		/* systemd-boot ends a line at \r too and trims blanks (line_get_key_value) */
		while (n > 0 && strchr(" \t\r", line[n - 1]))
			n--;
		line[n] = '\0';
		char *start = line + strspn(line, " \t");
		if (*start == '\0')
			continue;
		if (entry_parse_line(start, lineno, file, slot, seen, e) < 0)
			return -1;
	}
	static const int required[] = { KEY_SORT_KEY, KEY_VERSION, KEY_LINUX, KEY_OPTIONS };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!seen[required[i]])
			return err_set("loader entry %s: no '%s' line", file,
				       entry_keys[required[i]]);
	return 0;
}

static int text_is_printable(const char *s, size_t max, size_t *bad_at)
{
	size_t i;
	for (i = 0; i <= max && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			*bad_at = i;
			return 0;
		}
	*bad_at = i;
	return i <= max;
}

int bls_boot_check(const struct slot_boot *b)
{
	size_t at;
	if (!b->cmdline || !text_is_printable(b->cmdline, BLS_CMDLINE_MAX, &at)) {
		if (!b->cmdline)
			return err_set("boot image: no command line given");
		if (at > BLS_CMDLINE_MAX)
			return err_set("boot image: command line longer than %d bytes",
				       BLS_CMDLINE_MAX);
		unsigned char c = (unsigned char)b->cmdline[at];
		return err_set("boot image: command line byte %zu is %s (0x%02x); a loader entry "
			       "holds one line of printable ASCII",
			       at, c == '\n' ? "a newline" : "not printable ASCII", c);
	}
	const char *part = b->root_partition;
	if (!part || !part[0] || strcspn(part, " ") != strlen(part) ||
	    !text_is_printable(part, BLS_PARTLABEL_MAX, &at))
		return err_set("root partition name '%.40s': expected 1 to %d printable ASCII "
			       "characters without spaces",
			       part ? part : "(none)", BLS_PARTLABEL_MAX);
	return 0;
}

int bls_entry_format(char *buf, size_t cap, int slot, const struct slot_boot *b,
		     uint64_t generation, size_t *len)
{
	char s = slot ? 'b' : 'a';
	char initrd[64] = "";
	if (bls_boot_check(b) < 0)
		return -1;
	if (b->ramdisk)
		snprintf(initrd, sizeof(initrd), "initrd     /selfflash/slot-%c/initrd\n", s);
	int n = snprintf(buf, cap,
			 "title      selfflash slot %c, system version %llu\n"
			 "sort-key   %s\n"
			 "version    %llu\n"
			 "linux      /selfflash/slot-%c/Image\n"
			 "%s"
			 "options    root=PARTLABEL=%s%s%s\n"
			 "# selfflash system-version %llu\n",
			 s - 'a' + 'A', (unsigned long long)b->version, BLS_SORT_KEY,
			 (unsigned long long)generation, s, initrd, b->root_partition,
			 b->cmdline[0] ? " " : "", b->cmdline, (unsigned long long)b->version);
	if (n < 0 || (size_t)n >= cap || (size_t)n > BLS_ENTRY_MAX)
		return err_set("loader entry of slot %c: would be %d bytes, at most %d fit", s, n,
			       BLS_ENTRY_MAX);
	*len = (size_t)n;
	return 0;
}

int bls_loader_conf_check(const char *text, size_t len, const char *file)
{
	unsigned lineno = 0;
	if (memchr(text, '\0', len))
		return err_set("%s: holds a NUL byte, expected text", file);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *line = text + pos;
		lineno++;
		pos += n + (nl != NULL);
		while (n > 0 && strchr(" \t", *line)) {
			line++;
			n--;
		}
		/* systemd-boot splits key and value at blanks (line_get_key_value, boot.c) */
		if (n > 7 && strncmp(line, "default", 7) == 0 && strchr(" \t", line[7]))
			return err_set("%s line %u: '%.*s' pins the entry systemd-boot boots, so it "
				       "would not fall back to the other slot when an update's tries "
				       "run out; remove the line (selfflash orders its entries by "
				       "version)",
				       file, lineno, (int)(n < 80 ? n : 80), line);
	}
	return 0;
}
