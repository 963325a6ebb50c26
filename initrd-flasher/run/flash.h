/* SPDX-License-Identifier: MIT */
/*
 * The data path, start to end: open the package, verify its signature, identify the board and
 * pick its variant, place the partitions on the real devices, print the plan — nothing is
 * written before all of that passed — then write the GPTs and images, read everything back,
 * and report.
 */
#ifndef SELFFLASH_FLASH_H
#define SELFFLASH_FLASH_H

#include "flash_config.h"

/*
 * Runs the data path; 0 on success, -1 with err_msg() naming what failed. Over a link, the
 * board's log, progress and the result also go to the host. A package on a web server that
 * changes while it is fetched is started again from the manifest (run_restarting).
 */
int flash_run(const struct flash_config *c);

#endif
