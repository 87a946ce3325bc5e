/* SPDX-License-Identifier: MIT */
/* One check suite per pure module of the daemon; main.c runs them all. */
#ifndef GPIO2MQTT_TEST_SUITES_H
#define GPIO2MQTT_TEST_SUITES_H

#include <check.h>

Suite *backoff_suite(void);
Suite *bridge_suite(void);
Suite *bridge_ha_suite(void);
Suite *broker_suite(void);
Suite *chiptable_suite(void);
Suite *config_suite(void);
Suite *config_oom_suite(void);
Suite *ha_discovery_suite(void);
Suite *ha_memory_suite(void);
Suite *hints_suite(void);
Suite *input_suite(void);
Suite *linenames_suite(void);
Suite *lineset_suite(void);
Suite *topic_table_suite(void);
Suite *notify_suite(void);
Suite *output_suite(void);
Suite *payload_suite(void);
Suite *statefile_suite(void);
Suite *subscriptions_suite(void);
Suite *template_suite(void);
Suite *timer_suite(void);
Suite *topics_suite(void);

#endif
