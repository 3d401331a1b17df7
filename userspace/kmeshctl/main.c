// SPDX-License-Identifier: GPL-2.0-only
/* kmeshctl: the kmesh node agent's command line. */
#include <stdio.h>
#include <string.h>

#include "kmeshctl.h"
#include "kmesh_abi.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "status", cmd_status, "show the kernel, the module and which mode each feature runs in" },
	{ "up", cmd_up, "load and attach the data plane (or adopt the pinned one)" },
	{ "down", cmd_down, "detach the data plane and remove every pin" },
	{ "apply", cmd_apply, "switch atomically to the config in a mesh file" },
	{ "dump", cmd_dump, "print the live config as the kernel holds it" },
	{ "stats", cmd_stats, "print counters (--prometheus for Prometheus text)" },
	{ "log", cmd_log, "stream access-log records (--json)" },
	{ "metrics", cmd_metrics, "serve the counters to Prometheus over HTTP (--listen ADDR)" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: kmeshctl COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "  %-10s %s\n", "version", "print kmeshctl's version and ABI");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("kmeshctl %d.%d.%d (abi %d)\n", KMESH_VERSION_MAJOR,
		       KMESH_VERSION_MINOR, KMESH_VERSION_PATCH, KMESH_ABI_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "kmeshctl: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
