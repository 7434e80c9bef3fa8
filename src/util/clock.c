#include "vpcflowd/clock.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t vf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void vf_nap(const atomic_int *stop, uint64_t ms)
{
	uint64_t end = vf_now_ms() + ms;

	for (;;) {
		uint64_t now = vf_now_ms(), left;
		struct timespec ts;

		if (now >= end || (stop != NULL &&
		    atomic_load_explicit(stop, memory_order_relaxed)))
			return;
		left = end - now;
		if (left > 50)
			left = 50;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		nanosleep(&ts, NULL);
	}
}

uint64_t vf_backoff_ms(unsigned attempt, unsigned *seed)
{
	uint64_t cap = 100ull << (attempt < 7 ? attempt : 7);

	if (cap > 10000)
		cap = 10000;
	return 50 + (uint64_t)rand_r(seed) % cap;
}

/* atomic_int is lock-free, so the handler may store to it */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler needs a lock-free atomic");

static atomic_int *stop_flag;

static void on_stop(int sig)
{
	(void)sig;
	atomic_store_explicit(stop_flag, 1, memory_order_relaxed);
}

void vf_stop_on_signals(atomic_int *flag)
{
	struct sigaction sa;

	stop_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static _Atomic(atomic_int *) hup_flag;

static void on_hup(int sig)
{
	atomic_int *flag = atomic_load(&hup_flag);

	(void)sig;
	if (flag != NULL)
		atomic_store(flag, 1);
}

void vf_flag_on_sighup(atomic_int *flag)
{
	struct sigaction sa;

	atomic_store(&hup_flag, flag);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = flag != NULL ? on_hup : SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGHUP, &sa, NULL);
}
