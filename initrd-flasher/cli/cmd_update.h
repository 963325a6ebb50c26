/* SPDX-License-Identifier: MIT */
/* The commands a running board's system uses: update, mark-good, status, doctor (cmd_update.c). */
#ifndef SELFFLASH_CMD_UPDATE_H
#define SELFFLASH_CMD_UPDATE_H

/* Each takes the command's own argv (argv[0] the command) and returns the exit status. */
int cmd_update(int argc, char **argv);
int cmd_mark_good(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
