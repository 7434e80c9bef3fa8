#include "vpcflowd/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vpcflowd/buf.h"
#include "vpcflowd/clock.h"
#include "vpcflowd/json.h"

enum log_level log_threshold = LOG_LEVEL_INFO;
static bool log_json;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_init(enum log_level level, bool json)
{
	log_threshold = level;
	log_json = json;
}

static void log_vemit(enum log_level level, bool with_errno, const char *fmt,
	va_list ap) __attribute__((format(printf, 3, 0)));

static void log_vemit(enum log_level level, bool with_errno, const char *fmt,
	va_list ap)
{
	char msg[2048], ts[40];
	int saved = errno;
	struct timespec now;
	struct tm tm;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (with_errno)
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

	if (log_json) {
		struct vf_buf b;
		vf_buf_init(&b, 16384);
		vf_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":",
			ts, level_names[level]);
		vf_json_put_string(&b, msg, strlen(msg));
		vf_buf_append(&b, "}\n", 2);
		if (b.data)
			fwrite(b.data, 1, b.len, stderr);
		vf_buf_finish(&b);
	} else {
		fprintf(stderr, "%s %s: %s\n", ts, level_names[level], msg);
	}
	errno = saved;
}

void log_emit(enum log_level level, bool with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, with_errno, fmt, ap);
	va_end(ap);
}

void log_fatal(bool with_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, with_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

bool log_ratelimit(struct log_ratelimit *rl, uint64_t period_ms,
	uint64_t *held)
{
	uint_fast64_t now = vf_now_ms(), next;

	next = atomic_load(&rl->next_ms);
	if (now < next || !atomic_compare_exchange_strong(&rl->next_ms, &next,
	    now + period_ms)) {
		atomic_fetch_add(&rl->held, 1);
		return false;
	}
	*held = atomic_exchange(&rl->held, 0);
	return true;
}
