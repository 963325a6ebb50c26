/* SPDX-License-Identifier: MIT */
/* Walks the structure block of a DTB (devicetree specification v0.4, chapter 5) as far as
 * the root node's properties, which come before its first child. */
#include "fdt_compat.h"

#include <stdio.h>
#include <string.h>

#include "error.h"

#define FDT_MAGIC 0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE 2u
#define FDT_PROP 3u
#define FDT_NOP 4u
#define FDT_END 9u
#define FDT_HEADER_LEN 40u

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~(uint64_t)3;
}

/* "a\0b\0" -> "a, b" */
static int join_strings(const uint8_t *v, uint32_t len, char *out, size_t out_size)
{
	if (len == 0 || v[len - 1] != '\0')
		return err_set("DTB: compatible is not a list of strings");
	size_t n = 0;
	for (uint32_t i = 0; i < len;) {
		size_t s = strlen((const char *)v + i);
		int w = snprintf(out + n, out_size - n, "%s%s", n ? ", " : "", (const char *)v + i);
		if (w < 0 || (size_t)w >= out_size - n)
			return err_set("DTB: compatible is longer than %zu bytes", out_size);
		n += (size_t)w;
		i += (uint32_t)s + 1;
	}
	return 0;
}

int fdt_root_compatible(const uint8_t *data, uint64_t size, char *out, size_t out_size)
{
	if (size < FDT_HEADER_LEN || be32(data) != FDT_MAGIC)
		return err_set("not a DTB (no d00dfeed magic)");
	uint64_t total = be32(data + 4), off_struct = be32(data + 8),
		 off_strings = be32(data + 12), size_strings = be32(data + 32),
		 size_struct = be32(data + 36);
	if (total > size || off_struct + size_struct > total || off_strings + size_strings > total)
		return err_set("DTB: header says %llu bytes and blocks past them (it is %llu)",
			       (unsigned long long)total, (unsigned long long)size);
	const uint8_t *st = data + off_struct;
	uint64_t pos = 0;
	int depth = 0;
	while (pos + 4 <= size_struct) {
		uint32_t token = be32(st + pos);
		pos += 4;
		if (token == FDT_NOP)
			continue;
		if (token == FDT_BEGIN_NODE) {
			if (depth == 1)
				break; /* the root's first child: its properties are behind us */
			const void *nul = memchr(st + pos, '\0', (size_t)(size_struct - pos));
			if (!nul)
				return err_set("DTB: node name runs past the structure block");
			pos = align4(pos + (uint64_t)((const uint8_t *)nul - (st + pos)) + 1);
			depth++;
			continue;
		}
		if (token != FDT_PROP || depth != 1)
			return err_set("DTB: unexpected token %u before the root's properties", token);
		if (pos + 8 > size_struct)
			return err_set("DTB: property header runs past the structure block");
		uint32_t len = be32(st + pos), nameoff = be32(st + pos + 4);
		pos += 8;
		if (pos + len > size_struct || nameoff >= size_strings)
			return err_set("DTB: property runs past its block");
		const char *name = (const char *)data + off_strings + nameoff;
		if (!memchr(name, '\0', (size_t)(size_strings - nameoff)))
			return err_set("DTB: property name runs past the strings block");
		if (strcmp(name, "compatible") == 0)
			return join_strings(st + pos, len, out, out_size);
		pos = align4(pos + len);
	}
	return err_set("DTB: the root node has no compatible property");
}
