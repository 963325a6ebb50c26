/* SPDX-License-Identifier: MIT */
/* The runner: a kind's steps in order, the one ending, the restarts from the manifest. */
#include "run.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "run_report.h"
#include "target/target_model.h"
#include "timing.h"

static struct run *run_begin(const struct run_kind *kind, const struct flash_config *config,
			     uint64_t run_end_ms)
{
	struct run *r = calloc(1, sizeof(*r));
	void *job = kind->job_size ? calloc(1, kind->job_size) : NULL;
	if (!r || (kind->job_size && !job)) {
		free(r);
		free(job);
		err_set("out of memory for a run");
		return NULL;
	}
	r->kind = kind;
	r->job = job;
	r->config = *config;
	r->c = &r->config;
	r->pkg.fd = -1;
	r->slot = PKG_SLOT_A;
	r->start_s = timing_now_s();
	r->run_end_ms = run_end_ms;
	progress_init(&r->progress);
	/* a source with a host gets the log from the start: lines wait until it is up */
	if (package_source_kind(config->source)->host)
		r->tee = report_log_open(&r->log, config->log);
	r->log.console = config->log;
	if (r->tee)
		r->config.log = r->tee;
	return r;
}

/* The steps in order; a dry run stops before the first that writes. */
static int run_steps(struct run *r)
{
	const struct run_kind *k = r->kind;
	size_t n = r->c->plan_only ? k->plan_steps : k->nsteps;
	for (size_t i = 0; i < n; i++) {
		const struct run_step *s = &k->steps[i];
		if (s->phase != RUN_NO_PHASE)
			progress_phase(&r->progress, s->phase, "");
		report_step(&r->steps, s->name);
		if (s->run(r) != 0)
			return -1;
	}
	return 0;
}

/* The result POSTed to the configured report URL (run_report.h); the error message is kept. */
static void report_result(struct run *r, int rc, const char *summary)
{
	const struct flash_config *c = r->c;
	char saved[ERR_MSG_MAX];
	snprintf(saved, sizeof(saved), "%s", err_msg());
	struct run_result res = {
		.kind = r->kind->name, .serial = r->id.serial, .package = c->source,
		.system_version = r->pkg.decoded ? r->pkg.manifest.system_version : 0,
		.slot = pkg_slot_name(r->slot), .ok = rc == 0, .message = summary,
		.bytes_fetched = rc == 0 ? r->delta.bytes_fetched : 0,
		.bytes_copied = rc == 0 ? r->delta.bytes_copied : 0,
		.bytes_in_place = rc == 0 ? r->delta.bytes_in_place : 0,
		.seconds = timing_now_s() - r->start_s,
	};
	run_report_send(c->report_url, c->ca, &res, c->log);
	err_set("%s", saved);
}

/*
 * Targets with a timing model (a bench's file targets): what the modelled part did and how
 * long it was busy, its own time, which the bench sets beside the flash's.
 */
static void log_models(struct run *r, FILE *log)
{
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++) {
		struct target_model_stats st;
		if (!r->opened[t] || !target_model_read_stats(&r->targets[t], &st))
			continue;
		struct pkg_target tg;
		pkg_manifest_target(&r->pkg.manifest, t, &tg);
		fprintf(log, "flasher: model %s:%" PRIu32 ": %" PRIu64 " bytes written, %" PRIu64
			" read, %" PRIu64 " blocks erased, busy %.3f s\n", tg.type, tg.instance,
			st.bytes_written, st.bytes_read, st.blocks_erased, (double)st.busy_ns / 1e9);
	}
}

/*
 * The one ending: targets closed, what the source did, the result to the host, the report
 * (not for a run about to start again: that is not the result yet), everything let go.
 */
static void run_end(struct run *r, int rc, const char *summary, int may_restart,
		    struct run_outcome *out)
{
	FILE *log = r->c->log;
	log_models(r, log);
	for (uint16_t t = 0; t < PKG_MAX_TARGETS; t++)
		if (r->opened[t])
			target_close(&r->targets[t]);
	fflush(log);
	package_source_log_stats(r->source, log);
	struct link_client *host = package_source_host(r->source);
	if (host) {
		progress_phase(&r->progress, LINK_PHASE_DONE, "");
		fflush(log);
		link_client_result(host, rc == 0 ? 0 : 1, summary);
		if (rc != 0)
			err_set("%s", summary); /* the link may have recorded its own messages since */
	}
	const char *changed = package_source_changed(r->source);
	if (rc != 0 && changed)
		snprintf(out->changed, sizeof(out->changed), "%s", changed);
	if (r->c->report_url && !(out->changed[0] && may_restart))
		report_result(r, rc, summary);
	if (r->tee)
		fclose(r->tee); /* before the source: its last line goes to the host */
	package_source_close(r->source);
	pkg_file_close(&r->pkg);
	free(r->raw);
	free(r->stored);
	free(r->buf_a);
	free(r->buf_b);
	progress_destroy(&r->progress);
	free(r->job);
	free(r);
}

static struct run_outcome run_once(const struct run_kind *kind, const struct flash_config *c,
				   int may_restart, uint64_t run_end_ms)
{
	struct run_outcome out = { .rc = -1 };
	struct run *r = run_begin(kind, c, run_end_ms);
	if (!r)
		return out;
	out.rc = run_steps(r);
	report_step(&r->steps, NULL);
	char summary[512];
	if (out.rc == 0 && !r->c->plan_only)
		fprintf(r->c->log, "flasher: time per step: %s\n", r->steps.text);
	if (out.rc == 0)
		kind->summarize(r, summary, sizeof(summary));
	else
		snprintf(summary, sizeof(summary), "%s", err_msg());
	run_end(r, out.rc, summary, may_restart, &out);
	return out;
}

int run_execute(const struct run_kind *kind, const struct flash_config *c)
{
	/* one end for the whole run: a restart from the manifest does not start the clock again */
	uint64_t run_end_ms = timing_now_ms() + flash_run_timeout_s(c) * 1000ull;
	for (int restarts = 0;; restarts++) {
		struct run_outcome out = run_once(kind, c, restarts < RUN_RESTARTS_MAX, run_end_ms);
		if (out.rc == 0 || !out.changed[0])
			return out.rc;
		if (restarts == RUN_RESTARTS_MAX)
			return err_set("%s; gave up after %d restarts", out.changed, RUN_RESTARTS_MAX);
		fprintf(c->log, "flasher: %s: starting again from the manifest (restart %d of %d)\n",
			out.changed, restarts + 1, RUN_RESTARTS_MAX);
		fflush(c->log);
	}
}
