/* SPDX-License-Identifier: MIT */
/* The demo system's network and clock (rootfs/demo-net.c), for updates over https://. */
#ifndef SELFFLASH_DEMO_NET_H
#define SELFFLASH_DEMO_NET_H

/* Prints the system clock and whether an RTC set it. */
void demo_clock_report(void);

/* Configures the first NIC for QEMU user networking (10.0.2.15/24, default route via the
 * host, 10.0.2.2) and prints what it did; with no NIC it says so. Never fails the boot. */
void demo_net_up(void);

#endif
