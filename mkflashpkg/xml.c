/* SPDX-License-Identifier: MIT */
/* Recursive-descent XML reader with hard limits; see xml.h for what it accepts. */
#include "xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct parser {
	const char *p, *end;
	unsigned line;
	unsigned nodes;
};

/* A growable string for decoded text. */
struct strbuf {
	char *s;
	size_t len, cap;
};

static int sb_add(struct strbuf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s)
			return err_set("out of memory");
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static char *sb_take(struct strbuf *b)
{
	if (!b->s && sb_add(b, "", 0) != 0)
		return NULL;
	char *s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

static int fail(struct parser *ps, const char *what)
{
	return err_set("line %u: %s", ps->line, what);
}

static int at(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lit, n) == 0;
}

static void advance(struct parser *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ps->p[i] == '\n')
			ps->line++;
	ps->p += n;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_space(struct parser *ps)
{
	while (ps->p < ps->end && is_space(*ps->p))
		advance(ps, 1);
}

/* Skips to just past `close`; fails if the input ends first. */
static int skip_past(struct parser *ps, const char *close, const char *what)
{
	size_t n = strlen(close);
	while ((size_t)(ps->end - ps->p) >= n) {
		if (memcmp(ps->p, close, n) == 0) {
			advance(ps, n);
			return 0;
		}
		advance(ps, 1);
	}
	return fail(ps, what);
}

/* Comments, processing instructions and white space between markup. */
static int skip_misc(struct parser *ps)
{
	for (;;) {
		skip_space(ps);
		if (at(ps, "<!--")) {
			if (skip_past(ps, "-->", "comment not closed") != 0)
				return -1;
		} else if (at(ps, "<?")) {
			if (skip_past(ps, "?>", "processing instruction not closed") != 0)
				return -1;
		} else if (at(ps, "<!DOCTYPE")) {
			return fail(ps, "DOCTYPE is not supported");
		} else {
			return 0;
		}
	}
}

static int is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static char *parse_name(struct parser *ps)
{
	const char *start = ps->p;
	if (ps->p >= ps->end || !is_name_start(*ps->p)) {
		fail(ps, "expected a name");
		return NULL;
	}
	while (ps->p < ps->end && is_name_char(*ps->p))
		ps->p++;
	size_t n = (size_t)(ps->p - start);
	char *s = malloc(n + 1);
	if (!s) {
		err_set("out of memory");
		return NULL;
	}
	memcpy(s, start, n);
	s[n] = '\0';
	return s;
}

static int put_utf8(struct strbuf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sb_add(b, u, n);
}

/* Decodes one reference starting at '&' into b. */

/* The value of digit c in base 10 or 16, or -1. */
static int digit_value(char c, int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_reference(struct parser *ps, struct strbuf *b)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' }, { "&quot;", '"' },
		      { "&apos;", '\'' } };
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		if (at(ps, named[i].name)) {
			advance(ps, strlen(named[i].name));
			return sb_add(b, &named[i].c, 1);
		}
	}
	if (!at(ps, "&#"))
		return fail(ps, "unknown entity reference");
	advance(ps, 2);
	int base = 10;
	if (ps->p < ps->end && *ps->p == 'x') {
		base = 16;
		advance(ps, 1);
	}
	uint32_t cp = 0;
	int digits = 0;
	while (ps->p < ps->end && *ps->p != ';') {
		char c = *ps->p;
		int v = digit_value(c, base);
		if (v < 0 || ++digits > 8)
			return fail(ps, "bad character reference");
		cp = cp * (uint32_t)base + (uint32_t)v;
		advance(ps, 1);
	}
	if (ps->p >= ps->end || digits == 0)
		return fail(ps, "character reference not closed");
	advance(ps, 1);
	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(ps, "character reference outside Unicode");
	return put_utf8(b, cp);
}

static int parse_attrs(struct parser *ps, struct xml_node *node)
{
	struct xml_attr **tail = &node->attrs;
	int count = 0;
	for (;;) {
		skip_space(ps);
		if (ps->p >= ps->end)
			return fail(ps, "tag not closed");
		if (*ps->p == '>' || *ps->p == '/')
			return 0;
		if (++count > XML_MAX_ATTRS)
			return fail(ps, "too many attributes");
		struct xml_attr *a = calloc(1, sizeof(*a));
		if (!a)
			return err_set("out of memory");
		*tail = a;
		tail = &a->next;
		if (!(a->name = parse_name(ps)))
			return -1;
		for (struct xml_attr *o = node->attrs; o != a; o = o->next)
			if (strcmp(o->name, a->name) == 0)
				return fail(ps, "attribute given twice");
		skip_space(ps);
		if (!at(ps, "="))
			return fail(ps, "expected '=' after attribute name");
		advance(ps, 1);
		skip_space(ps);
		if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
			return fail(ps, "attribute value not quoted");
		char quote = *ps->p;
		advance(ps, 1);
		struct strbuf b = { 0 };
		while (ps->p < ps->end && *ps->p != quote) {
			int rc;
			if (*ps->p == '<')
				rc = fail(ps, "'<' in attribute value");
			else if (*ps->p == '&')
				rc = parse_reference(ps, &b);
			else {
				rc = sb_add(&b, ps->p, 1);
				advance(ps, 1);
			}
			if (rc != 0) {
				free(b.s);
				return -1;
			}
		}
		if (ps->p >= ps->end) {
			free(b.s);
			return fail(ps, "attribute value not closed");
		}
		advance(ps, 1);
		if (!(a->value = sb_take(&b)))
			return -1;
	}
}

static struct xml_node *parse_element(struct parser *ps, int depth);

/* Content up to and including the end tag. */
static int parse_content(struct parser *ps, struct xml_node *node, int depth)
{
	struct strbuf text = { 0 };
	struct xml_node **tail = &node->children;
	for (;;) {
		if (ps->p >= ps->end) {
			free(text.s);
			return err_set("line %u: element <%s> (line %u) not closed", ps->line,
				       node->name, node->line);
		}
		int rc = 0;
		if (at(ps, "</")) {
			advance(ps, 2);
			char *name = parse_name(ps);
			if (!name)
				rc = -1;
			else if (strcmp(name, node->name) != 0)
				rc = err_set("line %u: </%s> closes <%s> (line %u)", ps->line, name,
					     node->name, node->line);
			free(name);
			skip_space(ps);
			if (rc == 0 && !at(ps, ">"))
				rc = fail(ps, "expected '>'");
			if (rc == 0) {
				advance(ps, 1);
				node->text = sb_take(&text);
				return node->text ? 0 : -1;
			}
		} else if (at(ps, "<!--")) {
			rc = skip_past(ps, "-->", "comment not closed");
		} else if (at(ps, "<![CDATA[")) {
			advance(ps, 9);
			const char *start = ps->p;
			rc = skip_past(ps, "]]>", "CDATA not closed");
			if (rc == 0)
				rc = sb_add(&text, start, (size_t)(ps->p - 3 - start));
		} else if (at(ps, "<?")) {
			rc = skip_past(ps, "?>", "processing instruction not closed");
		} else if (at(ps, "<!")) {
			rc = fail(ps, "declarations are not supported inside elements");
		} else if (at(ps, "<")) {
			struct xml_node *child = parse_element(ps, depth + 1);
			if (!child)
				rc = -1;
			else {
				*tail = child;
				tail = &child->next;
			}
		} else if (*ps->p == '&') {
			rc = parse_reference(ps, &text);
		} else {
			const char *start = ps->p;
			while (ps->p < ps->end && *ps->p != '<' && *ps->p != '&')
				advance(ps, 1);
			rc = sb_add(&text, start, (size_t)(ps->p - start));
		}
		if (rc != 0) {
			free(text.s);
			return -1;
		}
	}
}

static struct xml_node *parse_element(struct parser *ps, int depth)
{
	if (depth > XML_MAX_DEPTH) {
		fail(ps, "elements nested too deeply");
		return NULL;
	}
	if (++ps->nodes > XML_MAX_NODES) {
		fail(ps, "too many elements");
		return NULL;
	}
	struct xml_node *node = calloc(1, sizeof(*node));
	if (!node) {
		err_set("out of memory");
		return NULL;
	}
	node->line = ps->line;
	advance(ps, 1); /* '<' */
	if (!(node->name = parse_name(ps)) || parse_attrs(ps, node) != 0)
		goto error;
	if (at(ps, "/>")) {
		advance(ps, 2);
		if (!(node->text = strdup(""))) {
			err_set("out of memory");
			goto error;
		}
		return node;
	}
	if (!at(ps, ">")) {
		fail(ps, "expected '>' or '/>'");
		goto error;
	}
	advance(ps, 1);
	if (parse_content(ps, node, depth) != 0)
		goto error;
	return node;
error:
	xml_free(node);
	return NULL;
}

struct xml_node *xml_parse(const char *text, size_t len)
{
	if (len > XML_MAX_INPUT) {
		err_set("XML is %zu bytes, limit %u", len, XML_MAX_INPUT);
		return NULL;
	}
	if (memchr(text, '\0', len)) {
		err_set("XML contains a NUL byte");
		return NULL;
	}
	struct parser ps = { text, text + len, 1, 0 };
	if (at(&ps, "\xef\xbb\xbf"))
		advance(&ps, 3);
	if (skip_misc(&ps) != 0)
		return NULL;
	if (!at(&ps, "<")) {
		fail(&ps, ps.p < ps.end ? "text before the root element" : "no root element");
		return NULL;
	}
	struct xml_node *root = parse_element(&ps, 1);
	if (!root)
		return NULL;
	if (skip_misc(&ps) != 0 || ps.p != ps.end) {
		if (ps.p != ps.end)
			fail(&ps, "content after the root element");
		xml_free(root);
		return NULL;
	}
	return root;
}

void xml_free(struct xml_node *node)
{
	while (node) {
		struct xml_node *next = node->next;
		xml_free(node->children);
		for (struct xml_attr *a = node->attrs; a;) {
			struct xml_attr *an = a->next;
			free(a->name);
			free(a->value);
			free(a);
			a = an;
		}
		free(node->name);
		free(node->text);
		free(node);
		node = next;
	}
}

const char *xml_attr_get(const struct xml_node *node, const char *name)
{
	for (const struct xml_attr *a = node->attrs; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->value;
	return NULL;
}
