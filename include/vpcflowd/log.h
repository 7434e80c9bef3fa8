/*
 * Logging, in the OpenBSD daemons' split: log_warn appends strerror(errno),
 * log_warnx does not; fatal/fatalx log and exit(1). Messages below the
 * configured level are not formatted at all.
 */
#ifndef VPCFLOWD_LOG_H
#define VPCFLOWD_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

extern enum log_level log_threshold;

/* Sets the level and the line format (text, or one JSON object a line). */
void log_init(enum log_level level, bool json);

void log_emit(enum log_level level, bool with_errno, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void log_fatal(bool with_errno, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) do { if (log_threshold <= LOG_LEVEL_DEBUG) \
	log_emit(LOG_LEVEL_DEBUG, false, __VA_ARGS__); } while (0)
#define log_info(...) do { if (log_threshold <= LOG_LEVEL_INFO) \
	log_emit(LOG_LEVEL_INFO, false, __VA_ARGS__); } while (0)
#define log_warnx(...) do { if (log_threshold <= LOG_LEVEL_WARN) \
	log_emit(LOG_LEVEL_WARN, false, __VA_ARGS__); } while (0)
#define log_warn(...) do { if (log_threshold <= LOG_LEVEL_WARN) \
	log_emit(LOG_LEVEL_WARN, true, __VA_ARGS__); } while (0)
#define log_errorx(...) log_emit(LOG_LEVEL_ERROR, false, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, true, __VA_ARGS__)
#define fatal(...) log_fatal(true, __VA_ARGS__)
#define fatalx(...) log_fatal(false, __VA_ARGS__)

/*
 * Rate limiting for messages that can repeat (a broken output, a bad
 * record per call): at most one a period; the ones held back are counted
 * and reported with the next one let through. Thread-safe; zero it to
 * start.
 *
 *	static struct log_ratelimit rl;
 *	uint64_t held;
 *	if (log_ratelimit(&rl, 10000, &held))
 *		log_warnx("output down (%llu like this held back)", held);
 */
struct log_ratelimit {
	atomic_uint_fast64_t next_ms;
	atomic_uint_fast64_t held;
};

bool log_ratelimit(struct log_ratelimit *rl, uint64_t period_ms,
	uint64_t *held);

#endif
