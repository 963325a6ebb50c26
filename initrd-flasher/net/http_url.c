/* SPDX-License-Identifier: MIT */
/* URLs and redirect targets parsed without trusting them (http_parse.h). */
#include "http_parse.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "tls.h"

int http_url_is(const char *text)
{
	return strncasecmp(text, "http://", 7) == 0 || strncasecmp(text, "https://", 8) == 0;
}

/* Path and query: visible ASCII only, no fragment; copied into u->path. */
static int set_path(struct http_url *u, const char *p, size_t len)
{
	if (len == 0) {
		strcpy(u->path, "/");
		return 0;
	}
	if (p[0] != '/')
		return err_set("URL path '%.*s' does not start with '/'", (int)(len > 80 ? 80 : len), p);
	if (len >= sizeof(u->path))
		return err_set("URL path is %zu bytes, at most %zu are accepted", len,
			       sizeof(u->path) - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '#')
			return err_set("URL has a fragment ('#...'): not accepted in a package URL");
		if (ch <= 0x20 || ch >= 0x7f)
			return err_set("URL path has a space or control character (byte 0x%02x)", ch);
	}
	memcpy(u->path, p, len);
	u->path[len] = '\0';
	return 0;
}

static int set_port(struct http_url *u, const char *p, size_t len)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return err_set("URL port '%.*s': expected 1 to 65535", (int)(len > 8 ? 8 : len), p);
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return err_set("URL port '%.*s': expected 1 to 65535", (int)len, p);
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return err_set("URL port %lu: expected 1 to 65535", v);
	snprintf(u->port, sizeof(u->port), "%lu", v);
	return 0;
}

/* host[:port] or [v6]:port, the authority of a URL. */
static int set_authority(struct http_url *u, const char *a, size_t len)
{
	if (memchr(a, '@', len))
		return err_set("URL names a user or password ('user@host'): not accepted; give the "
			       "host alone");
	const char *port = NULL;
	size_t hostlen;
	const char *host = a;
	if (len && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (!close)
			return err_set("URL host: '[' of an IPv6 address without ']'");
		host = a + 1;
		hostlen = (size_t)(close - host);
		size_t rest = len - (size_t)(close + 1 - a);
		if (rest && close[1] != ':')
			return err_set("URL host: unexpected text after the IPv6 address ']'");
		if (rest)
			port = close + 2;
		for (size_t i = 0; i < hostlen; i++)
			if (!strchr("0123456789abcdefABCDEF:.", host[i]))
				return err_set("URL host: '%.*s' is not an IPv6 address", (int)hostlen, host);
		if (hostlen < 2)
			return err_set("URL host: empty IPv6 address");
		u->ipv6 = 1;
	} else {
		const char *colon = memchr(a, ':', len);
		hostlen = colon ? (size_t)(colon - a) : len;
		if (colon)
			port = colon + 1;
		for (size_t i = 0; i < hostlen; i++) {
			char ch = host[i];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_'))
				return err_set("URL host '%.*s': unexpected character '%c'",
					       (int)(hostlen > 80 ? 80 : hostlen), host,
					       ch > 0x20 && ch < 0x7f ? ch : '?');
		}
	}
	if (hostlen == 0)
		return err_set("URL has no host");
	if (hostlen >= sizeof(u->host))
		return err_set("URL host is %zu characters, at most %zu are accepted", hostlen,
			       sizeof(u->host) - 1);
	memcpy(u->host, host, hostlen);
	u->host[hostlen] = '\0';
	strcpy(u->port, u->https ? "443" : "80");
	return port ? set_port(u, port, len - (size_t)(port - a)) : 0;
}

int http_url_parse(const char *text, struct http_url *u)
{
	memset(u, 0, sizeof(*u));
	size_t skip;
	if (strncasecmp(text, "http://", 7) == 0)
		skip = 7;
	else if (strncasecmp(text, "https://", 8) == 0)
		skip = 8, u->https = 1;
	else
		return err_set("'%.80s' is no URL: expected http:// or https://", text);
	const char *a = text + skip;
	size_t alen = strcspn(a, "/?#");
	if (a[alen] == '#')
		return err_set("URL has a fragment ('#...'): not accepted in a package URL");
	if (set_authority(u, a, alen) != 0)
		return -1;
	/* an https host must be a DNS name (tls.h): refused here, before any connection */
	if (u->https && tls_host_check(u->host) != 0)
		return -1;
	const char *p = a + alen;
	if (*p == '?') { /* a query with no path: the root's */
		if (strlen(p) + 1 >= sizeof(u->path))
			return err_set("URL path is too long");
		char tmp[HTTP_PATH_MAX];
		snprintf(tmp, sizeof(tmp), "/%s", p);
		return set_path(u, tmp, strlen(tmp));
	}
	return set_path(u, p, strlen(p));
}

int http_url_resolve(const struct http_url *base, const char *location, struct http_url *out)
{
	if (http_url_is(location))
		return http_url_parse(location, out);
	if (location[0] == '/' && location[1] == '/') {
		char abs[HTTP_LOCATION_MAX + 8];
		if (strlen(location) >= HTTP_LOCATION_MAX)
			return err_set("redirect target is too long");
		snprintf(abs, sizeof(abs), "%s:%s", base->https ? "https" : "http", location);
		return http_url_parse(abs, out);
	}
	*out = *base;
	char path[HTTP_PATH_MAX * 2];
	size_t dir;
	if (location[0] == '/') {
		dir = 0;
	} else if (location[0] == '?') {
		dir = strcspn(base->path, "?");
	} else {
		size_t q = strcspn(base->path, "?");
		dir = q;
		while (dir > 0 && base->path[dir - 1] != '/')
			dir--;
	}
	if (dir + strlen(location) >= HTTP_PATH_MAX)
		return err_set("redirect target path is longer than %d bytes", HTTP_PATH_MAX - 1);
	memcpy(path, base->path, dir);
	strcpy(path + dir, location);
	return set_path(out, path, strlen(path));
}

void http_url_host_header(const struct http_url *u, char *out, size_t size)
{
	int dflt = strcmp(u->port, u->https ? "443" : "80") == 0;
	snprintf(out, size, "%s%s%s%s%s", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
		 dflt ? "" : ":", dflt ? "" : u->port);
}

void http_url_format(const struct http_url *u, char *out, size_t size)
{
	char host[HTTP_HOST_MAX + 16];
	http_url_host_header(u, host, sizeof(host));
	snprintf(out, size, "%s://%s%s", u->https ? "https" : "http", host, u->path);
}
