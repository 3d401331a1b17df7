// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmesh VM selftests. Runs every area in order (the module is loaded by the
 * first and removed by the last), or only the areas named on the command
 * line. Output is kselftest TAP ending in "N passed, M failed".
 */
#include <stdio.h>
#include <string.h>

#include "prog_tests/tests.h"
#include "tap.h"

static const struct {
	const char *name;
	void (*run)(void);
} areas[] = {
	{ "module", test_module },
	{ "btf", test_btf },
	{ "kfunc", test_kfunc },
	{ "http", test_http },
	{ "routes", test_routes },
	{ "priv", test_priv },
	{ "kmeshctl", test_kmeshctl },
	{ "l4", test_l4 },
	{ "l7", test_l7 },
	{ "inbound", test_inbound },
	{ "defer", test_defer },
	{ "load", test_load },
	{ "faults", test_faults },
	{ "unload", test_unload },
};

static int wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_header();
	for (i = 0; i < sizeof(areas) / sizeof(areas[0]); i++)
		if (wanted(areas[i].name, argc, argv))
			areas[i].run();
	return tap_finish();
}
