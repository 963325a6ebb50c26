/* SPDX-License-Identifier: MIT */
/*
 * Which host names TLS accepts and which certificate names match them (RFC 6125): the URL's
 * host must be a DNS name, and it matches a subjectAltName dNSName exactly or through one
 * wildcard that stands for its whole left-most label. Plain text rules, no BearSSL call: the
 * URL parser applies the first before connecting, the X.509 check (tls_x509.c) the second.
 */
#include "tls_internal.h"

#include <string.h>

#include "error.h"

/* RFC 1035: a name is at most 253 characters written out (255 octets on the wire). */
#define DNS_NAME_MAX 253

static int is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int is_hex_digit(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/*
 * 1 when the resolver would take host for an IPv4 address rather than look it up: its last
 * label is a number, decimal or 0x hex (inet_aton reads "10.1", "2130706433" and
 * "0x7f.1" as addresses; the WHATWG URL standard's "ends in a number" rule says the same).
 * No top-level domain is numeric, so no DNS name is lost by it.
 */
static int ends_in_number(const char *host, size_t len)
{
	size_t start = len;
	while (start > 0 && host[start - 1] != '.')
		start--;
	const char *label = host + start;
	size_t n = len - start;
	if (n == 0)
		return 0;
	size_t i = 0;
	if (n >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X')) {
		i = 2;
		while (i < n && is_hex_digit(label[i]))
			i++;
		return i == n;
	}
	while (i < n && is_digit(label[i]))
		i++;
	return i == n;
}

int tls_host_check(const char *host)
{
	size_t len = strlen(host);
	if (len > 0 && host[len - 1] == '.')
		len--; /* the root's dot: "example.com." is example.com */
	if (len == 0)
		return err_set("https host '%s': empty", host);
	if (strchr(host, ':') || ends_in_number(host, len))
		return err_set("https host %s is an IP address: refused, a server's certificate is "
			       "checked against DNS names only (RFC 6125); give the server a DNS "
			       "name (an /etc/hosts line will do)", host);
	if (len > DNS_NAME_MAX)
		return err_set("https host is %zu characters: a DNS name has at most %d", len,
			       DNS_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (host[i] == '.' && (i == 0 || host[i - 1] == '.'))
			return err_set("https host '%s' has an empty label ('..' or a leading dot)",
				       host);
	return 0;
}

static char ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* a and b equal over len bytes, ASCII case ignored (DNS names compare so, RFC 4343). */
static int equal_nocase(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return 0;
	return 1;
}

/* The characters of a DNS name in a certificate (LDH, '_' that some hosts use, the dots, '*'
 * for a wildcard); anything else (non-ASCII, spaces, controls) never matches. */
static int is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
	       ch == '-' || ch == '_' || ch == '.' || ch == '*';
}

int tls_name_match(const char *presented, const char *host)
{
	size_t plen = strlen(presented), hlen = strlen(host);
	if (hlen > 0 && host[hlen - 1] == '.')
		hlen--;
	if (plen == 0 || hlen == 0)
		return 0;
	for (size_t i = 0; i < plen; i++)
		if (!is_name_char(presented[i]) || (presented[i] == '.' && (i == 0 ||
		    presented[i - 1] == '.' || i + 1 == plen)))
			return 0; /* empty labels and a trailing dot: not a name we compare */
	const char *star = strchr(presented, '*');
	if (!star)
		return plen == hlen && equal_nocase(presented, host, hlen);
	/* §6.4.3: the wildcard is the whole left-most label ("*.example.com"), never part of
	 * one ("f*.example.com", "*x.example.com"), never in another label, and it stands
	 * for exactly one label: "*.example.com" matches a.example.com, not a.b.example.com
	 * nor example.com. */
	if (star != presented || presented[1] != '.' || strchr(presented + 1, '*'))
		return 0;
	const char *suffix = presented + 1; /* ".example.com" */
	/* at least two labels under the wildcard: "*.com" would stand for every name of a
	 * top-level domain (a two-label public suffix such as co.uk needs the Public Suffix
	 * List, which the board does not carry; CAs do not issue such wildcards) */
	if (!strchr(suffix + 1, '.'))
		return 0;
	const char *host_dot = memchr(host, '.', hlen);
	if (!host_dot || host_dot == host)
		return 0;
	size_t host_suffix_len = hlen - (size_t)(host_dot - host);
	return host_suffix_len == plen - 1 && equal_nocase(suffix, host_dot, host_suffix_len);
}
