/* SPDX-License-Identifier: MIT */
/*
 * Writing one image into its partition, with the writer its target's kind names
 * (target_kind.h): NOR compares every erase block and erases and writes only what differs;
 * disks write the chunks and zero holes where asked). And the one line each written image logs.
 */
#ifndef SELFFLASH_WRITE_IMAGE_H
#define SELFFLASH_WRITE_IMAGE_H

#include <stdint.h>
#include <stdio.h>

#include "image_job.h"
#include "target/target.h"
#include "target_kind.h"

/* Writes job's image to t, if it fits its partition and t, with kind's writer; 0 or -1. */
int write_image(const struct target_kind *kind, struct target *t, const struct image_job *job,
		struct write_stats *st);

/* The line a written image logs (nothing when log is NULL). */
void write_image_log(FILE *log, const char *partition, uint64_t size, const struct write_stats *st,
		     double seconds);

#endif
