/* SPDX-License-Identifier: MIT */
/*
 * The payloads of the link's frames (frame.h), encoded and decoded in one place so both sides
 * agree. Every decoder checks the exact length and that text fields are terminated, and
 * returns 0, or -1 naming the problem. Text arrives as bytes: callers print it through
 * link_msg_printable().
 */
#ifndef SELFFLASH_LINK_MSG_H
#define SELFFLASH_LINK_MSG_H

#include <stddef.h>
#include <stdint.h>

#define LINK_NAME_MAX 64  /* board name, package name (with the NUL) */
#define LINK_PART_MAX 40  /* partition name in PROGRESS (with the NUL) */
#define LINK_TEXT_MAX 1024 /* LOG, FAIL and RESULT text (without a NUL) */

/* HELLO: the board introduces itself; the session stays the same across reconnects. */
struct link_hello {
	uint16_t version_min, version_max;
	uint32_t max_payload; /* the largest payload the board accepts */
	uint64_t session;
	char board[LINK_NAME_MAX];
};
#define LINK_HELLO_SIZE (16 + LINK_NAME_MAX)

/* WELCOME: the host's answer. */
struct link_welcome {
	uint16_t version;
	uint32_t max_payload; /* both sides' limit: the smaller one */
	uint64_t package_size;
	char package[LINK_NAME_MAX];
};
#define LINK_WELCOME_SIZE (16 + LINK_NAME_MAX)

/* READ: bytes [offset, offset + length) of the package. */
struct link_read {
	uint64_t offset;
	uint32_t length;
};
#define LINK_READ_SIZE 12
#define LINK_READ_MAX (64u << 20) /* one request; the host answers in several DATA frames */

/* DATA carries an 8-byte offset, then the bytes. */
#define LINK_DATA_HEADER 8

enum link_phase {
	LINK_PHASE_IDENTIFY,
	LINK_PHASE_VERIFY,
	LINK_PHASE_PLAN,
	LINK_PHASE_GPT,
	LINK_PHASE_WRITE,
	LINK_PHASE_READBACK,
	LINK_PHASE_BOOTSLOT,
	LINK_PHASE_DONE,
	LINK_PHASE_COUNT
};

/* Name of a phase ("write"), or NULL for an unknown one. */
const char *link_phase_name(uint8_t phase);

/* PROGRESS: overall bytes done of total for the whole flash (write and read-back). */
struct link_progress {
	uint8_t phase;
	uint64_t done, total;
	char partition[LINK_PART_MAX];
};
#define LINK_PROGRESS_SIZE (24 + LINK_PART_MAX)

/* RESULT: status 0 is success; the message says what was done or what failed. */
struct link_result {
	int32_t status;
	char message[LINK_TEXT_MAX + 1];
};

size_t link_hello_encode(const struct link_hello *m, uint8_t *out);
int link_hello_decode(const uint8_t *p, uint32_t len, struct link_hello *m);
size_t link_welcome_encode(const struct link_welcome *m, uint8_t *out);
int link_welcome_decode(const uint8_t *p, uint32_t len, struct link_welcome *m);
size_t link_read_encode(const struct link_read *m, uint8_t *out);
int link_read_decode(const uint8_t *p, uint32_t len, struct link_read *m);
size_t link_progress_encode(const struct link_progress *m, uint8_t *out);
int link_progress_decode(const uint8_t *p, uint32_t len, struct link_progress *m);
/* out holds 4 + LINK_TEXT_MAX; the message is cut at LINK_TEXT_MAX bytes. */
size_t link_result_encode(const struct link_result *m, uint8_t *out);
int link_result_decode(const uint8_t *p, uint32_t len, struct link_result *m);

/*
 * Copies untrusted text (LOG, FAIL, names) into out (size > 0) for printing: control bytes and
 * non-ASCII become '?', a trailing newline is dropped, the result is always terminated.
 */
void link_msg_printable(const uint8_t *text, size_t len, char *out, size_t size);

#endif
