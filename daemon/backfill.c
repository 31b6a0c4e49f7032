/*
 * backfill.c - `advocacyd backfill`: a Slack export to canonical events on
 * the input topic (see backfill.h).
 *
 * Steps: pick the topic, read users.json and the channel listings, connect
 * the producer (unless --dry-run) and check the topic exists, then read
 * each channel folder's day files in name order. Each event is filtered by
 * time, encoded and produced; at the end the producer is flushed and the
 * summary printed.
 *
 * Problems with one file are printed to stderr as they happen, naming the
 * channel by id (mpim folders are named after their members) and the file,
 * and never quoting the content. They are not logged one by one, because
 * the logger's repeat limit would hide all but the first.
 *
 * Memory: one day file at a time (at most SLACK_EXPORT_MAX_FILE_BYTES plus
 * jansson's tree of it), the producer's queue (outputs.max_queued_messages)
 * and 8 to 32 bytes per record for the repeat check.
 */
#include "backfill.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "decode_avro.h"
#include "kafka.h"
#include "log.h"
#include "slack_export.h"

#define BACKFILL_FLUSH_TIMEOUT_MS 60000
#define BACKFILL_DAY_MS 86400000LL

/* Why an event the export yields is not produced. */
typedef enum backfill_skip {
	BACKFILL_SKIP_BEFORE_SINCE,
	BACKFILL_SKIP_AFTER_UNTIL,
	BACKFILL_SKIP_TOO_OLD,
	BACKFILL_SKIP_IN_FUTURE,
	BACKFILL_SKIP_COUNT,
} backfill_skip;

static const char *const backfill_skip_names[BACKFILL_SKIP_COUNT] = {
    "before_since",
    "after_until",
    "older_than_allowed_lateness",
    "beyond_max_future",
};

typedef struct backfill {
	const config *cfg;
	const backfill_request *req;
	const char *topic;
	slack_export *reader;
	avro_event_writer *writer;
	struct event_base *base;
	kafka_producer *producer;
	int64_t oldest_ms, newest_ms; /* event times the daemon accepts */
	uint64_t day_files, files_by_date, failed_files, folders;
	uint64_t produced[SLACK_EXPORT_KIND_COUNT];
	uint64_t skipped[BACKFILL_SKIP_COUNT];
	uint64_t encode_failures;
	uint64_t send_failures; /* records the producer did not accept */
	char encoded[4096];
} backfill;

static int64_t backfill_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int backfill_parse_date(const char *s, int64_t *ms)
{
	struct tm tm = {0};
	int year, month, day, used = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &year, &month, &day, &used) != 3 ||
	    used != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	time_t t = timegm(&tm);
	/* timegm normalizes 2025-02-30 to March 2: such a date is invalid. */
	if (t == (time_t)-1 || tm.tm_mday != day || tm.tm_mon != month - 1)
		return -1;
	*ms = (int64_t)t * 1000;
	return 0;
}

/* Prints one problem with the export to stderr. */
static void backfill_problem(const char *where, const char *file, const char *message)
{
	fprintf(stderr, "advocacyd backfill: %s%s%s: %s\n", where, file ? "/" : "",
		file ? file : "", message);
}

/* ----------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------- */

/* Writes dir/name into path. Returns 0, or -1 with errno ENAMETOOLONG. */
static int backfill_join(char *path, size_t size, const char *dir, const char *name)
{
	int n = snprintf(path, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Reads dir/name whole into *buf. Returns 0, or -1 with errstr (missing,
 * too large, unreadable) and errno ENOENT when the file is missing.
 */
static int backfill_read_file(const char *dir, const char *name, size_t max_bytes, char **buf,
			      size_t *len, char *errstr, size_t errstr_size)
{
	char path[4096];
	struct stat st;
	FILE *f = NULL;

	*buf = NULL;
	if (backfill_join(path, sizeof(path), dir, name) < 0 || stat(path, &st) < 0) {
		int saved = errno;
		snprintf(errstr, errstr_size, "cannot read: %s", strerror(saved));
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(errstr, errstr_size, "not a regular file");
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(errstr, errstr_size,
			 "file_too_large: %jd bytes, more than the limit of "
			 "%zu; split the file or leave it out",
			 (intmax_t)st.st_size, max_bytes);
		errno = EFBIG;
		return -1;
	}
	f = fopen(path, "rb");
	*buf = f ? malloc((size_t)st.st_size + 1) : NULL;
	*len = *buf ? fread(*buf, 1, (size_t)st.st_size, f) : 0;
	if (!*buf || ferror(f)) {
		snprintf(errstr, errstr_size, "cannot read: %s", strerror(errno));
		free(*buf);
		*buf = NULL;
		if (f)
			fclose(f);
		errno = EIO;
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * Reads users.json or a listing. A missing groups.json, mpims.json or
 * dms.json is normal, because an export of public channels has none. A
 * missing users.json or channels.json, or any unreadable file, counts as
 * failed.
 */
static void backfill_load_meta(backfill *b, const char *name, int listing)
{
	char err[512];
	char *buf = NULL;
	size_t len = 0;

	if (backfill_read_file(b->req->export_dir, name, slack_export_max_file_bytes(b->reader),
			       &buf, &len, err, sizeof(err)) < 0) {
		if (errno == ENOENT && listing > SLACK_EXPORT_CHANNELS)
			return;
		b->failed_files++;
		backfill_problem(name, NULL, err);
		return;
	}

	int skipped = listing < 0
			  ? slack_export_load_users(b->reader, buf, len, err, sizeof(err))
			  : slack_export_load_listing(b->reader, (slack_export_listing)listing, buf,
						      len, err, sizeof(err));
	free(buf);
	if (skipped < 0) {
		b->failed_files++;
		backfill_problem(name, NULL, err);
	} else if (skipped > 0) {
		b->failed_files++;
		snprintf(err, sizeof(err), "%d entries without an id were skipped", skipped);
		backfill_problem(name, NULL, err);
	}
}

/* ----------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------- */

/* Returns why ev is not produced, or -1 when it is. */
static int backfill_skip_reason(const backfill *b, const event *ev)
{
	if (ev->event_time_ms < b->req->since_ms)
		return BACKFILL_SKIP_BEFORE_SINCE;
	if (ev->event_time_ms >= b->req->until_ms)
		return BACKFILL_SKIP_AFTER_UNTIL;
	if (ev->event_time_ms < b->oldest_ms)
		return BACKFILL_SKIP_TOO_OLD;
	if (ev->event_time_ms > b->newest_ms)
		return BACKFILL_SKIP_IN_FUTURE;
	return -1;
}

static void backfill_event_cb(const event *ev, slack_export_kind kind, void *opaque)
{
	backfill *b = opaque;

	int skip = backfill_skip_reason(b, ev);
	if (skip >= 0) {
		b->skipped[skip]++;
		return;
	}
	long n = avro_event_writer_encode(b->writer, ev, -1, b->encoded, sizeof(b->encoded));
	if (n < 0) {
		b->encode_failures++;
		return;
	}
	if (b->producer &&
	    kafka_producer_send(b->producer, b->topic, ev->event_id.ptr, ev->event_id.len,
				b->encoded, (size_t)n, NULL, 0, NULL) < 0)
		b->send_failures++;
	else
		b->produced[kind]++;
}

/* ----------------------------------------------------------------------------
 * Folders
 * ------------------------------------------------------------------------- */

/* True for a day file name, YYYY-MM-DD.json; fills its date. */
static bool backfill_day_file(const char *name, int64_t *day_ms)
{
	char date[11];

	if (strlen(name) != 15 || strcmp(name + 10, ".json") != 0)
		return false;
	memcpy(date, name, 10);
	date[10] = '\0';
	return backfill_parse_date(date, day_ms) == 0;
}

/*
 * True when a day file may hold events in --since/--until. Slack names day
 * files by the exporting workspace's calendar day, which can be up to 14
 * hours off UTC, so a day more is read on each side.
 */
static bool backfill_day_in_range(const backfill *b, int64_t day_ms)
{
	return day_ms + 2 * BACKFILL_DAY_MS > b->req->since_ms &&
	       day_ms - BACKFILL_DAY_MS < b->req->until_ms;
}

static void backfill_read_day(backfill *b, const slack_export_channel *ch, const char *dir,
			      const char *name)
{
	char err[512];
	char *buf = NULL;
	size_t len = 0;

	b->day_files++;
	if (backfill_read_file(dir, name, slack_export_max_file_bytes(b->reader), &buf, &len, err,
			       sizeof(err)) < 0 ||
	    slack_export_read_day(b->reader, ch, buf, len, backfill_event_cb, b, err, sizeof(err)) <
		0) {
		b->failed_files++;
		char where[300];
		snprintf(where, sizeof(where), "channel %s", ch->id);
		backfill_problem(where, name, err);
	}
	free(buf);
}

static int backfill_select_all(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Reads the day files of one channel folder in name (date) order. */
static void backfill_read_channel(backfill *b, const slack_export_channel *ch, const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, backfill_select_all, alphasort);
	int64_t day_ms;

	if (n < 0) {
		b->failed_files++;
		char where[300];
		snprintf(where, sizeof(where), "channel %s", ch->id);
		backfill_problem(where, NULL, strerror(errno));
		return;
	}
	b->folders++;
	for (int i = 0; i < n; i++) {
		if (!backfill_day_file(names[i]->d_name, &day_ms))
			log_debug("backfill", "not a day file, skipped", "channel=%s", ch->id);
		else if (!backfill_day_in_range(b, day_ms))
			b->files_by_date++;
		else
			backfill_read_day(b, ch, dir, names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

/* Reports a folder that is skipped. mpim folder names list their members. */
static void backfill_unlisted(backfill *b, const char *folder, const char *reason)
{
	char where[300];
	bool mpim = strncmp(folder, "mpdm-", 5) == 0;

	b->failed_files++;
	snprintf(where, sizeof(where), "folder %s", mpim ? "mpdm-..." : folder);
	backfill_problem(where, NULL, reason);
}

static int backfill_walk(backfill *b)
{
	struct dirent **names = NULL;
	int n = scandir(b->req->export_dir, &names, backfill_select_all, alphasort);
	char path[4096];
	struct stat st;

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (backfill_join(path, sizeof(path), b->req->export_dir, names[i]->d_name) < 0)
			backfill_unlisted(b, names[i]->d_name, "its path is too long; skipped");
		else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			const slack_export_channel *ch =
			    slack_export_find_channel(b->reader, names[i]->d_name);
			if (ch)
				backfill_read_channel(b, ch, path);
			else
				backfill_unlisted(
				    b, names[i]->d_name,
				    "not listed in channels.json, groups.json, mpims.json "
				    "or dms.json, so its channel id is unknown; skipped");
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* ----------------------------------------------------------------------------
 * Set-up and summary
 * ------------------------------------------------------------------------- */

/* Chooses the topic: --topic, else the first avro input. Returns 0 or -1. */
static int backfill_topic(backfill *b, char *errstr, size_t errstr_size)
{
	const config *cfg = b->cfg;

	for (size_t i = 0; i < cfg->kafka.n_inputs; i++) {
		const config_input *in = &cfg->kafka.inputs[i];
		if (b->req->topic && strcmp(b->req->topic, in->topic) == 0 &&
		    in->format != INPUT_FORMAT_AVRO) {
			snprintf(errstr, errstr_size,
				 "--topic %s: kafka.inputs[%zu] reads it as "
				 "format slack, but the backfill writes canonical Avro; choose an "
				 "avro input topic",
				 in->topic, i);
			return -1;
		}
		if (!b->req->topic && in->format == INPUT_FORMAT_AVRO) {
			b->topic = in->topic;
			return 0;
		}
	}
	if (b->req->topic) {
		b->topic = b->req->topic;
		return 0;
	}
	snprintf(errstr, errstr_size,
		 "%s: kafka.inputs has no topic of format avro; add one or "
		 "pass --topic",
		 cfg->path);
	return -1;
}

/* Creates the producer and checks the topic. Returns 0, or a BACKFILL_ code. */
static int backfill_connect(backfill *b, char *errstr, size_t errstr_size)
{
	char err[512];

	b->base = event_base_new();
	if (!b->base) {
		snprintf(errstr, errstr_size, "cannot create an event loop");
		return BACKFILL_FAILED;
	}
	b->producer = kafka_producer_new(b->base, b->cfg, err, sizeof(err));
	if (!b->producer) {
		snprintf(errstr, errstr_size, "%s: %s", b->cfg->path, err);
		return BACKFILL_INVALID;
	}
	const char *key = b->req->topic ? "--topic" : "kafka.inputs";
	if (kafka_producer_partitions(b->producer, b->topic, key, err, sizeof(err)) < 0) {
		snprintf(errstr, errstr_size,
			 "%s. Nothing was produced; check "
			 "kafka.bootstrap_servers (%s) and the topic",
			 err, b->cfg->kafka.bootstrap_servers);
		return BACKFILL_FAILED;
	}
	return 0;
}

static uint64_t backfill_sum(const uint64_t *v, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

/* Prints "name count" pairs with a nonzero count, or "none". */
static void backfill_print_counts(FILE *out, const char *title, const uint64_t *counts,
				  const char *(*name)(size_t), size_t first, size_t end)
{
	bool any = false;

	fprintf(out, "  %s:", title);
	for (size_t i = first; i < end; i++) {
		if (counts[i] == 0)
			continue;
		fprintf(out, "%s %s %" PRIu64, any ? "," : "", name(i), counts[i]);
		any = true;
	}
	fprintf(out, "%s\n", any ? "" : " none");
}

static const char *backfill_kind_name(size_t i)
{
	return slack_export_kind_name((slack_export_kind)i);
}

static const char *backfill_reason_name(size_t i)
{
	return slack_export_reason_name((slack_export_reason)i);
}

static const char *backfill_skip_name(size_t i)
{
	return backfill_skip_names[i];
}

/* Prints the summary; returns the number of errors it reports. */
static uint64_t backfill_summary(const backfill *b, FILE *out, uint64_t undelivered)
{
	const slack_export_stats *st = slack_export_get_stats(b->reader);
	uint64_t rejected = backfill_sum(st->reasons + SLACK_EXPORT_FIRST_REJECTED,
					 SLACK_EXPORT_REASON_COUNT - SLACK_EXPORT_FIRST_REJECTED);
	uint64_t errors = b->failed_files + rejected + b->encode_failures + undelivered;

	fprintf(out, "advocacyd backfill: %s to topic %s%s\n", b->req->export_dir, b->topic,
		b->req->dry_run ? " (dry run: nothing produced)" : "");
	fprintf(out,
		"  files: %" PRIu64 " channel folders, %" PRIu64 " day files read, %" PRIu64
		" outside --since/--until, %" PRIu64 " failed\n",
		b->folders, b->day_files, b->files_by_date, b->failed_files);
	fprintf(out, "  records: %" PRIu64 "\n", st->records);
	fprintf(out, "  events %s: %" PRIu64 "\n", b->req->dry_run ? "to produce" : "produced",
		backfill_sum(b->produced, SLACK_EXPORT_KIND_COUNT));
	backfill_print_counts(out, "by kind", b->produced, backfill_kind_name, 0,
			      SLACK_EXPORT_KIND_COUNT);
	backfill_print_counts(out, "ignored", st->reasons, backfill_reason_name, 0,
			      SLACK_EXPORT_FIRST_REJECTED);
	backfill_print_counts(out, "not produced", b->skipped, backfill_skip_name, 0,
			      BACKFILL_SKIP_COUNT);
	backfill_print_counts(out, "rejected", st->reasons, backfill_reason_name,
			      SLACK_EXPORT_FIRST_REJECTED, SLACK_EXPORT_REASON_COUNT);
	if (b->skipped[BACKFILL_SKIP_TOO_OLD] > 0)
		fprintf(out,
			"  note: raise windows.allowed_lateness (and windows.retention) to load "
			"events older than the current limit\n");
	if (!b->req->dry_run)
		fprintf(out, "  delivery: %" PRIu64 " not delivered\n", undelivered);
	fprintf(out, "  errors: %" PRIu64 "\n", errors);
	return errors;
}

/*
 * Waits for every delivery. Returns the number of events not delivered:
 * not accepted by the producer, failed or still waiting at the timeout.
 */
static uint64_t backfill_flush(backfill *b)
{
	if (!b->producer)
		return 0;
	kafka_producer_flush(b->producer, BACKFILL_FLUSH_TIMEOUT_MS);
	const kafka_producer_stats *ps = kafka_producer_get_stats(b->producer);
	uint64_t queued = backfill_sum(b->produced, SLACK_EXPORT_KIND_COUNT);
	return b->send_failures + (queued > ps->delivered ? queued - ps->delivered : 0);
}

static void backfill_fini(backfill *b)
{
	kafka_producer_free(b->producer, 1000);
	if (b->base)
		event_base_free(b->base);
	avro_event_writer_free(b->writer);
	slack_export_free(b->reader);
}

/* Reads the metadata, then every channel folder. Returns 0 or a BACKFILL_ code. */
static int backfill_read_export(backfill *b, char *errstr, size_t errstr_size)
{
	DIR *dir = opendir(b->req->export_dir);

	if (!dir) {
		snprintf(errstr, errstr_size, "--export %s: cannot open the folder: %s",
			 b->req->export_dir, strerror(errno));
		return BACKFILL_INVALID;
	}
	closedir(dir);

	backfill_load_meta(b, "users.json", -1);
	for (int i = 0; i < SLACK_EXPORT_LISTING_COUNT; i++)
		backfill_load_meta(b, slack_export_listing_files[i], i);
	if (backfill_walk(b) < 0) {
		snprintf(errstr, errstr_size, "--export %s: cannot list the folder: %s",
			 b->req->export_dir, strerror(errno));
		return BACKFILL_FAILED;
	}
	return 0;
}

int backfill_run(const config *cfg, const backfill_request *req, FILE *out, char *errstr,
		 size_t errstr_size)
{
	backfill b = {.cfg = cfg, .req = req};
	int64_t now = backfill_now_ms();
	int rc;

	b.oldest_ms = now - cfg->windows.allowed_lateness_ms;
	b.newest_ms = now + cfg->windows.max_future_ms;
	b.reader = slack_export_new();
	b.writer = avro_event_writer_new();
	if (!b.reader || !b.writer) {
		snprintf(errstr, errstr_size, "out of memory");
		rc = BACKFILL_FAILED;
		goto out;
	}
	if (backfill_topic(&b, errstr, errstr_size) < 0) {
		rc = BACKFILL_INVALID;
		goto out;
	}
	if (!req->dry_run && (rc = backfill_connect(&b, errstr, errstr_size)) != 0)
		goto out;

	log_info("backfill", "backfill started", "topic=%s dry_run=%d", b.topic, req->dry_run);
	rc = backfill_read_export(&b, errstr, errstr_size);
	if (rc != 0)
		goto out;

	uint64_t undelivered = backfill_flush(&b);
	uint64_t errors = backfill_summary(&b, out, undelivered);
	log_info("backfill", "backfill finished", "topic=%s events=%" PRIu64 " errors=%" PRIu64,
		 b.topic, backfill_sum(b.produced, SLACK_EXPORT_KIND_COUNT), errors);
	rc = errors ? BACKFILL_FAILED : BACKFILL_OK;
	if (rc != BACKFILL_OK)
		snprintf(errstr, errstr_size,
			 "%" PRIu64 " error%s, see the summary and the lines "
			 "above it. Fix the export and run the same command again: the daemon "
			 "counts the events produced before only once",
			 errors, errors == 1 ? "" : "s");
out:
	backfill_fini(&b);
	return rc;
}
