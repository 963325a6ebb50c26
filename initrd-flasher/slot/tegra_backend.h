/* SPDX-License-Identifier: MIT */
/* The tegra slot backend's functions shared between its two files (slot_tegra.c: the update's
 * side; tegra_confirm.c: the running system's, the first flash's, status and doctor). */
#ifndef SELFFLASH_TEGRA_BACKEND_H
#define SELFFLASH_TEGRA_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slot_backend.h"
#include "tegra_vars.h"

/* The variables, and the running chain (0 A, 1 B) from BootChainFwCurrent. 0 or -1. */
int tegra_read_state(const char *dir, struct tegra_state *s, int *running);

/* 1 with the problem and its fix in out when RootfsRedundancyLevel is not 1 (rootfs A/B). */
int tegra_redundancy_problem(const struct tegra_state *s, char *out, size_t size);

/* -1 naming the release and the fix when the firmware that would roll a failed update back
 * (the running one, or e->staged_firmware_version's) does not end its rollback; 0 otherwise. */
int tegra_check_release(const struct slot_env *e);

struct tegra_release;
/* 0 when release r (or the firmware the update stages) ends its rollback; else 1 with the
 * problem and its fix in out. */
int tegra_release_problem(const struct slot_env *e, const struct tegra_release *r, char *out,
			  size_t size);

int tegra_mark_good(const struct slot_env *e, uint8_t running);
int tegra_read_floor(const struct slot_env *e, int *known, uint64_t *floor);
int tegra_check_first(const struct slot_env *e, uint8_t slot);
int tegra_select_first(const struct slot_env *e, uint8_t slot);
int tegra_describe(const struct slot_env *e, FILE *out);
int tegra_doctor(const struct slot_env *e, FILE *out, int *problems);

/* One doctor line: "ok", "note" (not a problem) or "PROBLEM" (counted in *problems), then
 * what and the text (a problem's text ends with its fix). */
enum tegra_verdict { TEGRA_DOCTOR_OK, TEGRA_DOCTOR_NOTE, TEGRA_DOCTOR_PROBLEM };
void tegra_doctor_say(FILE *out, int *problems, enum tegra_verdict v, const char *what,
		      const char *text);

#endif
