/* SPDX-License-Identifier: MIT */
/* An image into its partition with its kind's writer, and the line each image logs. */
#include "write_image.h"

#include <inttypes.h>

#include "error.h"

int write_image(const struct target_kind *kind, struct target *t, const struct image_job *job,
		struct write_stats *st)
{
	uint64_t end = job->part.offset + job->reader->im.size;
	if (job->reader->im.size > job->part.size || end > t->size || end < job->part.offset)
		return err_set("partition %s: image of %" PRIu64 " bytes at %" PRIu64
			       " does not fit (partition %" PRIu64 " bytes, device %" PRIu64 ")",
			       job->part.name, job->reader->im.size, job->part.offset, job->part.size,
			       t->size);
	return kind->write(t, job, st);
}

/* ", 123 in place" for a disk image that delta found partly written already and ", 456
 * zeroed (456 by the device) in 0.01 s" for one whose holes were made zeros, else "": into text
 * (the NOR spool's thread logs beside the disk writer) */
static const char *disk_note(const struct write_stats *st, char *text, size_t size)
{
	int n = 0;
	text[0] = '\0';
	if (st->bytes_in_place)
		n = snprintf(text, size, ", %" PRIu64 " in place", st->bytes_in_place);
	if (st->bytes_zeroed && n >= 0 && (size_t)n < size)
		snprintf(text + n, size - (size_t)n,
			 ", %" PRIu64 " zeroed (%" PRIu64 " by the device) in %.2f s", st->bytes_zeroed,
			 st->bytes_zeroed_cheaply, st->zero_seconds);
	return text;
}

void write_image_log(FILE *log, const char *partition, uint64_t size, const struct write_stats *st,
		     double seconds)
{
	if (!log)
		return;
	char text[128];
	const char *note = disk_note(st, text, sizeof(text));
	fprintf(log, "flasher: %-24s %10" PRIu64 " bytes: %" PRIu64 " written, %" PRIu64
		     " read back%s; blocks compared %" PRIu64 ", skipped %" PRIu64 ", erased %" PRIu64
		     ", written %" PRIu64 "; %.2f s\n",
		partition, size, st->bytes_written, st->bytes_read_back, note,
		st->blocks_compared, st->blocks_skipped, st->blocks_erased, st->blocks_written,
		seconds);
}
