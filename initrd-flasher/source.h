/* SPDX-License-Identifier: MIT */
/* Where the package's chunks come from. The link (hostload) is another chunk_source. */
#ifndef SELFFLASH_SOURCE_H
#define SELFFLASH_SOURCE_H

#include <stdint.h>

#include "image_reader.h"
#include "link_client.h"

struct file_source {
	struct chunk_source src;
	int fd;
	uint64_t data_offset; /* where the package's data region starts in the file */
};

/* Chunks read from an open package file whose data region starts at data_offset. */
void file_source_init(struct file_source *fs, int fd, uint64_t data_offset);

struct link_source {
	struct chunk_source src;
	struct link_client *link;
	uint64_t data_offset;
};

/* Chunks requested over the link from hostload; expected chunks are requested ahead. */
void link_source_init(struct link_source *ls, struct link_client *link, uint64_t data_offset);

#endif
