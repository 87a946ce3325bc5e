/* SPDX-License-Identifier: MIT */
/* The unit test runner: every suite, one report, non-zero exit on failure.
 * CK_FORK=no runs the tests in this process (for valgrind). */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *runner = srunner_create(payload_suite());
	int failed;

	srunner_add_suite(runner, topic_table_suite());
	srunner_add_suite(runner, linenames_suite());
	srunner_add_suite(runner, lineset_suite());
	srunner_add_suite(runner, chiptable_suite());
	srunner_add_suite(runner, backoff_suite());
	srunner_add_suite(runner, broker_suite());
	srunner_add_suite(runner, bridge_suite());
	srunner_add_suite(runner, bridge_ha_suite());
	srunner_add_suite(runner, config_suite());
	srunner_add_suite(runner, config_oom_suite());
	srunner_add_suite(runner, ha_discovery_suite());
	srunner_add_suite(runner, ha_memory_suite());
	srunner_add_suite(runner, hints_suite());
	srunner_add_suite(runner, input_suite());
	srunner_add_suite(runner, notify_suite());
	srunner_add_suite(runner, output_suite());
	srunner_add_suite(runner, statefile_suite());
	srunner_add_suite(runner, subscriptions_suite());
	srunner_add_suite(runner, template_suite());
	srunner_add_suite(runner, timer_suite());
	srunner_add_suite(runner, topics_suite());
	srunner_run_all(runner, CK_ENV);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
