/* SPDX-License-Identifier: MIT */
/* The A/B slot of a partition by NVIDIA's names (slot_name.h). */
#include "slot_name.h"

#include <string.h>

#include "pkg.h"

static int has_suffix(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return len > n && strcmp(name + len - n, suffix) == 0;
}

uint8_t pkg_slot_of_name(const char *name, int has_b_twin)
{
	size_t len = strlen(name);
	if (len > 2 && strncmp(name, "A_", 2) == 0)
		return PKG_SLOT_A;
	if (len > 2 && strncmp(name, "B_", 2) == 0)
		return PKG_SLOT_B;
	if (strncmp(name, "reserved_for_chain_A_", 21) == 0)
		return PKG_SLOT_A;
	if (strncmp(name, "reserved_for_chain_B_", 21) == 0)
		return PKG_SLOT_B;
	if (has_suffix(name, len, "_b"))
		return PKG_SLOT_B;
	/* x with an x_b beside it; the "_alt" copies (esp_alt) are recovery's, no slot's */
	if (has_b_twin && !has_suffix(name, len, "_alt"))
		return PKG_SLOT_A;
	return 0;
}
