/*
 * vf_lease_choose: the fair share, available leases first, one steal a
 * round from the most loaded worker, and convergence of a simulated fleet.
 */
#include "testutil.h"

#include "vpcflowd/lease.h"

/* A table in shorthand: owners[i] is lease i's owner ("" unowned),
 * "me" for the worker asking; expired marks owners that stopped renewing. */
struct table {
	const char *owner[16];
	bool expired[16];
	bool inactive[16];
	size_t n;
};

static size_t choose(const struct table *t, bool pinned, size_t *pick)
{
	struct vf_lease_view v[16];
	char keys[16][8];
	unsigned seed = 7;

	for (size_t i = 0; i < t->n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "s%zu", i);
		v[i].key = keys[i];
		v[i].held = strcmp(t->owner[i], "me") == 0;
		v[i].owner = v[i].held ? "me" : t->owner[i];
		v[i].available = t->owner[i][0] == '\0' || t->expired[i];
		v[i].active = !t->inactive[i];
	}
	return vf_lease_choose(v, t->n, pinned, pick, 16, &seed);
}

static void test_fresh_table_takes_all(void **state)
{
	struct table t = { .owner = { "", "", "", "", "", "" }, .n = 6 };
	size_t pick[16];

	(void)state;
	/* alone: the fair share is everything */
	assert_int_equal(choose(&t, false, pick), 6);
}

static void test_available_first_up_to_share(void **state)
{
	/* a: 2 live, b: 2 expired, 2 unowned; workers me + a: share 3 */
	struct table t = { .owner = { "a", "a", "b", "b", "", "" },
		.expired = { false, false, true, true }, .n = 6 };
	size_t pick[16], n;

	(void)state;
	n = choose(&t, false, pick);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++)
		assert_true(pick[i] >= 2);   /* never a's live ones */
}

static void test_steals_one_from_most_loaded(void **state)
{
	struct table t = { .owner = { "a", "a", "a", "a", "b", "b" }, .n = 6 };
	size_t pick[16], n;

	(void)state;
	/* me, a, b: share 2; nothing free; a (4) is above it */
	n = choose(&t, false, pick);
	assert_int_equal(n, 1);
	assert_true(pick[0] <= 3);
	assert_string_equal(t.owner[pick[0]], "a");
}

static void test_no_steal_at_share_when_one_short(void **state)
{
	/* 7 leases, 3 workers: share 3; a 3, b 2, me 2: a is at the share */
	struct table t = { .owner = { "a", "a", "a", "b", "b", "me", "me" },
		.n = 7 };
	size_t pick[16];

	(void)state;
	assert_int_equal(choose(&t, false, pick), 0);
}

static void test_steal_at_share_when_two_short(void **state)
{
	/* 7 leases: a 3, b 3, me 1: share 3, me needs 2, a is at the share */
	struct table t = { .owner = { "a", "a", "a", "b", "b", "b", "me" },
		.n = 7 };
	size_t pick[16];

	(void)state;
	assert_int_equal(choose(&t, false, pick), 1);
}

static void test_at_share_takes_nothing(void **state)
{
	struct table t = { .owner = { "a", "a", "me", "me", "", "" },
		.inactive = { false, false, false, false, true, true }, .n = 6 };
	size_t pick[16];

	(void)state;
	/* the unowned two are finished or blocked: not counted, not taken */
	assert_int_equal(choose(&t, false, pick), 0);
}

static void test_pinned_takes_available_never_steals(void **state)
{
	struct table t = { .owner = { "a", "", "b", "me" },
		.expired = { false, false, true, false }, .n = 4 };
	size_t pick[16], n;

	(void)state;
	n = choose(&t, true, pick);
	assert_int_equal(n, 2);
	assert_int_equal(pick[0], 1);
	assert_int_equal(pick[1], 2);
}

/*
 * A fleet in rounds: each worker in turn sees the table and takes what it
 * picks (a take always succeeds here). Every split of n leases over k
 * workers must settle with loads differing by at most one, and stay.
 */
static void simulate(size_t n, size_t k, const char *start_owner)
{
	char names[8][4];
	const char *owner[64];
	unsigned seed = (unsigned)(n * 31 + k);
	size_t stable = 0, rounds = 0;

	for (size_t w = 0; w < k; w++)
		snprintf(names[w], sizeof(names[w]), "w%zu", w);
	for (size_t i = 0; i < n; i++)
		owner[i] = start_owner;
	while (stable < 3) {
		bool changed = false;

		assert_true(++rounds < 10 * n + 10);
		for (size_t w = 0; w < k; w++) {
			struct vf_lease_view v[64];
			size_t pick[64], np;

			for (size_t i = 0; i < n; i++) {
				v[i].key = "";
				v[i].owner = owner[i];
				v[i].held = strcmp(owner[i], names[w]) == 0;
				v[i].available = owner[i][0] == '\0';
				v[i].active = true;
			}
			np = vf_lease_choose(v, n, false, pick, 64, &seed);
			for (size_t p = 0; p < np; p++) {
				owner[pick[p]] = names[w];
				changed = true;
			}
		}
		stable = changed ? 0 : stable + 1;
	}
	size_t lo = n, hi = 0;
	for (size_t w = 0; w < k; w++) {
		size_t load = 0;

		for (size_t i = 0; i < n; i++)
			load += strcmp(owner[i], names[w]) == 0;
		lo = load < lo ? load : lo;
		hi = load > hi ? load : hi;
	}
	if (hi - lo > 1)
		fail_msg("%zu leases over %zu workers settled at %zu..%zu", n, k,
			lo, hi);
}

static void test_fleet_converges(void **state)
{
	(void)state;
	simulate(6, 3, "");
	simulate(6, 3, "w0");        /* one worker had everything */
	for (size_t n = 1; n <= 40; n++)
		for (size_t k = 1; k <= 7; k++) {
			simulate(n, k, "");
			simulate(n, k, "w0");
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_table_takes_all),
		cmocka_unit_test(test_available_first_up_to_share),
		cmocka_unit_test(test_steals_one_from_most_loaded),
		cmocka_unit_test(test_no_steal_at_share_when_one_short),
		cmocka_unit_test(test_steal_at_share_when_two_short),
		cmocka_unit_test(test_at_share_takes_nothing),
		cmocka_unit_test(test_pinned_takes_available_never_steals),
		cmocka_unit_test(test_fleet_converges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
