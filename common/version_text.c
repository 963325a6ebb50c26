/* SPDX-License-Identifier: MIT */
/* The system version's text (version_text.h). */
#include "version_text.h"

#include "error.h"

int version_text_parse(const char *text, size_t len, const char *label, uint64_t *version)
{
	size_t n = len > 0 && text[len - 1] == '\n' ? len - 1 : len;
	uint64_t value = 0;
	if (n == 0)
		return err_set("%s: empty, expected a system version (a decimal number)", label);
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return err_set("%s: byte %zu is not a decimal digit; expected a system "
				       "version (a decimal number, then a newline)", label, i);
		unsigned digit = (unsigned)(text[i] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return err_set("%s: the system version is larger than %llu", label,
				       (unsigned long long)UINT64_MAX);
		value = value * 10 + digit;
	}
	*version = value;
	return 0;
}
