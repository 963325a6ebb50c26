/* SPDX-License-Identifier: MIT */
/* Reading modules.dep and modules.builtin, and ordering modules for loading without modprobe. */
#include "kmods.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "io.h"
#include "lines.h"

/* modules.dep of a full distribution kernel is a few hundred KB; NVIDIA's is smaller */
#define KMODS_FILE_MAX (16u << 20)
#define KMODS_LINE_MAX 16384

/* "kernel/drivers/mtd/spi-nor/spi-nor.ko" -> "spi_nor"; -1 when it is not a plain .ko path */
static int module_name(const char *path, size_t len, char *name)
{
	size_t start = len;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (len - start < 4 || memcmp(path + len - 3, ".ko", 3) != 0)
		return -1;
	size_t n = len - start - 3; /* at least 1: len - start >= 4 */
	if (n >= KMODS_NAME_MAX)
		return -1;
	for (size_t i = 0; i < n; i++)
		name[i] = path[start + i] == '-' ? '_' : path[start + i];
	name[n] = '\0';
	return 0;
}

static void normalise(const char *in, char *out)
{
	size_t i = 0;
	for (; i < KMODS_NAME_MAX - 1 && in[i]; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
	out[i] = '\0';
}

static long find_index(const struct kmods *k, const char *name)
{
	char want[KMODS_NAME_MAX];
	normalise(name, want);
	for (size_t i = 0; i < k->count; i++)
		if (strcmp(k->mods[i].name, want) == 0)
			return (long)i;
	return -1;
}

const struct kmod *kmods_find(const struct kmods *k, const char *name)
{
	long i = find_index(k, name);
	return i < 0 ? NULL : &k->mods[i];
}

/*
 * The module at path, added when new. A path must stay inside the tree: the initrd gets the
 * file it names, and modules.dep is as hostile as any other input.
 */
static long intern(struct kmods *k, const char *path, size_t len, const char *what,
		   unsigned line)
{
	char name[KMODS_NAME_MAX];
	if (len == 0 || path[0] == '/' || module_name(path, len, name) != 0)
		return err_set("%s line %u: \"%.*s\" is not a relative path to a .ko file (a "
			       "compressed module must be unpacked first)", what, line, (int)len,
			       path);
	for (size_t i = 0; i + 1 < len; i++)
		if (path[i] == '.' && path[i + 1] == '.' && (i == 0 || path[i - 1] == '/'))
			return err_set("%s line %u: \"%.*s\" leaves the module tree", what, line,
				       (int)len, path);
	for (size_t i = 0; i < k->count; i++)
		if (strcmp(k->mods[i].name, name) == 0) {
			/* the same name at two paths would make "load X" ambiguous */
			if (strlen(k->mods[i].path) != len || memcmp(k->mods[i].path, path, len))
				return err_set("%s line %u: module %s at %.*s and at %s", what, line,
					       name, (int)len, path, k->mods[i].path);
			return (long)i;
		}
	if (k->count == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		struct kmod *n = realloc(k->mods, cap * sizeof(*n));
		if (!n)
			return err_set("out of memory");
		k->mods = n;
		k->cap = cap;
	}
	struct kmod *m = &k->mods[k->count];
	memset(m, 0, sizeof(*m));
	strcpy(m->name, name);
	if (!(m->path = strndup(path, len)))
		return err_set("out of memory");
	return (long)k->count++;
}

/* "kernel/a.ko: kernel/b.ko kernel/c.ko" */
static int dep_line(char *line, unsigned lineno, void *ctx)
{
	struct kmods *k = ctx;
	char *colon = strchr(line, ':');
	if (!colon)
		return err_set("modules.dep line %u: no ':' after the module", lineno);
	long self = intern(k, line, (size_t)(colon - line), "modules.dep", lineno);
	if (self < 0)
		return -1;
	if (k->mods[self].ndeps)
		return err_set("modules.dep line %u: %s is listed twice", lineno, k->mods[self].name);
	for (char *p = colon + 1;;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		size_t len = strcspn(p, " \t");
		long dep = intern(k, p, len, "modules.dep", lineno);
		if (dep < 0)
			return -1;
		struct kmod *m = &k->mods[self]; /* intern() may have moved the array */
		if (m->ndeps == KMODS_MAX_DEPS)
			return err_set("modules.dep line %u: %s has more than %d dependencies", lineno,
				       m->name, KMODS_MAX_DEPS);
		m->deps[m->ndeps++] = (unsigned)dep;
		p += len;
	}
	return 0;
}

static int builtin_line(char *line, unsigned lineno, void *ctx)
{
	struct kmods *k = ctx;
	long i = intern(k, line, strlen(line), "modules.builtin", lineno);
	if (i < 0)
		return -1;
	k->mods[i].builtin = 1;
	return 0;
}

static int read_list(struct kmods *k, const char *file, int optional, line_fn fn)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", k->dir, file);
	size_t len;
	if (optional && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	char *text = read_small_file(path, KMODS_FILE_MAX, &len);
	if (!text)
		return err_prefix("%s", path);
	int rc = text_each_line(text, len, file, KMODS_LINE_MAX, fn, k);
	free(text);
	return rc ? err_prefix("%s", k->dir) : 0;
}

int kmods_read(struct kmods *k, const char *dir)
{
	memset(k, 0, sizeof(*k));
	if (strlen(dir) >= sizeof(k->dir))
		return err_set("%s: path too long", dir);
	strcpy(k->dir, dir);
	int rc = read_list(k, "modules.dep", 0, dep_line);
	if (rc == 0)
		rc = read_list(k, "modules.builtin", 1, builtin_line);
	if (rc != 0)
		kmods_free(k);
	return rc;
}

void kmods_free(struct kmods *k)
{
	for (size_t i = 0; i < k->count; i++)
		free(k->mods[i].path);
	free(k->mods);
	k->mods = NULL;
	k->count = k->cap = 0;
}

/* Depth-first: everything i needs goes before i. `path` holds the modules being visited. */
static int add_index(const struct kmods *k, unsigned i, unsigned *order, size_t *count,
		     unsigned *path, unsigned depth)
{
	const struct kmod *m = &k->mods[i];
	if (m->builtin)
		return 0;
	for (size_t j = 0; j < *count; j++)
		if (order[j] == i)
			return 0;
	for (unsigned d = 0; d < depth; d++)
		if (path[d] == i)
			return err_set("modules.dep: %s depends on itself (through %s)", m->name,
				       k->mods[path[depth - 1]].name);
	if (depth == KMODS_MAX_ORDER)
		return err_set("modules.dep: dependencies of %s nest deeper than %d", m->name,
			       KMODS_MAX_ORDER);
	path[depth] = i;
	for (unsigned d = 0; d < m->ndeps; d++)
		if (add_index(k, m->deps[d], order, count, path, depth + 1) != 0)
			return -1;
	if (*count == KMODS_MAX_ORDER)
		return err_set("more than %d modules to load", KMODS_MAX_ORDER);
	order[(*count)++] = i;
	return 0;
}

int kmods_add(const struct kmods *k, const char *name, unsigned *order, size_t *count)
{
	long i = find_index(k, name);
	if (i < 0)
		return err_set("module %s is neither in %s/modules.dep nor built in "
			       "(modules.builtin)", name, k->dir);
	unsigned path[KMODS_MAX_ORDER];
	return add_index(k, (unsigned)i, order, count, path, 0);
}
