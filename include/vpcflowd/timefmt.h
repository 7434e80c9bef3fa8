#ifndef VPCFLOWD_TIMEFMT_H
#define VPCFLOWD_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * RFC 3339 / ISO 8601 times as AWS and users write them:
 * 2026-11-20T00:00:00Z, 2026-11-20 01:00:00.250+01:00, ...+0100.
 * Gives Unix milliseconds (fractions past milliseconds are dropped).
 * False for anything else, an impossible date, or a year before 1970.
 */
bool vf_parse_rfc3339(const char *s, int64_t *ms);
/* The same, and a time without a zone is UTC (what AWS credential
 * sources write). */
bool vf_parse_rfc3339_utc(const char *s, int64_t *ms);

#endif
