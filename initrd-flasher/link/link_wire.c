/* SPDX-License-Identifier: MIT */
/* The board's link at the frame level: frames out, bytes in, log lines, progress, keepalive. */
#include "link_internal.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "timing.h"
#include "error.h"

#define KEEPALIVE_MS 2000

int link_wire_send(struct link_client *lc, uint8_t type, uint32_t seq, const void *payload,
		   uint32_t len)
{
	uint8_t frame[FRAME_OVERHEAD + 4 + LINK_TEXT_MAX]; /* on the stack: any thread sends */
	size_t n = frame_encode_copy(frame, type, seq, payload, len);
	pthread_mutex_lock(&lc->tx_lock);
	int rc = lc->transport.ops->write(&lc->transport, frame, n);
	if (rc != 0) /* the keepalive thread's failure is told by the reader */
		snprintf(lc->write_error, sizeof(lc->write_error), "%s", err_msg());
	pthread_mutex_unlock(&lc->tx_lock);
	if (rc != 0)
		atomic_store(&lc->down, 1);
	else
		atomic_store(&lc->last_send_ms, timing_now_ms());
	return rc;
}

int link_wire_receive(struct link_client *lc, int timeout_ms)
{
	size_t room;
	uint8_t *to = frame_decoder_space(&lc->dec, &room);
	ssize_t n = lc->transport.ops->read(&lc->transport, to, room, timeout_ms);
	if (n <= 0)
		return (int)n;
	frame_decoder_commit(&lc->dec, (size_t)n);
	lc->bytes_received += (uint64_t)n;
	return 1;
}

void link_wire_flush_backlog(struct link_client *lc)
{
	pthread_mutex_lock(&lc->tx_lock);
	char copy[sizeof(lc->backlog)];
	size_t n = lc->backlog_len;
	memcpy(copy, lc->backlog, n);
	lc->backlog_len = 0;
	pthread_mutex_unlock(&lc->tx_lock);
	for (size_t at = 0; at < n;) {
		const char *nl = memchr(copy + at, '\n', n - at);
		size_t line = nl ? (size_t)(nl - (copy + at)) + 1 : n - at;
		link_client_log(lc, copy + at, line);
		at += line;
	}
}

void link_client_log(struct link_client *lc, const char *text, size_t len)
{
	if (len > LINK_TEXT_MAX)
		len = LINK_TEXT_MAX;
	if (!atomic_load(&lc->down) && link_wire_send(lc, FRAME_LOG, 0, text, (uint32_t)len) == 0)
		return;
	pthread_mutex_lock(&lc->tx_lock);
	if (lc->backlog_len + len <= sizeof(lc->backlog)) {
		memcpy(lc->backlog + lc->backlog_len, text, len);
		lc->backlog_len += len;
	}
	pthread_mutex_unlock(&lc->tx_lock);
}

void link_client_progress(struct link_client *lc, const struct link_progress *p)
{
	if (atomic_load(&lc->down))
		return;
	uint8_t payload[LINK_PROGRESS_SIZE];
	link_progress_encode(p, payload);
	link_wire_send(lc, FRAME_PROGRESS, 0, payload, sizeof(payload));
}

/* Long erases and read-backs send nothing for a while: tell the host we are alive. */
static void *keepalive_main(void *arg)
{
	struct link_client *lc = arg;
	pthread_mutex_lock(&lc->stop_lock);
	while (!atomic_load(&lc->stop)) {
		struct timespec until = timing_timespec_in(250);
		pthread_cond_timedwait(&lc->stop_cond, &lc->stop_lock, &until);
		if (!atomic_load(&lc->stop) && !atomic_load(&lc->down) &&
		    timing_now_ms() - atomic_load(&lc->last_send_ms) >= KEEPALIVE_MS)
			link_wire_send(lc, FRAME_KEEPALIVE, 0, NULL, 0);
	}
	pthread_mutex_unlock(&lc->stop_lock);
	return NULL;
}

void link_keepalive_start(struct link_client *lc)
{
	if (pthread_create(&lc->keepalive, NULL, keepalive_main, lc) == 0)
		lc->keepalive_running = 1;
}

void link_keepalive_stop(struct link_client *lc)
{
	pthread_mutex_lock(&lc->stop_lock);
	atomic_store(&lc->stop, 1);
	pthread_cond_broadcast(&lc->stop_cond); /* the keepalive thread ends now, not in 250 ms */
	pthread_mutex_unlock(&lc->stop_lock);
	if (lc->keepalive_running)
		pthread_join(lc->keepalive, NULL);
	lc->keepalive_running = 0;
}
