/* SPDX-License-Identifier: MIT */
/*
 * TEMPORARY: stands in for tls.c (BearSSL's client, branch i16-tls) until it is merged, so
 * that https:// URLs fail with a clear message instead of the build failing. Delete this file
 * when tls.c lands.
 */
#include "tls.h"

#include "error.h"

int tls_anchors_load(const char *path, struct tls_anchors **out)
{
	*out = NULL;
	return err_set("%s: TLS not built yet (https:// needs tls.c)", path);
}

void tls_anchors_free(struct tls_anchors *a)
{
	(void)a;
}

size_t tls_anchors_count(const struct tls_anchors *a)
{
	(void)a;
	return 0;
}

int tls_wrap(struct net_stream *s, const struct tls_anchors *a, const char *host)
{
	(void)a;
	net_stream_close(s);
	return err_set("%s: TLS not built yet (https:// needs tls.c)", host);
}
