/* SPDX-License-Identifier: MIT */
/* linenames: GPIO line names across chips. */
#include <stdio.h>
#include <string.h>

#include "linenames.h"
#include "suites.h"

#define UNTOUCHED ((struct line_name_hit){ 999, 999 })

static struct line_names *index_of(const char *const names[], const size_t chips[],
				   const unsigned int offsets[], size_t count)
{
	struct line_names *n = line_names_new();

	ck_assert_ptr_nonnull(n);
	for (size_t i = 0; i < count; i++)
		ck_assert_int_eq(line_names_add(n, names[i], chips[i], offsets[i]), 0);
	line_names_seal(n);
	return n;
}

static void expect_hit(const struct line_name_hit *hit, size_t chip, unsigned int offset)
{
	ck_assert_uint_eq(hit->chip, chip);
	ck_assert_uint_eq(hit->offset, offset);
}

/* A small board: LED on three chips (added out of chip order), prefixes of
 * GPIO17, and a name on one chip only. */
static const char *const board_names[] = { "GPIO17", "LED",   "GPIO1", "LED",
					   "BUTTON", "GPIO", "LED",   "GPIO170" };
static const size_t board_chips[] = { 0, 2, 0, 0, 1, 1, 1, 0 };
static const unsigned int board_offsets[] = { 17, 5, 1, 7, 4, 9, 3, 20 };
#define BOARD_LINES (sizeof(board_names) / sizeof(board_names[0]))

START_TEST(test_unique_name_is_found)
{
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[4];

	ck_assert_uint_eq(line_names_find(n, "BUTTON", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	expect_hit(&hits[0], 1, 4);
	ck_assert_uint_eq(line_names_find(n, "GPIO17", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	expect_hit(&hits[0], 0, 17);
	ck_assert_uint_eq(line_names_find(n, "GPIO1", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	expect_hit(&hits[0], 0, 1);
	ck_assert_uint_eq(line_names_find(n, "GPIO", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	expect_hit(&hits[0], 1, 9);
	line_names_free(n);
}
END_TEST

START_TEST(test_unknown_name_finds_nothing)
{
	static const char *const misses[] = { "", "GPIO2", "GPIO17 ", "LEDS", "BUTTO" };
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[2] = { UNTOUCHED, UNTOUCHED };

	for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++)
		ck_assert_msg(line_names_find(n, misses[i], LINE_NAMES_ANY_CHIP, hits, 2) == 0,
			      "\"%s\" was found", misses[i]);
	expect_hit(&hits[0], 999, 999);
	line_names_free(n);
}
END_TEST

START_TEST(test_case_is_ignored)
{
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[4];

	ck_assert_uint_eq(line_names_find(n, "gpio17", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	expect_hit(&hits[0], 0, 17);
	ck_assert_uint_eq(line_names_find(n, "button", LINE_NAMES_ANY_CHIP, hits, 4), 1);
	ck_assert_uint_eq(line_names_find(n, "Led", LINE_NAMES_ANY_CHIP, hits, 4), 3);
	line_names_free(n);
}
END_TEST

/* Names of a chip read later join an index already searched. */
START_TEST(test_added_after_sealing)
{
	struct line_names *n = line_names_new();
	struct line_name_hit hits[2] = { UNTOUCHED, UNTOUCHED };

	ck_assert_int_eq(line_names_add(n, "LED", 1, 4), 0);
	ck_assert_int_eq(line_names_add(n, "RELAY", 1, 2), 0);
	line_names_seal(n);
	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 2), 1);
	ck_assert_int_eq(line_names_add(n, "LED", 0, 9), 0);
	ck_assert_int_eq(line_names_add(n, "BUTTON", 0, 3), 0);
	line_names_seal(n);
	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 2), 2);
	expect_hit(&hits[0], 0, 9);
	expect_hit(&hits[1], 1, 4);
	ck_assert_uint_eq(line_names_find(n, "BUTTON", 0, hits, 1), 1);
	expect_hit(&hits[0], 0, 3);
	ck_assert_uint_eq(line_names_find(n, "RELAY", 1, hits, 1), 1);
	expect_hit(&hits[0], 1, 2);
	line_names_free(n);
}
END_TEST

START_TEST(test_empty_index)
{
	struct line_names *n = line_names_new();
	struct line_name_hit hits[1] = { UNTOUCHED };

	ck_assert_ptr_nonnull(n);
	line_names_seal(n);
	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 1), 0);
	ck_assert_uint_eq(line_names_find(n, "LED", 0, hits, 1), 0);
	expect_hit(&hits[0], 999, 999);
	line_names_free(n);
}
END_TEST

START_TEST(test_duplicates_across_chips_in_chip_order)
{
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[4] = { UNTOUCHED, UNTOUCHED, UNTOUCHED, UNTOUCHED };

	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 4), 3);
	expect_hit(&hits[0], 0, 7);
	expect_hit(&hits[1], 1, 3);
	expect_hit(&hits[2], 2, 5);
	expect_hit(&hits[3], 999, 999);
	line_names_free(n);
}
END_TEST

START_TEST(test_chip_filter)
{
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[4] = { UNTOUCHED, UNTOUCHED, UNTOUCHED, UNTOUCHED };

	ck_assert_uint_eq(line_names_find(n, "LED", 1, hits, 4), 1);
	expect_hit(&hits[0], 1, 3);
	expect_hit(&hits[1], 999, 999);
	ck_assert_uint_eq(line_names_find(n, "LED", 2, hits, 4), 1);
	expect_hit(&hits[0], 2, 5);
	ck_assert_uint_eq(line_names_find(n, "LED", 3, hits, 4), 0);
	ck_assert_uint_eq(line_names_find(n, "BUTTON", 0, hits, 4), 0);
	ck_assert_uint_eq(line_names_find(n, "BUTTON", 1, hits, 4), 1);
	expect_hit(&hits[0], 1, 4);
	line_names_free(n);
}
END_TEST

START_TEST(test_max_hits_counts_all_stores_max)
{
	struct line_names *n = index_of(board_names, board_chips, board_offsets, BOARD_LINES);
	struct line_name_hit hits[3] = { UNTOUCHED, UNTOUCHED, UNTOUCHED };

	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 1), 3);
	expect_hit(&hits[0], 0, 7);
	expect_hit(&hits[1], 999, 999);
	hits[0] = UNTOUCHED;
	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 0), 3);
	expect_hit(&hits[0], 999, 999);
	ck_assert_uint_eq(line_names_find(n, "LED", LINE_NAMES_ANY_CHIP, hits, 2), 3);
	expect_hit(&hits[0], 0, 7);
	expect_hit(&hits[1], 1, 3);
	expect_hit(&hits[2], 999, 999);
	line_names_free(n);
}
END_TEST

START_TEST(test_names_are_copied)
{
	struct line_names *n = line_names_new();
	char name[] = "RELAY";
	struct line_name_hit hit;

	ck_assert_int_eq(line_names_add(n, name, 4, 2), 0);
	strcpy(name, "OTHER");
	line_names_seal(n);
	ck_assert_uint_eq(line_names_find(n, "RELAY", LINE_NAMES_ANY_CHIP, &hit, 1), 1);
	expect_hit(&hit, 4, 2);
	ck_assert_uint_eq(line_names_find(n, "OTHER", LINE_NAMES_ANY_CHIP, &hit, 1), 0);
	line_names_free(n);
}
END_TEST

enum { CHIPS = 4, LINES_PER_CHIP = 300 };

/* Every chip names its lines L0..L299 and one line per chip is SHARED. */
START_TEST(test_many_lines)
{
	struct line_names *n = line_names_new();
	struct line_name_hit hits[CHIPS];
	char name[48]; /* room for any size_t and unsigned: -Wformat-truncation */

	for (size_t chip = CHIPS; chip-- > 0;) {
		for (unsigned int off = 0; off < LINES_PER_CHIP; off++) {
			snprintf(name, sizeof(name), "L%zu_%u", chip, off);
			ck_assert_int_eq(line_names_add(n, name, chip, off), 0);
		}
		ck_assert_int_eq(line_names_add(n, "SHARED", chip, LINES_PER_CHIP), 0);
	}
	line_names_seal(n);
	for (size_t chip = 0; chip < CHIPS; chip++) {
		for (unsigned int off = 0; off < LINES_PER_CHIP; off++) {
			snprintf(name, sizeof(name), "L%zu_%u", chip, off);
			size_t found = line_names_find(n, name, LINE_NAMES_ANY_CHIP, hits, 1);

			ck_assert_uint_eq(found, 1);
			expect_hit(&hits[0], chip, off);
		}
	}
	ck_assert_uint_eq(line_names_find(n, "SHARED", LINE_NAMES_ANY_CHIP, hits, CHIPS), CHIPS);
	for (size_t chip = 0; chip < CHIPS; chip++)
		expect_hit(&hits[chip], chip, LINES_PER_CHIP);
	line_names_free(n);
}
END_TEST

Suite *linenames_suite(void)
{
	Suite *s = suite_create("linenames");
	TCase *tc = tcase_create("index");

	tcase_add_test(tc, test_unique_name_is_found);
	tcase_add_test(tc, test_unknown_name_finds_nothing);
	tcase_add_test(tc, test_case_is_ignored);
	tcase_add_test(tc, test_empty_index);
	tcase_add_test(tc, test_added_after_sealing);
	tcase_add_test(tc, test_duplicates_across_chips_in_chip_order);
	tcase_add_test(tc, test_chip_filter);
	tcase_add_test(tc, test_max_hits_counts_all_stores_max);
	tcase_add_test(tc, test_names_are_copied);
	tcase_add_test(tc, test_many_lines);
	suite_add_tcase(s, tc);
	return s;
}
