/* SPDX-License-Identifier: MIT */
/*
 * For fleets: the result of a flash or an update POSTed as a small JSON object to a URL
 * (--report URL), so a server can collect how each board fared. A report that cannot be
 * sent is logged; it never changes the run's outcome.
 */
#ifndef SELFFLASH_RUN_REPORT_H
#define SELFFLASH_RUN_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct run_result {
	const char *kind;      /* "flash" or "update" */
	const char *serial;    /* the board's serial number ("" when unknown) */
	const char *package;   /* the package's file name, URL or link */
	uint64_t system_version;
	const char *slot;      /* "A" or "B" */
	int ok;
	const char *message;   /* the summary, or the error */
	uint64_t bytes_fetched, bytes_copied, bytes_in_place;
	double seconds;
};

/* The result as one JSON object into out (size bytes, cut safely); its length. */
size_t run_report_json(const struct run_result *res, char *out, size_t size);

/* POSTs res to url (https:// with the anchors in ca); a failure is logged to log. */
void run_report_send(const char *url, const char *ca, const struct run_result *res, FILE *log);

#endif
