/* SPDX-License-Identifier: MIT */
/* The A/B slot of a partition by NVIDIA's names (slot_name.h). */
#include "slot_name.h"

#include <stdio.h>
#include <string.h>

#include "pkg.h"

/* The prefixes that name a slot, as pairs: slot A's, then slot B's (slot_name.h). */
static const char *const slot_prefixes[][2] = {
	{ "A_", "B_" },
	{ "reserved_for_chain_A_", "reserved_for_chain_B_" },
};
#define SLOT_PREFIX_PAIRS (sizeof(slot_prefixes) / sizeof(slot_prefixes[0]))

static int has_suffix(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len > n && strcmp(name + len - n, suffix) == 0;
}

uint8_t pkg_slot_of_name(const char *name, int has_b_twin)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < SLOT_PREFIX_PAIRS; i++)
		for (int s = 0; s < 2; s++) {
			size_t n = strlen(slot_prefixes[i][s]);
			if (len > n && strncmp(name, slot_prefixes[i][s], n) == 0)
				return s ? PKG_SLOT_B : PKG_SLOT_A;
		}
	if (has_suffix(name, len, "_b"))
		return PKG_SLOT_B;
	/* x with an x_b beside it; the "_alt" copies (esp_alt) are recovery's, no slot's */
	if (has_b_twin && !has_suffix(name, len, "_alt"))
		return PKG_SLOT_A;
	return 0;
}

int pkg_slot_twin_name(const char *name, uint8_t slot, char *out, size_t cap)
{
	if (slot != PKG_SLOT_A && slot != PKG_SLOT_B)
		return -1;
	int s = slot == PKG_SLOT_B;
	size_t len = strlen(name);
	int n = -1;
	for (size_t i = 0; i < SLOT_PREFIX_PAIRS && n < 0; i++) {
		size_t plen = strlen(slot_prefixes[i][s]);
		if (len > plen && strncmp(name, slot_prefixes[i][s], plen) == 0)
			n = snprintf(out, cap, "%s%s", slot_prefixes[i][!s], name + plen);
	}
	if (n < 0 && s && has_suffix(name, len, "_b")) /* x_b: x */
		n = snprintf(out, cap, "%.*s", (int)(len - 2), name);
	else if (n < 0 && !s) /* x: x_b */
		n = snprintf(out, cap, "%s_b", name);
	return n >= 0 && (size_t)n < cap ? 0 : -1;
}
