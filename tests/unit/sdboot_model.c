/* SPDX-License-Identifier: MIT */
/*
 * systemd-boot 252's entry choice and boot counting, modelled from src/boot/efi/boot.c of
 * systemd-stable 252.39 (function names cited where each rule comes from).
 */
#include "sdboot_model.h"

#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MODEL_MAX_ENTRIES 32


static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
}

/*
 * line_get_key_value: lines end at \n or \r, blanks trimmed, '#' lines skipped, the key ends
 * at the first separator, separators after it skipped, one pair of quotes dropped. Returns
 * the next key (value in *value) or NULL at the end.
 */
static char *next_key_value(char *content, size_t *pos, const char *sep, char **value)
{
	for (;;) {
		char *line = content + *pos;
		if (*line == '\0')
			return NULL;
		size_t len = strcspn(line, "\n\r");
		*pos += len + (line[len] != '\0');
		if (len == 0)
			continue;
		line[len] = '\0';
		while (len > 0 && strchr(" \t", *line)) {
			line++;
			len--;
		}
		while (len > 0 && strchr(" \t", line[len - 1]))
			len--;
		line[len] = '\0';
		if (*line == '#')
			continue;
		char *v = line;
		while (*v && !strchr(sep, *v))
			v++;
		if (*v == '\0')
			continue;
		*v++ = '\0';
		while (*v && strchr(sep, *v))
			v++;
		if (v[0] == '"' && len > 0 && line[len - 1] == '"') {
			v++;
			line[len - 1] = '\0';
		}
		*value = v;
		return line;
	}
}

/* parse_number16: decimal digits, at least one. */
static int parse_number(const char **s, unsigned long long *out)
{
	const char *p = *s;
	unsigned long long v = 0;
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return 0;
		v = v * 10 + (unsigned)(*p - '0');
	}
	*s = p;
	*out = v;
	return 1;
}

/* config_entry_parse_tries with suffix ".conf": the last '+', LEFT, optional -DONE. */
static void parse_tries(struct model_entry *e)
{
	const char *plus = strrchr(e->file, '+');
	unsigned long long left, done = 0;
	if (!plus)
		return;
	const char *p = plus + 1;
	if (!parse_number(&p, &left) || left > INT_MAX)
		return;
	if (*p == '-') {
		p++;
		if (!parse_number(&p, &done) || done > INT_MAX)
			return;
	}
	if (strcasecmp(p, ".conf") != 0)
		return;
	e->tries_left = (int)left;
	e->tries_done = (int)done;
}

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

static int is_version_char(char c)
{
	return isdigit((unsigned char)c) || isalpha((unsigned char)c) || c == '~' || c == '-' ||
	       c == '^' || c == '.';
}

/*
 * strverscmp_improved, ported from systemd 252 (src/fundamental/string-util-fundamental.c):
 * segments of digits or letters, '~' older, '-' and '^' and '.' as separators with their
 * order, a longer string newer. What config_entry_compare sorts versions and ids with.
 */
static int version_compare(const char *a, const char *b)
{
	for (;;) {
		const char *aa, *bb;
		int r;
		while (*a && !is_version_char(*a))
			a++;
		while (*b && !is_version_char(*b))
			b++;
		if (*a == '~' || *b == '~') {
			r = CMP(*a != '~', *b != '~');
			if (r != 0)
				return r;
			a++;
			b++;
		}
		if (!*a || !*b)
			return CMP(*a, *b);
		for (const char *sep = "-^."; *sep; sep++) {
			if (*a == *sep || *b == *sep) {
				r = CMP(*a != *sep, *b != *sep);
				if (r != 0)
					return r;
				a++;
				b++;
			}
		}
		if (isdigit((unsigned char)*a) || isdigit((unsigned char)*b)) {
			for (aa = a; isdigit((unsigned char)*aa); aa++)
				;
			for (bb = b; isdigit((unsigned char)*bb); bb++)
				;
			r = CMP(a != aa, b != bb);
			if (r != 0)
				return r;
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			r = CMP(aa - a, bb - b);
			if (r != 0)
				return r;
			r = CMP(strncmp(a, b, (size_t)(aa - a)), 0);
			if (r != 0)
				return r;
		} else {
			for (aa = a; isalpha((unsigned char)*aa); aa++)
				;
			for (bb = b; isalpha((unsigned char)*bb); bb++)
				;
			size_t la = (size_t)(aa - a), lb = (size_t)(bb - b);
			r = CMP(strncmp(a, b, la < lb ? la : lb), 0);
			if (r != 0)
				return r;
			r = CMP(la, lb);
			if (r != 0)
				return r;
		}
		a = aa;
		b = bb;
	}
}


/* config_entry_compare */
static int entry_compare(const void *pa, const void *pb)
{
	const struct model_entry *a = pa, *b = pb;
	int r = CMP(a->tries_left == 0, b->tries_left == 0);
	if (r)
		return r;
	r = CMP(!a->has_sort_key, !b->has_sort_key);
	if (r)
		return r;
	if (a->has_sort_key && b->has_sort_key) {
		r = strcmp(a->sort_key, b->sort_key);
		if (r)
			return r;
		/* machine-id: none of our entries has one */
		r = -version_compare(a->has_version ? a->version : "",
				     b->has_version ? b->version : "");
		if (r)
			return r;
	}
	r = -version_compare(a->id, b->id);
	if (r)
		return r;
	if (a->tries_left < 0 || b->tries_left < 0)
		return 0;
	r = -CMP(a->tries_left, b->tries_left);
	if (r)
		return r;
	return CMP(a->tries_done, b->tries_done);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = calloc(1, 1 << 20 | 1);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* config_entry_add_type1: the keys, a linux line, and its file existing. */
static int entry_load(const char *esp, const char *name, struct model_entry *e)
{
	char path[4096];
	memset(e, 0, sizeof(*e));
	e->tries_left = e->tries_done = -1;
	snprintf(path, sizeof(path), "%s/loader/entries/%s", esp, name);
	char *text = slurp(path), *key, *value;
	size_t pos = 0;
	if (!text)
		return 0;
	while ((key = next_key_value(text, &pos, " \t", &value)) != NULL) {
		if (!strcmp(key, "title"))
			copy(e->title, sizeof(e->title), value);
		else if (!strcmp(key, "sort-key"))
			copy(e->sort_key, sizeof(e->sort_key), value), e->has_sort_key = 1;
		else if (!strcmp(key, "version"))
			copy(e->version, sizeof(e->version), value), e->has_version = 1;
		else if (!strcmp(key, "linux"))
			copy(e->linux_path, sizeof(e->linux_path), value);
		else if (!strcmp(key, "initrd") && e->initrd_count++ == 0)
			copy(e->initrd, sizeof(e->initrd), value);
		else if (!strcmp(key, "options")) {
			size_t l = strlen(e->options);
			snprintf(e->options + l, sizeof(e->options) - l, "%s%s", l ? " " : "", value);
		}
	}
	free(text);
	struct stat st;
	snprintf(path, sizeof(path), "%s%s", esp, e->linux_path);
	if (!e->linux_path[0] || stat(path, &st) != 0)
		return 0; /* "check existence": an entry without its kernel is not added */
	copy(e->file, sizeof(e->file), name);
	copy(e->id, sizeof(e->id), name);
	for (char *c = e->id; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	parse_tries(e);
	return 1;
}

/* config_load_defaults: the `default` pattern of loader.conf, lower case; "" when none. */
static void default_pattern(const char *esp, char *pattern, size_t cap)
{
	char path[4096];
	char *key, *value;
	size_t pos = 0;
	pattern[0] = '\0';
	snprintf(path, sizeof(path), "%s/loader/loader.conf", esp);
	char *text = slurp(path);
	if (!text)
		return;
	while ((key = next_key_value(text, &pos, " \t", &value)) != NULL)
		if (!strcmp(key, "default"))
			copy(pattern, cap, value);
	free(text);
	for (char *c = pattern; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

int model_boot(const char *esp, struct model_entry *chosen, char *why, unsigned why_len)
{
	static struct model_entry entries[MODEL_MAX_ENTRIES];
	char path[4096], pattern[256];
	size_t n = 0;
	snprintf(path, sizeof(path), "%s/loader/entries", esp);
	DIR *d = opendir(path);
	if (!d)
		return snprintf(why, why_len, "no %s", path), -1;
	struct dirent *de;
	while ((de = readdir(d)) != NULL && n < MODEL_MAX_ENTRIES) {
		size_t len = strlen(de->d_name);
		/* config_load_entries: no dot files, *.conf only, no auto-* */
		if (de->d_name[0] == '.' || len < 5 ||
		    strcasecmp(de->d_name + len - 5, ".conf") != 0 ||
		    !strncmp(de->d_name, "auto-", 5))
			continue;
		n += (size_t)entry_load(esp, de->d_name, &entries[n]);
	}
	closedir(d);
	if (n == 0)
		return snprintf(why, why_len, "no bootable entry in %s", path), -1;
	qsort(entries, n, sizeof(entries[0]), entry_compare);
	size_t pick = 0;
	default_pattern(esp, pattern, sizeof(pattern));
	for (size_t i = 0; pattern[0] && i < n; i++)
		if (fnmatch(pattern, entries[i].id, 0) == 0) {
			pick = i;
			break;
		}
	*chosen = entries[pick];
	if (chosen->tries_left >= 0) {
		/* config_entry_parse_tries' next_name, renamed by config_entry_bump_counters */
		char from[4400], to[4400];
		int prefix = (int)(strrchr(chosen->file, '+') - chosen->file);
		snprintf(from, sizeof(from), "%s/%s", path, chosen->file);
		snprintf(to, sizeof(to), "%s/%.*s+%d-%d.conf", path, prefix, chosen->file,
			 chosen->tries_left > 0 ? chosen->tries_left - 1 : 0,
			 chosen->tries_done < INT_MAX ? chosen->tries_done + 1 : INT_MAX);
		if (rename(from, to) != 0)
			return snprintf(why, why_len, "rename %s failed", from), -1;
	}
	return 0;
}
