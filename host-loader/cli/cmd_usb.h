/* SPDX-License-Identifier: MIT */
/* hostload's USB commands: `list` (boards in recovery mode) and `rcm --usb` (Tegra RCM). */
#ifndef SELFFLASH_CMD_USB_H
#define SELFFLASH_CMD_USB_H

/* `hostload list`; returns the exit status. */
int cmd_list(int argc, char **argv);

/* `hostload rcm --usb ...` (argv[0] is "rcm"); returns the exit status. */
int cmd_rcm_usb(int argc, char **argv);

#endif
