/* SPDX-License-Identifier: MIT */
/* Running another program (tar, mke2fs, fakeroot) by its argument vector: never via a shell. */
#ifndef SELFFLASH_TOOL_RUN_H
#define SELFFLASH_TOOL_RUN_H

#include <stddef.h>

/*
 * Runs argv[0], looked up in PATH, with argv (NULL-terminated) and no shell in between, and
 * waits for it. Its standard input is /dev/null; its standard output and error both go to
 * out_fd (appended at the file's current position). env_add, when not NULL, is a
 * NULL-terminated list of "NAME=VALUE" strings set for the program only (a NAME already in the
 * environment is replaced). Returns the program's exit status (0..255), or -1 with err_set()
 * when it could not be started (not installed: the message names the program) or was ended
 * by a signal.
 */
int tool_run(const char *const argv[], const char *const env_add[], int out_fd);

/* The same with its standard error apart, in err_fd: for a tool whose output is data
 * (debugfs cat) and whose messages must not mix with it. */
int tool_run_split(const char *const argv[], const char *const env_add[], int out_fd, int err_fd);

/*
 * Copies the last line(s) of what a program wrote to the file at path, at most max - 1
 * bytes, into out (NUL-terminated, newlines turned into "; "): the tool's own words for a
 * message. out is "" when the file is empty or unreadable.
 */
void tool_output_tail(const char *path, char *out, size_t max);

#endif
