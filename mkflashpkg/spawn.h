/* SPDX-License-Identifier: MIT */
/* Running a real tool (tar, mke2fs, mkinitrd) without a shell: argv as given, status checked. */
#ifndef SELFFLASH_SPAWN_H
#define SELFFLASH_SPAWN_H

/* Runs argv[0] (looked up in PATH when it has no '/'), waits; 0 when it exited 0, else -1
 * with err_msg() naming the tool and how it ended. Its output goes where ours goes. */
int spawn_run(const char *const argv[]);

#endif
