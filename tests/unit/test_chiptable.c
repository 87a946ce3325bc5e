/* SPDX-License-Identifier: MIT */
/* chiptable: how 'chip' and 'line' of a mapping find a line, the same for
 * both libgpiod backends. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chiptable.h"
#include "suites.h"

/* Two chips with the same label (as boards with several GPIO expanders
 * have) and a third one; LED is on two chips. */
static const struct {
	size_t chip;
	unsigned int offset;
	const char *name;
} board_names[] = { { 0, 17, "GPIO17" }, { 0, 13, "LED" }, { 1, 2, "RELAY" }, { 2, 5, "LED" } };

/* How often each chip's names were asked for. */
static unsigned int names_read[3];

static int read_board_names(void *ctx, struct chip_table *t, size_t chip, char *err,
			    size_t errlen)
{
	(void)ctx;
	ck_assert_uint_lt(chip, 3);
	names_read[chip]++;
	for (size_t i = 0; i < sizeof(board_names) / sizeof(board_names[0]); i++)
		if (board_names[i].chip == chip &&
		    chip_table_add_line(t, chip, board_names[i].offset, board_names[i].name) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

static struct chip_table *board(void)
{
	struct chip_table *t = chip_table_new(read_board_names, NULL);

	ck_assert_ptr_nonnull(t);
	memset(names_read, 0, sizeof(names_read));
	ck_assert_int_eq(chip_table_add_chip(t, "gpiochip0", "pinctrl-rp1", "/dev/gpiochip0", 54), 0);
	ck_assert_int_eq(chip_table_add_chip(t, "gpiochip1", "expander", "/dev/gpiochip1", 8), 0);
	ck_assert_int_eq(chip_table_add_chip(t, "gpiochip2", "expander", "/dev/gpiochip2", 16), 0);
	return t;
}

/* For tables whose names no test asks for. */
static int no_names(void *ctx, struct chip_table *t, size_t chip, char *err, size_t errlen)
{
	(void)ctx;
	(void)t;
	(void)chip;
	(void)err;
	(void)errlen;
	return 0;
}

struct found {
	int rc;
	struct gpio_ref ref;
	char err[256];
};

static struct found find(struct chip_table *t, const char *chip, const char *name,
			 unsigned int offset)
{
	struct found f = { .ref = { 99, 99 } };

	f.rc = chip_table_find(t, chip, name, offset, &f.ref, f.err, sizeof(f.err));
	return f;
}

static void expect_line(struct found f, size_t chip, unsigned int offset)
{
	ck_assert_msg(f.rc == 0, "not found: %s", f.err);
	ck_assert_uint_eq(f.ref.chip, chip);
	ck_assert_uint_eq(f.ref.offset, offset);
}

static void expect_refused(struct found f, const char *fragment)
{
	ck_assert_int_eq(f.rc, -1);
	ck_assert_msg(strstr(f.err, fragment), "\"%s\" not in \"%s\"", fragment, f.err);
}

START_TEST(test_accessors)
{
	struct chip_table *t = board();

	ck_assert_str_eq(chip_table_name(t, 1), "gpiochip1");
	ck_assert_uint_eq(chip_table_num_lines(t, 2), 16);
	chip_table_free(t);
}
END_TEST

START_TEST(test_by_name_on_any_chip)
{
	struct chip_table *t = board();

	expect_line(find(t, NULL, "GPIO17", 0), 0, 17);
	expect_line(find(t, NULL, "RELAY", 0), 1, 2);
	expect_refused(find(t, NULL, "GPIO18", 0), "no GPIO line named \"GPIO18\"");
	expect_line(find(t, NULL, "gpio17", 0), 0, 17); /* case is ignored */
	/* The same name on two chips: ambiguous unless the chip says which. */
	expect_refused(find(t, NULL, "LED", 0), "2 GPIO lines are named \"LED\"");
	expect_refused(find(t, NULL, "LED", 0), "give 'chip' too");
	chip_table_free(t);
}
END_TEST

/* A Raspberry Pi's pins as users write them: the kernel's name is meant. */
START_TEST(test_hints_for_pin_names)
{
	struct chip_table *t = board();

	expect_refused(find(t, NULL, "17", 0), "did you mean line = \"GPIO17\"; ?");
	expect_refused(find(t, NULL, "17", 0), "chip = \"gpiochip0\"; line = 17;");
	expect_refused(find(t, NULL, "BCM17", 0), "(the Broadcom number): did you mean line = \"GPIO17\"");
	expect_refused(find(t, NULL, "pin11", 0), "(a physical pin of the 40-pin header): did you "
						  "mean line = \"GPIO17\"");
	expect_refused(find(t, NULL, "GPIO 17", 0), "\"GPIO17\"");
	expect_refused(find(t, NULL, "pin6", 0), "that header pin is ground, not a GPIO");
	expect_refused(find(t, NULL, "pin1", 0), "power, not a GPIO");
	expect_refused(find(t, NULL, "pin12", 0), "gpio2mqtt --list-lines shows every line");
	/* GPIO18 (pin 12) is not on this board: no suggestion. */
	ck_assert(!strstr(find(t, NULL, "pin12", 0).err, "did you mean"));
	chip_table_free(t);
}
END_TEST

START_TEST(test_by_name_on_a_chip)
{
	struct chip_table *t = board();

	expect_line(find(t, "gpiochip0", "LED", 0), 0, 13);
	expect_line(find(t, "/dev/gpiochip2", "LED", 0), 2, 5);
	expect_line(find(t, "pinctrl-rp1", "LED", 0), 0, 13);
	/* A shared label covers both chips; the name is still unique there. */
	expect_line(find(t, "expander", "RELAY", 0), 1, 2);
	expect_line(find(t, "expander", "LED", 0), 2, 5);
	expect_refused(find(t, "gpiochip1", "LED", 0), "no GPIO line named \"LED\" on gpiochip1");
	chip_table_free(t);
}
END_TEST

START_TEST(test_by_offset)
{
	struct chip_table *t = board();

	expect_line(find(t, "gpiochip1", NULL, 7), 1, 7);
	expect_line(find(t, "/dev/gpiochip2", NULL, 0), 2, 0);
	expect_line(find(t, "pinctrl-rp1", NULL, 53), 0, 53);
	expect_refused(find(t, "gpiochip1", NULL, 8), "gpiochip1 has 8 lines, no offset 8");
	expect_refused(find(t, NULL, NULL, 3), "needs a chip");
	/* An offset on a shared label would be a guess. */
	expect_refused(find(t, "expander", NULL, 1), "label \"expander\" is not unique");
	chip_table_free(t);
}
END_TEST

START_TEST(test_unknown_chip_lists_the_chips)
{
	struct chip_table *t = board();
	struct chip_table *none = chip_table_new(no_names, NULL);

	expect_refused(find(t, "gpiochip9", "LED", 0), "no GPIO chip \"gpiochip9\"");
	expect_refused(find(t, "gpiochip9", NULL, 0), "gpiochip1 [expander]");
	expect_refused(find(t, "/dev/gpiochip", NULL, 0), "no GPIO chip");
	expect_refused(find(none, "gpiochip0", NULL, 0), "this system has no GPIO chips");
	expect_refused(find(none, NULL, "LED", 0), "this system has no GPIO chips");
	chip_table_free(t);
	chip_table_free(none);
}
END_TEST

/* Names are read only from the chips a lookup by name covers, once each:
 * a mapping by offset reads none. */
START_TEST(test_names_read_when_needed)
{
	struct chip_table *t = board();

	expect_line(find(t, "gpiochip1", NULL, 7), 1, 7);
	ck_assert_uint_eq(names_read[0] + names_read[1] + names_read[2], 0);
	expect_line(find(t, "expander", "RELAY", 0), 1, 2);
	ck_assert_uint_eq(names_read[0], 0);
	ck_assert_uint_eq(names_read[1], 1);
	ck_assert_uint_eq(names_read[2], 1);
	/* Names read later join the index: gpiochip0's LED now makes two. */
	expect_line(find(t, "gpiochip0", "GPIO17", 0), 0, 17);
	expect_refused(find(t, NULL, "LED", 0), "2 GPIO lines are named \"LED\"");
	ck_assert_uint_eq(names_read[0], 1);
	ck_assert_uint_eq(names_read[1], 1);
	ck_assert_uint_eq(names_read[2], 1);
	chip_table_free(t);
}
END_TEST

static int failing_names(void *ctx, struct chip_table *t, size_t chip, char *err,
			 size_t errlen)
{
	(void)ctx;
	(void)t;
	snprintf(err, errlen, "cannot read chip %zu", chip);
	return -1;
}

START_TEST(test_names_that_cannot_be_read)
{
	struct chip_table *t = chip_table_new(failing_names, NULL);

	ck_assert_int_eq(chip_table_add_chip(t, "gpiochip0", "", "/dev/gpiochip0", 4), 0);
	expect_refused(find(t, NULL, "LED", 0), "cannot read chip 0");
	expect_line(find(t, "gpiochip0", NULL, 3), 0, 3);
	chip_table_free(t);
}
END_TEST

/* A chip given as a symbolic link to its device is the same chip. */
START_TEST(test_path_through_a_symlink)
{
	char dir[] = "/tmp/chiptable.XXXXXX", dev[64], link[64];
	struct chip_table *t = chip_table_new(no_names, NULL);
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dev, sizeof(dev), "%s/gpiochip7", dir);
	snprintf(link, sizeof(link), "%s/header", dir);
	f = fopen(dev, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(symlink("gpiochip7", link), 0);
	ck_assert_int_eq(chip_table_add_chip(t, "gpiochip7", "", dev, 4), 0);
	expect_line(find(t, link, NULL, 3), 0, 3);
	expect_refused(find(t, "header", NULL, 3), "no GPIO chip");
	unlink(link);
	unlink(dev);
	rmdir(dir);
	chip_table_free(t);
}
END_TEST

Suite *chiptable_suite(void)
{
	Suite *s = suite_create("chiptable");
	TCase *tc = tcase_create("find");

	tcase_add_test(tc, test_accessors);
	tcase_add_test(tc, test_by_name_on_any_chip);
	tcase_add_test(tc, test_hints_for_pin_names);
	tcase_add_test(tc, test_by_name_on_a_chip);
	tcase_add_test(tc, test_by_offset);
	tcase_add_test(tc, test_unknown_chip_lists_the_chips);
	tcase_add_test(tc, test_path_through_a_symlink);
	tcase_add_test(tc, test_names_read_when_needed);
	tcase_add_test(tc, test_names_that_cannot_be_read);
	suite_add_tcase(s, tc);
	return s;
}
