/* SPDX-License-Identifier: MIT */
/*
 * A small XML reader for NVIDIA's partition layout files: elements, attributes, text,
 * comments, processing instructions (skipped), CDATA, the five predefined entities and
 * character references. DOCTYPE is refused, so no entity can expand. Input size, depth,
 * node count and attributes per element are bounded. Errors name the line.
 */
#ifndef SELFFLASH_XML_H
#define SELFFLASH_XML_H

#include <stddef.h>

#define XML_MAX_INPUT (16u << 20)
#define XML_MAX_DEPTH 32
#define XML_MAX_NODES 200000
#define XML_MAX_ATTRS 64

struct xml_attr {
	char *name;
	char *value; /* entity references decoded */
	struct xml_attr *next;
};

struct xml_node {
	char *name;
	struct xml_attr *attrs;
	char *text; /* the element's own text, concatenated, decoded; "" when none */
	struct xml_node *children;
	struct xml_node *next;
	unsigned line;
};

/* Parses a document; returns its root element (free with xml_free) or NULL with err_msg(). */
struct xml_node *xml_parse(const char *text, size_t len);

/* Frees a tree returned by xml_parse (NULL is fine). */
void xml_free(struct xml_node *node);

/* The value of attribute `name`, or NULL. */
const char *xml_attr_get(const struct xml_node *node, const char *name);

#endif
