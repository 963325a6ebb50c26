/* SPDX-License-Identifier: MIT */
/* Per-thread error message, recorded where a failure happens and reported at the top. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[ERR_MSG_MAX];

int err_set(const char *fmt, ...)
{
	/* through a copy: callers may pass err_msg() itself as an argument */
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(err_buf, msg, sizeof(err_buf));
	return -1;
}

int err_prefix(const char *fmt, ...)
{
	char old[ERR_MSG_MAX];
	memcpy(old, err_buf, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	/* a message that no longer fits is cut at the end, where it matters least */
	size_t used = n < 0 ? 0 : (size_t)n < sizeof(err_buf) ? (size_t)n : sizeof(err_buf) - 1;
	size_t room = sizeof(err_buf) - 1 - used;
	size_t old_len = strlen(old);
	if (room >= 2) {
		memcpy(err_buf + used, ": ", 2);
		used += 2;
		room -= 2;
		if (old_len > room)
			old_len = room;
		memcpy(err_buf + used, old, old_len);
		used += old_len;
	}
	err_buf[used] = '\0';
	return -1;
}

const char *err_msg(void)
{
	return err_buf;
}

void err_clear(void)
{
	err_buf[0] = '\0';
}
