/* SPDX-License-Identifier: MIT */
/* What hostload's commands share: reading a number option, serving a package with a report. */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"
#include "report/report.h"

int cmd_parse_number(const char *text, int base, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, base);
	if (errno || end == text || *end || text[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int cmd_serve_package(struct serve_opts *o, int json, const char *log_path)
{
	/* static: a report holds the state of up to REPORT_MAX_BOARDS boards */
	static struct report rep;
	report_init(&rep, json ? REPORT_JSON : REPORT_BAR, stdout, log_path);
	o->report = &rep;
	int rc = serve_run(o);
	report_close(&rep);
	if (rc >= 2)
		fprintf(stderr, "hostload: %s\n", err_msg());
	return rc;
}
