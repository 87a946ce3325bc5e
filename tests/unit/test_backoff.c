/* SPDX-License-Identifier: MIT */
/* backoff: capped exponential reconnect delays with jitter. */
#include <limits.h>

#include "backoff.h"
#include "suites.h"

/* Checks that the next delay lies in [1, step]. */
static unsigned int expect_delay_within(struct backoff *b, unsigned int step)
{
	unsigned int delay = backoff_next(b);

	ck_assert_msg(delay >= 1 && delay <= step, "delay %u outside [1, %u]", delay, step);
	return delay;
}

static unsigned int capped_double(unsigned int step, unsigned int max)
{
	return step > max / 2 ? max : step * 2;
}

START_TEST(test_first_delay_at_most_first_ms)
{
	for (unsigned int seed = 0; seed < 200; seed++) {
		struct backoff b;

		backoff_init(&b, 1000, 30000, seed);
		expect_delay_within(&b, 1000);
	}
}
END_TEST

START_TEST(test_steps_double_up_to_the_cap)
{
	static const unsigned int steps[] = { 100, 200, 400, 800, 1000, 1000, 1000, 1000 };
	struct backoff b;

	backoff_init(&b, 100, 1000, 7);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		expect_delay_within(&b, steps[i]);
}
END_TEST

START_TEST(test_many_seeds_stay_in_range)
{
	for (unsigned int seed = 1; seed < 50; seed++) {
		struct backoff b;
		unsigned int step = 250;

		backoff_init(&b, 250, 10000, seed);
		for (int i = 0; i < 30; i++) {
			expect_delay_within(&b, step);
			step = capped_double(step, 10000);
		}
	}
}
END_TEST

START_TEST(test_no_overflow_near_uint_max)
{
	struct backoff b;
	unsigned int step = 1;

	backoff_init(&b, 1, UINT_MAX, 3);
	for (int i = 0; i < 64; i++) {
		expect_delay_within(&b, step);
		step = capped_double(step, UINT_MAX);
	}
	ck_assert_uint_eq(step, UINT_MAX);
}
END_TEST

START_TEST(test_reset_starts_again_from_first_ms)
{
	struct backoff b;

	backoff_init(&b, 500, 60000, 11);
	for (int i = 0; i < 20; i++)
		backoff_next(&b);
	expect_delay_within(&b, 60000);
	backoff_reset(&b);
	expect_delay_within(&b, 500);
	expect_delay_within(&b, 1000);
}
END_TEST

START_TEST(test_delays_are_jittered)
{
	unsigned int first = 0, same_as_first = 0;

	/* Boards seeded differently must not all wait the same time. */
	for (unsigned int seed = 1; seed <= 20; seed++) {
		struct backoff b;
		unsigned int delay;

		backoff_init(&b, 10000, 60000, seed);
		delay = backoff_next(&b);
		if (seed == 1)
			first = delay;
		same_as_first += delay == first;
	}
	ck_assert_uint_lt(same_as_first, 20);
}
END_TEST

/* 100 boards that lost the broker together: their first retries spread
 * over the whole first step, a quarter of it holds about a quarter. */
START_TEST(test_first_retries_spread_over_the_step)
{
	unsigned int in_first_tenth = 0;

	for (unsigned int seed = 1; seed <= 100; seed++) {
		struct backoff b;

		backoff_init(&b, 1500, 10000, seed * 7919);
		in_first_tenth += backoff_next(&b) <= 150;
	}
	ck_assert_uint_le(in_first_tenth, 25);
	ck_assert_uint_ge(in_first_tenth, 1);
}
END_TEST

START_TEST(test_first_step_within_the_cap)
{
	struct backoff b;

	backoff_init(&b, 1500, 1000, 3);
	for (int i = 0; i < 20; i++)
		expect_delay_within(&b, 1000);
}
END_TEST

START_TEST(test_delays_vary_at_the_cap)
{
	struct backoff b;
	unsigned int low = UINT_MAX, high = 0;

	backoff_init(&b, 1000, 8000, 5);
	for (int i = 0; i < 4; i++)
		backoff_next(&b);
	for (int i = 0; i < 50; i++) {
		unsigned int delay = expect_delay_within(&b, 8000);

		low = delay < low ? delay : low;
		high = delay > high ? delay : high;
	}
	ck_assert_uint_lt(low, high);
}
END_TEST

Suite *backoff_suite(void)
{
	Suite *s = suite_create("backoff");
	TCase *tc = tcase_create("delays");

	tcase_add_test(tc, test_first_delay_at_most_first_ms);
	tcase_add_test(tc, test_steps_double_up_to_the_cap);
	tcase_add_test(tc, test_many_seeds_stay_in_range);
	tcase_add_test(tc, test_no_overflow_near_uint_max);
	tcase_add_test(tc, test_reset_starts_again_from_first_ms);
	tcase_add_test(tc, test_delays_are_jittered);
	tcase_add_test(tc, test_delays_vary_at_the_cap);
	tcase_add_test(tc, test_first_retries_spread_over_the_step);
	tcase_add_test(tc, test_first_step_within_the_cap);
	suite_add_tcase(s, tc);
	return s;
}
