/* SPDX-License-Identifier: MIT */
/*
 * Progress for the host: the phase, the partition, and bytes done of the total, sent over the
 * link at most four times a second (and at once on a phase change). The writer and the disk
 * read-back threads both report into it.
 */
#ifndef SELFFLASH_PROGRESS_H
#define SELFFLASH_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

#include "write/image_job.h"
#include "link/link_client.h"
#include "link_msg.h"
#include "pkg.h"

struct flash_progress {
	struct write_progress wp; /* what the writers are given */
	pthread_mutex_t lock;     /* the writer and the read-back threads both advance it */
	struct link_client *link; /* NULL until there is a link: nothing is sent */
	struct link_progress now;
	double last_sent;
};

void progress_init(struct flash_progress *p);
void progress_destroy(struct flash_progress *p);

/* A new phase (LINK_PHASE_*) for `partition` ("" when none); sent at once. */
void progress_phase(struct flash_progress *p, uint8_t phase, const char *partition);

/* Sets the total: the bytes the writers will report for this variant (progress_total). */
void progress_set_total(struct flash_progress *p, uint64_t total);

/* The bytes the writers will report for variant: written, zeroed (or compared), then read
 * back; only_parts and whole_partitions as in write_plan (NULL: every partition). */
uint64_t progress_total(const struct pkg_manifest *m, uint32_t variant,
			const struct pkg_partition *parts, const uint8_t *only_parts,
			int whole_partitions);

#endif
