/* SPDX-License-Identifier: MIT */
/* Frame payloads: fixed little-endian layouts, checked field by field on the way in. */
#include "link_msg.h"

#include <inttypes.h>
#include <string.h>

#include "error.h"
#include "le.h"

const char *link_phase_name(uint8_t phase)
{
	static const char *const names[LINK_PHASE_COUNT] = {
		[LINK_PHASE_IDENTIFY] = "identify", [LINK_PHASE_VERIFY] = "verify",
		[LINK_PHASE_PLAN] = "plan",	    [LINK_PHASE_GPT] = "gpt",
		[LINK_PHASE_WRITE] = "write",	    [LINK_PHASE_READBACK] = "read-back",
		[LINK_PHASE_BOOTSLOT] = "boot-slot", [LINK_PHASE_DONE] = "done",
	};
	return phase < LINK_PHASE_COUNT ? names[phase] : NULL;
}

static int check_len(const char *what, uint32_t len, uint32_t want)
{
	if (len != want)
		return err_set("%s payload is %" PRIu32 " bytes, expected %" PRIu32, what, len, want);
	return 0;
}

/* A fixed text field must hold a NUL; the rest after it is ignored. */
static int get_text(const char *what, const uint8_t *p, size_t size, char *out)
{
	const uint8_t *nul = memchr(p, 0, size);
	if (!nul)
		return err_set("%s: text field of %zu bytes is not terminated", what, size);
	link_msg_printable(p, (size_t)(nul - p), out, size);
	return 0;
}

static void put_text(uint8_t *p, size_t size, const char *text)
{
	memset(p, 0, size);
	size_t n = strlen(text);
	memcpy(p, text, n < size - 1 ? n : size - 1);
}

size_t link_hello_encode(const struct link_hello *m, uint8_t *out)
{
	le16_store(out, m->version_min);
	le16_store(out + 2, m->version_max);
	le32_store(out + 4, m->max_payload);
	le64_store(out + 8, m->session);
	put_text(out + 16, LINK_NAME_MAX, m->board);
	return LINK_HELLO_SIZE;
}

int link_hello_decode(const uint8_t *p, uint32_t len, struct link_hello *m)
{
	if (check_len("HELLO", len, LINK_HELLO_SIZE) != 0)
		return -1;
	m->version_min = le16_load(p);
	m->version_max = le16_load(p + 2);
	m->max_payload = le32_load(p + 4);
	m->session = le64_load(p + 8);
	if (m->version_min > m->version_max)
		return err_set("HELLO offers versions %u..%u", m->version_min, m->version_max);
	return get_text("HELLO board", p + 16, LINK_NAME_MAX, m->board);
}

size_t link_welcome_encode(const struct link_welcome *m, uint8_t *out)
{
	le16_store(out, m->version);
	le16_store(out + 2, 0);
	le32_store(out + 4, m->max_payload);
	le64_store(out + 8, m->package_size);
	put_text(out + 16, LINK_NAME_MAX, m->package);
	return LINK_WELCOME_SIZE;
}

int link_welcome_decode(const uint8_t *p, uint32_t len, struct link_welcome *m)
{
	if (check_len("WELCOME", len, LINK_WELCOME_SIZE) != 0)
		return -1;
	m->version = le16_load(p);
	m->max_payload = le32_load(p + 4);
	m->package_size = le64_load(p + 8);
	return get_text("WELCOME package", p + 16, LINK_NAME_MAX, m->package);
}

size_t link_read_encode(const struct link_read *m, uint8_t *out)
{
	le64_store(out, m->offset);
	le32_store(out + 8, m->length);
	return LINK_READ_SIZE;
}

int link_read_decode(const uint8_t *p, uint32_t len, struct link_read *m)
{
	if (check_len("READ", len, LINK_READ_SIZE) != 0)
		return -1;
	m->offset = le64_load(p);
	m->length = le32_load(p + 8);
	if (m->length == 0 || m->length > LINK_READ_MAX)
		return err_set("READ of %" PRIu32 " bytes (1..%u allowed)", m->length, LINK_READ_MAX);
	return 0;
}

size_t link_progress_encode(const struct link_progress *m, uint8_t *out)
{
	out[0] = m->phase;
	memset(out + 1, 0, 7);
	le64_store(out + 8, m->done);
	le64_store(out + 16, m->total);
	put_text(out + 24, LINK_PART_MAX, m->partition);
	return LINK_PROGRESS_SIZE;
}

int link_progress_decode(const uint8_t *p, uint32_t len, struct link_progress *m)
{
	if (check_len("PROGRESS", len, LINK_PROGRESS_SIZE) != 0)
		return -1;
	m->phase = p[0];
	m->done = le64_load(p + 8);
	m->total = le64_load(p + 16);
	if (!link_phase_name(m->phase))
		return err_set("PROGRESS with unknown phase %u", m->phase);
	if (m->done > m->total)
		return err_set("PROGRESS says %" PRIu64 " of %" PRIu64 " bytes done", m->done,
			       m->total);
	return get_text("PROGRESS partition", p + 24, LINK_PART_MAX, m->partition);
}

size_t link_result_encode(const struct link_result *m, uint8_t *out)
{
	le32_store(out, (uint32_t)m->status);
	size_t n = strnlen(m->message, LINK_TEXT_MAX);
	memcpy(out + 4, m->message, n);
	return 4 + n;
}

int link_result_decode(const uint8_t *p, uint32_t len, struct link_result *m)
{
	if (len < 4 || len > 4 + LINK_TEXT_MAX)
		return err_set("RESULT payload is %" PRIu32 " bytes, expected 4..%u", len,
			       4 + LINK_TEXT_MAX);
	m->status = (int32_t)le32_load(p);
	link_msg_printable(p + 4, len - 4, m->message, sizeof(m->message));
	return 0;
}

void link_msg_printable(const uint8_t *text, size_t len, char *out, size_t size)
{
	if (len && text[len - 1] == '\n')
		len--;
	size_t n = len < size - 1 ? len : size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = text[i] >= 0x20 && text[i] < 0x7f ? (char)text[i] : '?';
	out[n] = '\0';
}
