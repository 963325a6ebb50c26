/* SPDX-License-Identifier: MIT */
/* Which writer serves which kind of target (one const table), and the line each image logs. */
#include "write_image.h"

#include <inttypes.h>

#include "error.h"

static const struct {
	uint8_t target_kind;
	int (*write)(struct target *t, const struct image_job *job, struct write_stats *st);
} image_writers[] = {
	{ PKG_TARGET_MTD, write_nor_image },
	{ PKG_TARGET_DISK, write_block_image },
};

int write_image(uint8_t target_kind, struct target *t, const struct image_job *job,
		struct write_stats *st)
{
	uint64_t end = job->part.offset + job->reader->im.size;
	if (job->reader->im.size > job->part.size || end > t->size || end < job->part.offset)
		return err_set("partition %s: image of %" PRIu64 " bytes at %" PRIu64
			       " does not fit (partition %" PRIu64 " bytes, device %" PRIu64 ")",
			       job->part.name, job->reader->im.size, job->part.offset, job->part.size,
			       t->size);
	for (size_t i = 0; i < sizeof(image_writers) / sizeof(image_writers[0]); i++)
		if (image_writers[i].target_kind == target_kind)
			return image_writers[i].write(t, job, st);
	return err_set("partition %s: no writer for target kind %u", job->part.name, target_kind);
}


/* ", 123 in place" for a disk image that delta found partly written already, else "" */
static const char *in_place_note(const struct write_stats *st)
{
	static char text[48];
	if (!st->bytes_in_place)
		return "";
	snprintf(text, sizeof(text), ", %" PRIu64 " in place", st->bytes_in_place);
	return text;
}

void write_image_log(FILE *log, const char *partition, uint64_t size, const struct write_stats *st,
		     double seconds)
{
	if (!log)
		return;
	fprintf(log, "flasher: %-24s %10" PRIu64 " bytes: %" PRIu64 " written, %" PRIu64
		     " read back%s; blocks compared %" PRIu64 ", skipped %" PRIu64 ", erased %" PRIu64
		     ", written %" PRIu64 "; %.2f s\n",
		partition, size, st->bytes_written, st->bytes_read_back, in_place_note(st),
		st->blocks_compared, st->blocks_skipped, st->blocks_erased, st->blocks_written,
		seconds);
}
