/*
 * Time for loops that wait: a monotonic clock in milliseconds, a sleep that
 * a stop flag cuts short, and the retry backoff every client uses.
 */
#ifndef VPCFLOWD_CLOCK_H
#define VPCFLOWD_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

/* CLOCK_MONOTONIC, in milliseconds. */
uint64_t vf_now_ms(void);

/* Sleeps up to ms, in slices of 50 ms, returning early once *stop is set (stop may be NULL). */
void vf_nap(const atomic_int *stop, uint64_t ms);

/* Exponential backoff with full jitter: 100 ms doubling to 10 s, plus 50 ms. */
uint64_t vf_backoff_ms(unsigned attempt, unsigned *seed);

/* SIGTERM and SIGINT set *flag (lock-free); SIGPIPE is ignored. */
void vf_stop_on_signals(atomic_int *flag);

/*
 * SIGHUP sets *flag to 1 (flag must live as long as the process runs);
 * NULL ignores SIGHUP from then on (a daemon must not die of one).
 */
void vf_flag_on_sighup(atomic_int *flag);

#endif
