/* SPDX-License-Identifier: MIT */
/* The one table from a package's place to the kind of source that serves it. */
#include "package_source.h"

#include <string.h>

#include "link/link_transport.h"

static int is_http(const char *where)
{
	return strncmp(where, "http://", 7) == 0;
}

static int is_https(const char *where)
{
	return strncmp(where, "https://", 8) == 0;
}

static int is_file(const char *where)
{
	(void)where;
	return 1;
}

/* First match wins; the link's specs are link_transport.c's table, so a new transport needs
 * no row here. A file is what is left. */
static const struct {
	int (*claims)(const char *where);
	const struct package_source_ops *ops;
} package_sources[] = {
	{ is_http, &http_package_source },           /* http:// */
	{ is_https, &http_package_source },          /* https:// */
	{ link_spec_known, &link_package_source },   /* unix:, tcp:, virtio:, dev:, tty:, usb-gadget: */
	{ is_file, &file_package_source },           /* anything else: a path */
};

const struct package_source_ops *package_source_kind(const char *where)
{
	for (size_t i = 0; i < sizeof(package_sources) / sizeof(package_sources[0]); i++)
		if (package_sources[i].claims(where))
			return package_sources[i].ops;
	return &file_package_source; /* not reached: the last row claims everything */
}

int package_source_open(struct package_source **out, const struct package_source_opts *o)
{
	*out = NULL;
	return package_source_kind(o->where)->open(out, o);
}

struct link_client *package_source_host(struct package_source *s)
{
	return s && s->ops->host ? s->ops->host(s) : NULL;
}

const char *package_source_changed(struct package_source *s)
{
	return s && s->ops->changed ? s->ops->changed(s) : NULL;
}

void package_source_log_stats(struct package_source *s, FILE *log)
{
	if (s && s->ops->log_stats)
		s->ops->log_stats(s, log);
}

void package_source_close(struct package_source *s)
{
	if (s)
		s->ops->close(s);
}
