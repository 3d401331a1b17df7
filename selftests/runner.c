// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmesh VM selftests. Runs every area in order, or only what is selected:
 *
 *	kmesh_selftests [-r] [-t AREA[/SUBTEST]]... [AREA...]
 *
 * -t works like test_progs -t (shell patterns: -t 'l7/split*'); a bare
 * AREA argument is -t AREA. -r runs each area's subtests in reverse order,
 * to show that none depends on another. An area that needs the module
 * loads it itself. Output is kselftest TAP ending in
 * "N passed, M failed, K skipped".
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prog_tests/tests.h"
#include "subtest.h"
#include "tap.h"

static const struct {
	const char *name;
	void (*run)(void);
} areas[] = {
	{ "module", test_module },
	{ "btf", test_btf },
	{ "kfunc", test_kfunc },
	{ "http", test_http },
	{ "h2", test_h2 },
	{ "conformance", test_conformance },
	{ "routes", test_routes },
	{ "route_policy", test_route_policy },
	{ "priv", test_priv },
	{ "kmeshctl", test_kmeshctl },
	{ "l4", test_l4 },
	{ "l7", test_l7 },
	{ "inbound", test_inbound },
	{ "resp", test_resp },
	{ "h2l4", test_h2l4 },
	/* after routes: kmeshctl down leaves the module's route tables, which
	 * routes counts from an empty module */
	{ "h2kf", test_h2kf },
	{ "defer", test_defer },
	{ "load", test_load },
	{ "faults", test_faults },
	{ "unload", test_unload },
};

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: kmesh_selftests [-r] [-t AREA[/SUBTEST]]... [AREA...]\nareas:");
	for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		fprintf(stderr, " %s", areas[i].name);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	const char *unmatched;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "rt:h")) != -1) {
		switch (opt) {
		case 't':
			subtest_filter_add(optarg);
			break;
		case 'r':
			subtest_order_reverse();
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	for (; optind < argc; optind++)
		subtest_filter_add(argv[optind]);

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_header();
	for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		if (area_selected(areas[i].name))
			areas[i].run();
	unmatched = subtest_filter_unmatched();
	if (unmatched) {
		tap_begin("runner: every -t pattern selects a test");
		tap_check(false, __FILE__, __LINE__, "'%s' selected nothing", unmatched);
		tap_end();
	}
	return tap_finish();
}
