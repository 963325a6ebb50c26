/* SPDX-License-Identifier: MIT */
/*
 * A timing model's parameters from a target spec (";erase-ms=150;page-us=700"), parsed as
 * hostile command-line text: known keys only, each once, plain decimals within bounds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "target_model.h"

/* A value's text is at most this long: a figure, not a way to smuggle precision or size. */
#define VALUE_MAX 24

/*
 * One row per key. The bounds keep every modelled time finite and meaningful: a figure at
 * `min` still makes a 1 TiB device take a finite time in 64-bit nanoseconds, and `max` is far
 * past any datasheet (a 64 KiB NOR block erases in a few seconds at worst, a page programs in
 * milliseconds at worst).
 */
static const struct model_key {
	const char *name;
	enum target_model_key bit;
	double min, max;
	int integer; /* a byte count (page) rather than a figure */
} model_keys[] = {
	{ "erase-ms", TARGET_MODEL_ERASE_MS, 0.001, 60000, 0 },
	{ "page-us", TARGET_MODEL_PAGE_US, 0.001, 1000000, 0 },
	{ "page", TARGET_MODEL_PAGE, 1, 1u << 24, 1 },
	{ "read-mbps", TARGET_MODEL_READ_MBPS, 0.01, 1000000, 0 },
	{ "write-mbps", TARGET_MODEL_WRITE_MBPS, 0.01, 1000000, 0 },
};

#define MODEL_KEYS (sizeof(model_keys) / sizeof(model_keys[0]))

/* "erase-ms, page-us, ..." of the keys in `allowed`, for messages. */
static void keys_text(unsigned allowed, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < MODEL_KEYS && len < size; i++)
		if (allowed & model_keys[i].bit)
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
						model_keys[i].name);
}

/* A plain decimal: digits, at most one '.' with digits on both sides (no sign, exponent,
 * hex, inf or nan, which strtod would take). */
static int plain_decimal(const char *v, int integer)
{
	size_t i = 0, digits = 0;
	while (v[i] >= '0' && v[i] <= '9')
		i++, digits++;
	if (digits == 0)
		return 0;
	if (v[i] == '.' && !integer) {
		i++;
		size_t frac = 0;
		while (v[i] >= '0' && v[i] <= '9')
			i++, frac++;
		if (frac == 0)
			return 0;
	}
	return v[i] == '\0';
}

static int set_value(const char *spec, const struct model_key *k, const char *v,
		     struct target_model_params *p)
{
	char range[64];
	if (k->integer)
		snprintf(range, sizeof(range), "a power of two from %.0f to %.0f", k->min, k->max);
	else
		snprintf(range, sizeof(range), "a decimal from %g to %g", k->min, k->max);
	double x = plain_decimal(v, k->integer) ? strtod(v, NULL) : -1;
	if (!(x >= k->min && x <= k->max))
		return err_set("target '%s': %s '%s' is not %s", spec, k->name, v, range);
	switch (k->bit) {
	case TARGET_MODEL_ERASE_MS: p->erase_ms = x; break;
	case TARGET_MODEL_PAGE_US: p->page_us = x; break;
	case TARGET_MODEL_READ_MBPS: p->read_mbps = x; break;
	case TARGET_MODEL_WRITE_MBPS: p->write_mbps = x; break;
	case TARGET_MODEL_PAGE:
		p->page = (uint32_t)x;
		if (p->page & (p->page - 1))
			return err_set("target '%s': %s '%s' is not %s", spec, k->name, v, range);
		break;
	}
	p->given |= k->bit;
	return 0;
}

/* One KEY=VALUE of length n at item. */
static int parse_item(const char *spec, const char *kind, const char *item, size_t n,
		      unsigned allowed, struct target_model_params *p)
{
	char text[64], known[128];
	if (n == 0)
		return err_set("target '%s': empty model parameter (expected KEY=VALUE after ';')",
			       spec);
	if (n >= sizeof(text))
		return err_set("target '%s': model parameter '%.24s...' is too long", spec, item);
	memcpy(text, item, n);
	text[n] = '\0';
	char *eq = strchr(text, '=');
	if (eq)
		*eq = '\0';
	const struct model_key *k = NULL;
	for (size_t i = 0; i < MODEL_KEYS; i++)
		if (strcmp(text, model_keys[i].name) == 0)
			k = &model_keys[i];
	keys_text(allowed, known, sizeof(known));
	if (!k)
		return err_set("target '%s': unknown model parameter '%s' (%s takes %s)", spec, text,
			       kind, allowed ? known : "none");
	if (!(allowed & k->bit)) {
		if (!allowed)
			return err_set("target '%s': %s takes no model parameters ('%s'): a real "
				       "device sets its own pace", spec, kind, text);
		return err_set("target '%s': %s takes no model parameter '%s' (it takes %s)", spec,
			       kind, text, known);
	}
	if (!eq || eq[1] == '\0')
		return err_set("target '%s': model parameter '%s' has no value (expected %s=NUMBER)",
			       spec, text, text);
	if (p->given & k->bit)
		return err_set("target '%s': model parameter '%s' given twice", spec, text);
	if (strlen(eq + 1) > VALUE_MAX)
		return err_set("target '%s': %s value is longer than %d characters", spec, text,
			       VALUE_MAX);
	return set_value(spec, k, eq + 1, p);
}

int target_model_parse(const char *spec, const char *kind, const char *text, unsigned allowed,
		       struct target_model_params *p)
{
	memset(p, 0, sizeof(*p));
	p->page = TARGET_MODEL_DEFAULT_PAGE;
	for (const char *item = text;;) {
		const char *semi = strchr(item, ';');
		size_t n = semi ? (size_t)(semi - item) : strlen(item);
		if (parse_item(spec, kind, item, n, allowed, p) != 0)
			return -1;
		if (!semi)
			return 0;
		item = semi + 1;
	}
}
