/* SPDX-License-Identifier: MIT */
/*
 * What the tegra backend's tests share (test code): the power cut (every variable write,
 * removal and tries-register write passes a counter, -Wl,--wrap), a model board in a fresh
 * directory, an update in update.c's order of calls, and snapshots that prove a refusal wrote
 * nothing.
 */
#ifndef SELFFLASH_T234_HARNESS_H
#define SELFFLASH_T234_HARNESS_H

#include <stdint.h>
#include <stdio.h>

#include "t234_model.h"

extern const struct slot_backend_ops *ops;
extern char harness_root[256]; /* the board's directory: efivars, mem, sys below it */
extern FILE *harness_log;
extern int writes_done, power_lost, writes_before_arm;

/* The power goes after `after` more writes (-1: never). */
void power_cut_arm(int after);

/* A fresh board of release with rootfs A/B `redundancy`, powered on and running slot A. */
int board_on_a(struct t234_model *m, enum model_release release, uint32_t redundancy);

/* check, disarm, the writes (the target's content becomes `written`), arm. 0 or -1. */
int harness_update(struct t234_model *m, uint8_t target, uint64_t version,
		   enum model_content written);

/* Every file of the variable store and SR_RF, for before/after comparisons (malloc'd). */
char *board_snapshot(const struct t234_model *m);

int var_exists(const struct t234_model *m, const char *name);
void var_put(const struct t234_model *m, const char *name, const char *guid, uint32_t value,
	     size_t len);

void harness_setup(void);
void harness_teardown(void);

#endif
