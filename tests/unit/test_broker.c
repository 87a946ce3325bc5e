/* SPDX-License-Identifier: MIT */
/* broker: protocol fall-back, the broker's limits, hints on lost connections. */
#include <stdint.h>

#include "broker.h"
#include "suites.h"

START_TEST(test_fixed_versions_never_switch)
{
	struct broker b;

	broker_init(&b, PROTOCOL_V5);
	ck_assert(b.v5);
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_KEEP);
	ck_assert_int_eq(broker_failed(&b, BROKER_UNSUPPORTED), BROKER_KEEP);
	ck_assert(b.v5);
	broker_init(&b, PROTOCOL_V311);
	ck_assert(!b.v5);
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_KEEP);
	ck_assert(!b.v5);
}
END_TEST

START_TEST(test_auto_falls_back_on_refusal_for_good)
{
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	ck_assert(b.v5);
	ck_assert_int_eq(broker_failed(&b, BROKER_UNSUPPORTED), BROKER_TO_V311);
	ck_assert(!b.v5);
	/* A refusal is certain: 3.1.1 hanging up later is not a reason to go back. */
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_KEEP);
	ck_assert(!b.v5);
}
END_TEST

START_TEST(test_down_silent_or_refused_is_no_reason)
{
	static const enum broker_end ends[] = { BROKER_UNREACHABLE, BROKER_SILENT,
						BROKER_REFUSED };
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		ck_assert_int_eq(broker_failed(&b, ends[i]), BROKER_KEEP);
		ck_assert(b.v5);
	}
}
END_TEST

START_TEST(test_hangup_guess_is_taken_back_or_confirmed)
{
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_TO_V311);
	/* 3.1.1 hung up as well: the version was not the reason. */
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_TO_V5);
	ck_assert(b.v5);
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_TO_V311);
	/* Accepted with 3.1.1: it stays. */
	broker_accepted(&b, &broker_no_limits, 0);
	ck_assert_int_eq(broker_failed(&b, BROKER_HANGUP), BROKER_KEEP);
	ck_assert(!b.v5);
}
END_TEST

START_TEST(test_limits_apply)
{
	struct broker b;
	struct broker_limits l = { .max_qos = 0, .retain = false, .max_packet = 0 };

	broker_init(&b, PROTOCOL_AUTO);
	ck_assert_int_eq(broker_qos(&b, 2), 2);
	ck_assert(broker_retain(&b, true));
	broker_accepted(&b, &l, 0);
	ck_assert_int_eq(broker_qos(&b, 1), 0);
	ck_assert_int_eq(broker_qos(&b, 0), 0);
	ck_assert(!broker_retain(&b, true));
	ck_assert(!broker_retain(&b, false));
	l.max_qos = 1;
	broker_accepted(&b, &l, 0);
	ck_assert_int_eq(broker_qos(&b, 2), 1);
	ck_assert_int_eq(broker_qos(&b, 1), 1);
}
END_TEST

/* The whole PUBLISH: first byte, remaining length, topic, id, properties. */
static size_t publish_size(bool v5, size_t topic_len, int qos, size_t payload)
{
	size_t rest = 2 + topic_len + (qos ? 2 : 0) + (v5 ? 1 : 0) + payload;

	return 1 + (rest < 128 ? 1 : rest < 16384 ? 2 : rest < 2097152 ? 3 : 4) + rest;
}

START_TEST(test_payload_room_fills_the_packet_exactly)
{
	static const uint32_t sizes[] = { 20, 127, 128, 129, 130, 200, 16383, 16384, 16390,
					  2097152, 2097160, 268435455 };
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	ck_assert_uint_eq(broker_payload_room(&b, 10, 1), SIZE_MAX);
	for (int v5 = 0; v5 < 2; v5++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct broker_limits l = { .max_qos = 2, .retain = true,
						   .max_packet = sizes[i] };
			size_t room;

			broker_accepted(&b, &l, 0);
			b.v5 = v5;
			room = broker_payload_room(&b, 10, 1);
			ck_assert_uint_le(publish_size(v5, 10, 1, room), sizes[i]);
			ck_assert_uint_gt(publish_size(v5, 10, 1, room + 1), sizes[i]);
		}
	}
}
END_TEST

START_TEST(test_payload_room_none_for_a_long_topic)
{
	struct broker b;
	struct broker_limits l = { .max_qos = 2, .retain = true, .max_packet = 16 };

	broker_init(&b, PROTOCOL_AUTO);
	broker_accepted(&b, &l, 0);
	ck_assert_uint_eq(broker_payload_room(&b, 100, 0), 0);
	ck_assert_uint_eq(broker_payload_room(&b, 10, 0), 16 - 2 - 2 - 10 - 1);
}
END_TEST

START_TEST(test_hint_after_short_connections)
{
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	broker_accepted(&b, &broker_no_limits, 1000);
	ck_assert(!broker_lost(&b, 1000 + 200, BROKER_CLOSED));
	broker_accepted(&b, &broker_no_limits, 2000);
	ck_assert(broker_lost(&b, 2000 + 999, BROKER_CLOSED));
	/* A connection that lasted breaks the streak. */
	broker_accepted(&b, &broker_no_limits, 5000);
	ck_assert(!broker_lost(&b, 5000 + 1000, BROKER_CLOSED));
	broker_accepted(&b, &broker_no_limits, 7000);
	ck_assert(!broker_lost(&b, 7000 + 10, BROKER_CLOSED));
	/* So does an end that is not the broker closing: a protocol error. */
	broker_accepted(&b, &broker_no_limits, 8000);
	ck_assert(!broker_lost(&b, 8000 + 10, BROKER_BROKEN));
	broker_accepted(&b, &broker_no_limits, 9000);
	ck_assert(!broker_lost(&b, 9000 + 10, BROKER_CLOSED));
}
END_TEST

START_TEST(test_hint_when_taken_over)
{
	struct broker b;

	broker_init(&b, PROTOCOL_AUTO);
	broker_accepted(&b, &broker_no_limits, 0);
	ck_assert(broker_lost(&b, 60000, BROKER_TAKEN_OVER));
}
END_TEST

START_TEST(test_qos_lowered_after_a_failure_at_qos_2)
{
	struct broker b;

	broker_init(&b, PROTOCOL_V5);
	ck_assert(!broker_failed_at_qos(&b, 2)); /* MQTT 5 says its maximum itself */
	broker_init(&b, PROTOCOL_V311);
	ck_assert(!broker_failed_at_qos(&b, 1));
	ck_assert_int_eq(broker_qos(&b, 2), 2);
	ck_assert(broker_failed_at_qos(&b, 2));
	ck_assert_int_eq(broker_qos(&b, 2), 1);
	ck_assert(!broker_failed_at_qos(&b, 2)); /* said once */
	/* A later CONNACK does not undo what was learned. */
	broker_accepted(&b, &broker_no_limits, 0);
	ck_assert_int_eq(broker_qos(&b, 2), 1);
	ck_assert_int_eq(broker_qos(&b, 0), 0);
}
END_TEST

Suite *broker_suite(void)
{
	Suite *s = suite_create("broker");
	TCase *protocol = tcase_create("protocol");
	TCase *limits = tcase_create("limits");
	TCase *lost = tcase_create("lost");

	tcase_add_test(protocol, test_fixed_versions_never_switch);
	tcase_add_test(protocol, test_auto_falls_back_on_refusal_for_good);
	tcase_add_test(protocol, test_down_silent_or_refused_is_no_reason);
	tcase_add_test(protocol, test_hangup_guess_is_taken_back_or_confirmed);
	tcase_add_test(limits, test_limits_apply);
	tcase_add_test(limits, test_payload_room_fills_the_packet_exactly);
	tcase_add_test(limits, test_payload_room_none_for_a_long_topic);
	tcase_add_test(limits, test_qos_lowered_after_a_failure_at_qos_2);
	tcase_add_test(lost, test_hint_after_short_connections);
	tcase_add_test(lost, test_hint_when_taken_over);
	suite_add_tcase(s, protocol);
	suite_add_tcase(s, limits);
	suite_add_tcase(s, lost);
	return s;
}
