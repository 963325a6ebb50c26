/* SPDX-License-Identifier: MIT */
/*
 * The link's frame codec, compiled into both sides. The link is a byte stream (USB bulk,
 * virtio-serial, a socket); frames on it are
 *
 *   offset size
 *        0    4  magic "SFLK"
 *        4    1  type (FRAME_*)
 *        5    1  flags (0)
 *        6    2  reserved (0)
 *        8    4  sequence: a request's number, echoed by its answers
 *       12    4  payload length (at most the negotiated maximum, never above FRAME_MAX_PAYLOAD)
 *       16    n  payload
 *     16+n    4  CRC-32 (zlib) of bytes 0 .. 16+n-1
 *
 * all little-endian. A receiver that finds garbage, a bad CRC or an impossible header drops
 * bytes up to the next magic and says what it dropped; the requester re-asks for what did not
 * arrive, so nothing is lost but time. The protocol itself is described in docs/link.md.
 */
#ifndef SELFFLASH_FRAME_H
#define SELFFLASH_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_MAGIC 0x4b4c4653u /* "SFLK" */
#define FRAME_HEADER_SIZE 16
#define FRAME_TRAILER_SIZE 4
#define FRAME_OVERHEAD (FRAME_HEADER_SIZE + FRAME_TRAILER_SIZE)
/* Hard limit on any payload, before negotiation: a chunk's data piece plus its offset. */
#define FRAME_MAX_PAYLOAD (1u << 20)
#define FRAME_MIN_PAYLOAD 4096

/* Protocol versions this build speaks (negotiated in HELLO/WELCOME). */
#define LINK_VERSION_MIN 1
#define LINK_VERSION_MAX 1

enum frame_type {
	FRAME_HELLO = 0x01,     /* board -> host: versions, receive limit, session, board name */
	FRAME_WELCOME = 0x02,   /* host -> board: chosen version, limit, package size and name */
	FRAME_READ = 0x03,      /* board -> host: a byte range of the package */
	FRAME_DATA = 0x04,      /* host -> board: offset + bytes answering a READ (seq echoed) */
	FRAME_FAIL = 0x05,      /* host -> board: a request cannot be served, with the reason */
	FRAME_PROGRESS = 0x06,  /* board -> host: phase, partition, bytes done / total */
	FRAME_LOG = 0x07,       /* board -> host: one line of the board's log */
	FRAME_RESULT = 0x08,    /* board -> host: the final status and message */
	FRAME_RESULT_ACK = 0x09, /* host -> board: the result was received */
	FRAME_KEEPALIVE = 0x0a, /* either way: still here (the host echoes the board's) */
};

/* Name of a frame type for messages ("READ"), or NULL for a type this build does not know. */
const char *frame_type_name(uint8_t type);

struct frame {
	uint8_t type;
	uint32_t seq;
	uint32_t len;
	const uint8_t *payload; /* points into the decoder's buffer until the next call */
};

/*
 * Streaming decoder. The caller owns `buf` (at least FRAME_OVERHEAD + max_payload bytes) and
 * the struct; neither is freed by the decoder. Bytes go in through frame_decoder_space() and
 * frame_decoder_commit(); frames come out of frame_decoder_next().
 */
struct frame_decoder {
	uint8_t *buf;
	size_t cap;
	size_t start, end;    /* undecoded bytes are buf[start, end) */
	uint32_t max_payload; /* frames announcing more are rejected */
	uint64_t bytes_dropped, frames_rejected;
};

/* Prepares d over a caller-owned buffer; max_payload <= FRAME_MAX_PAYLOAD and buf_size >=
 * FRAME_OVERHEAD + max_payload (checked); 0 or -1. */
int frame_decoder_init(struct frame_decoder *d, uint8_t *buf, size_t buf_size,
		       uint32_t max_payload);

/* Lowers (never raises beyond the buffer) the accepted payload size after negotiation. */
void frame_decoder_set_max_payload(struct frame_decoder *d, uint32_t max_payload);

/* Where the next received bytes go: *room bytes at the returned pointer (room > 0). */
uint8_t *frame_decoder_space(struct frame_decoder *d, size_t *room);

/* Records that n bytes were placed at the pointer frame_decoder_space() returned. */
void frame_decoder_commit(struct frame_decoder *d, size_t n);

/* Copies up to len bytes into the decoder (for callers that already hold the bytes);
 * returns how many it took (less than len only when a frame is complete and waiting). */
size_t frame_decoder_feed(struct frame_decoder *d, const uint8_t *data, size_t len);

/*
 * The next frame: 1 with *f filled (valid until the next decoder call), 0 when more bytes are
 * needed, or -1 when bytes were dropped: garbage before a magic, a header with a bad length
 * or reserved field, a bad CRC, or an unknown type; err_msg() names it. After -1 call again:
 * the decoder has already moved past what it dropped.
 */
int frame_decoder_next(struct frame_decoder *d, struct frame *f);

/* Forgets buffered bytes (after the link was re-established). */
void frame_decoder_reset(struct frame_decoder *d);

/*
 * Encoding: writes the header for a payload of len bytes that the caller has placed (or will
 * place) at out + FRAME_HEADER_SIZE, then the CRC after it. out must hold FRAME_OVERHEAD + len.
 * Returns the frame's total size.
 */
size_t frame_encode(uint8_t *out, uint8_t type, uint32_t seq, uint32_t len);

/* frame_encode() with the payload copied in from `payload` (may be NULL when len is 0). */
size_t frame_encode_copy(uint8_t *out, uint8_t type, uint32_t seq, const void *payload,
			 uint32_t len);

#endif
