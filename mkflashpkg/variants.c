/* SPDX-License-Identifier: MIT */
/* Board-variant table parser. */
#include "variants.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "lines.h"

/* A board field: '-' (any) or 1..7 letters and digits. */
static int set_field(char *dst, const char *src, unsigned line, const char *what)
{
	if (strcmp(src, "-") == 0) {
		dst[0] = '\0';
		return 0;
	}
	size_t n = strlen(src);
	if (n == 0 || n >= PKG_VARIANT_FIELD_LEN)
		return err_set("variants line %u: %s '%s' must be 1..%d characters or '-'", line, what,
			       src, PKG_VARIANT_FIELD_LEN - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)src[i]))
			return err_set("variants line %u: %s '%s' has a character other than letters "
				       "and digits", line, what, src);
	memcpy(dst, src, n + 1);
	return 0;
}

static int parse_line(char *s, unsigned line, const char *dir, struct variant *v)
{
	char *tok[4 + 1 + VARIANT_MAX_FILES];
	size_t n = 0;
	for (char *t = strtok(s, " \t\r"); t; t = strtok(NULL, " \t\r")) {
		if (n == sizeof(tok) / sizeof(tok[0]))
			return err_set("variants line %u: more than %d files", line, VARIANT_MAX_FILES);
		tok[n++] = t;
	}
	if (n < 5)
		return err_set("variants line %u: expected: name board sku fab chip [KEY=FILE ...]",
			       line);
	memset(v, 0, sizeof(*v));
	if (strlen(tok[0]) >= PKG_VARIANT_NAME_LEN)
		return err_set("variants line %u: name '%s' longer than %d", line, tok[0],
			       PKG_VARIANT_NAME_LEN - 1);
	for (const char *c = tok[0]; *c; c++)
		if (!isgraph((unsigned char)*c))
			return err_set("variants line %u: name has a non-printable character", line);
	strcpy(v->v.name, tok[0]);
	if (set_field(v->v.board, tok[1], line, "board") || set_field(v->v.sku, tok[2], line, "sku") ||
	    set_field(v->v.fab, tok[3], line, "fab") || set_field(v->v.chip_sku, tok[4], line, "chip"))
		return -1;
	for (size_t i = 5; i < n; i++) {
		char *eq = strchr(tok[i], '=');
		if (!eq || eq == tok[i] || !eq[1])
			return err_set("variants line %u: '%s' is not KEY=FILE", line, tok[i]);
		*eq = '\0';
		struct variant_file *f = &v->files[v->nfiles++];
		int rc = eq[1] == '/' ? snprintf(f->path, sizeof(f->path), "%s", eq + 1)
				      : snprintf(f->path, sizeof(f->path), "%s/%s", dir, eq + 1);
		if (strlen(tok[i]) >= sizeof(f->key) || rc < 0 || (size_t)rc >= sizeof(f->path))
			return err_set("variants line %u: key or path too long", line);
		strcpy(f->key, tok[i]);
	}
	return 0;
}

struct table {
	const char *dir;
	struct variant *out;
	size_t max, count;
};

static int table_line(char *s, unsigned line, void *ctx)
{
	struct table *t = ctx;
	if (t->count == t->max)
		return err_set("variants line %u: more than %zu variants", line, t->max);
	if (parse_line(s, line, t->dir, &t->out[t->count]) != 0)
		return -1;
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->out[i].v.name, t->out[t->count].v.name) == 0)
			return err_set("variants line %u: name '%s' used twice", line, t->out[i].v.name);
	t->count++;
	return 0;
}

int variants_parse(const char *text, size_t len, const char *dir, struct variant *out,
		   size_t max, size_t *count)
{
	struct table t = { dir, out, max, 0 };
	int rc = text_each_line(text, len, "variants table", 8191, table_line, &t);
	*count = t.count;
	if (rc == 0 && t.count == 0)
		rc = err_set("variants table has no variants");
	return rc;
}

const char *variant_file_for(const struct variant *v, const char *key)
{
	for (size_t i = 0; i < v->nfiles; i++)
		if (strcmp(v->files[i].key, key) == 0)
			return v->files[i].path;
	return NULL;
}
