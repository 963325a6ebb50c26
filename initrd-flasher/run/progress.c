/* SPDX-License-Identifier: MIT */
/* Progress for the host, throttled, from the writer and the read-back threads. */
#include "progress.h"

#include <stdio.h>

#include "timing.h"
#include "write/target_kind.h"

static void send(struct flash_progress *p, int force)
{
	if (!p->link)
		return;
	double t = timing_now_s();
	if (!force && t - p->last_sent < 0.25)
		return;
	p->last_sent = t;
	link_client_progress(p->link, &p->now);
}

void progress_phase(struct flash_progress *p, uint8_t phase, const char *partition)
{
	pthread_mutex_lock(&p->lock);
	p->now.phase = phase;
	snprintf(p->now.partition, sizeof(p->now.partition), "%s", partition);
	send(p, 1);
	pthread_mutex_unlock(&p->lock);
}

static void advance(struct write_progress *wp, uint64_t bytes)
{
	struct flash_progress *p = (struct flash_progress *)wp;
	pthread_mutex_lock(&p->lock);
	p->now.done = p->now.done + bytes < p->now.total ? p->now.done + bytes : p->now.total;
	send(p, 0);
	pthread_mutex_unlock(&p->lock);
}

static void write_phase(struct write_progress *wp, enum write_phase phase, const char *partition)
{
	progress_phase((struct flash_progress *)wp,
		       phase == WRITE_PHASE_WRITE ? LINK_PHASE_WRITE : LINK_PHASE_READBACK, partition);
}

void progress_init(struct flash_progress *p)
{
	*p = (struct flash_progress){ .wp = { .advance = advance, .phase = write_phase } };
	pthread_mutex_init(&p->lock, NULL);
}

void progress_destroy(struct flash_progress *p)
{
	pthread_mutex_destroy(&p->lock);
}

void progress_set_total(struct flash_progress *p, uint64_t total)
{
	pthread_mutex_lock(&p->lock);
	p->now.total = total;
	pthread_mutex_unlock(&p->lock);
}

uint64_t progress_total(const struct pkg_manifest *m, uint32_t variant,
			const struct pkg_partition *parts, const uint8_t *only_parts,
			int whole_partitions)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < m->image_count; i++) {
		struct pkg_image im;
		pkg_manifest_image(m, i, &im);
		if (!pkg_image_in_variant(&im, variant) ||
		    (only_parts && !only_parts[im.partition]) ||
		    parts[im.partition].kind == PKG_PART_FILE)
			continue;
		uint64_t data = 0;
		for (uint32_t k = 0; k < im.chunk_count; k++) {
			struct pkg_chunk c;
			pkg_manifest_chunk(m, im.first_chunk + k, &c);
			data += c.raw_size;
		}
		/* NOR compares every block of the image; disks write the data and zero the holes
		 * where they are to be zeros (chunks lie inside the image: up to zero_end is all) */
		const struct target_kind *k = target_kind_of_partition(m, &parts[im.partition]);
		uint64_t zero_end = k ? target_kind_zero_end(k, &im, &parts[im.partition],
							     whole_partitions) : 0;
		if (zero_end)
			data = zero_end;
		n += (k && k->writes_whole_image ? im.size : data) + data;
	}
	return n;
}
