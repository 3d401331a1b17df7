// SPDX-License-Identifier: GPL-2.0-only
/* kmeshctl: the kmesh node agent's command line. */
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmeshctl.h"
#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "kmesh_maps.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	bool changes;		/* changes the data plane: needs CAP_NET_ADMIN */
	const char *help;
} commands[] = {
	{ "status", cmd_status, false, "show the kernel, the module and which mode each feature runs in" },
	{ "up", cmd_up, true, "load and attach the data plane (or adopt the pinned one)" },
	{ "down", cmd_down, true, "detach the data plane and remove every pin" },
	{ "apply", cmd_apply, true, "switch atomically to the config in mesh files or Istio resources (--dry-run: check only)" },
	{ "validate", cmd_validate, false, "check and compile mesh files or Istio resources, without the kernel (--explain)" },
	{ "dump", cmd_dump, false, "print the live config as the kernel holds it" },
	{ "stats", cmd_stats, false, "print counters (--prometheus for Prometheus text)" },
	{ "log", cmd_log, false, "stream access-log records (--json)" },
	{ "metrics", cmd_metrics, false, "serve the counters to Prometheus over HTTP (--listen ADDR)" },
};

/*
 * Steering a node's traffic is network administration. The kernel checks
 * CAP_NET_ADMIN on route tables only; BPF maps need CAP_BPF, so without
 * this check a process with CAP_BPF alone could rewrite L4 services.
 */
bool has_net_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_NET_ADMIN / 32].effective & (1U << (CAP_NET_ADMIN % 32));
}

/* apply --dry-run changes nothing: anyone may check a config. */
static bool is_dry_run(int argc, char **argv)
{
	int i;

	if (strcmp(argv[1], "apply"))
		return false;
	for (i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--dry-run"))
			return true;
	return false;
}

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
		/* no commas: make bench puts this line in a CSV field */
		printf("kmeshctl %d.%d.%d (abi: kfunc %d dev %d maps %d)\n",
		       KMESH_VERSION_MAJOR, KMESH_VERSION_MINOR,
		       KMESH_VERSION_PATCH, KMESH_KFUNC_ABI_VERSION,
		       KMESH_DEV_ABI_VERSION, KMESH_MAPS_ABI_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		if (commands[i].changes && !has_net_admin() &&
		    !is_dry_run(argc, argv)) {
			fprintf(stderr, "kmeshctl %s: permission denied: kmeshctl needs root with CAP_NET_ADMIN to change the mesh\n",
				argv[1]);
			return 1;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "kmeshctl: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
