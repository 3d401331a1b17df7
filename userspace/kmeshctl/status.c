// SPDX-License-Identifier: GPL-2.0-only
/* kmeshctl status: what this node can do and how kmesh will run on it. */
#include <getopt.h>
#include <stdio.h>

#include "caps.h"
#include "kmeshctl.h"
#include "kmesh_kfunc.h"
#include <unistd.h>

static void print_hooks(unsigned int hooks)
{
	if (hooks & KMESH_HOOK_COMMON)
		printf(" common");
	if (hooks & KMESH_HOOK_SYSCALL)
		printf(" syscall");
	if (hooks & KMESH_HOOK_SCHED_CLS)
		printf(" sched_cls");
	printf("\n");
}

/*
 * L7 work happens in sk_msg (per request) and sock_addr/sockops (deferred
 * connect): kfunc mode needs all of them, otherwise the eBPF fallback runs.
 */
static bool l7_kfunc_mode(const struct kmesh_node_caps *caps)
{
	return caps->kfunc_callable[KMESH_PROBE_SK_MSG] &&
	       caps->kfunc_callable[KMESH_PROBE_SOCKOPS] &&
	       caps->kfunc_callable[KMESH_PROBE_CONNECT4];
}

/*
 * HTTP/2 per stream needs kfunc mode: a module of this kmeshctl's kfunc
 * ABI (anything else is refused above) has the HTTP/2 plane (l7_h2.h).
 * Otherwise l7_h2_detect.h runs: the preface detected, the connection
 * carried at L4 or refused.
 */
static bool h2_per_stream(const struct kmesh_node_caps *caps)
{
	return caps->module_loaded && !caps->abi_mismatch[0] &&
	       l7_kfunc_mode(caps);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct kmesh_node_caps caps;
	int c, i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: kmeshctl status\n");
			return 0;
		}
		return 2;
	}

	kmesh_caps_detect(&caps);
	printf("kernel:        %s\n", caps.kernel);
	if (caps.module_loaded) {
		printf("kmesh module:  loaded (version %s, kfunc abi %u, dev abi %u%s)\n",
		       caps.module_version, caps.kfunc_abi_version,
		       caps.dev_abi_version,
		       caps.abi_mismatch[0] ? ", MISMATCH with kmeshctl" : "");
		if (caps.abi_mismatch[0])
			printf("               %s\n", caps.abi_mismatch);
		printf("kfunc hooks:  ");
		print_hooks(caps.hooks);
	} else {
		printf("kmesh module:  not loaded (modprobe kmesh)\n");
	}
	printf("kfunc calls by program type:\n");
	for (i = 0; i < KMESH_PROBE_COUNT; i++) {
		if (caps.kfunc_callable[i])
			printf("  %-16s yes\n", kmesh_probe_name(i));
		else
			printf("  %-16s no: %s\n", kmesh_probe_name(i),
			       caps.refusal[i]);
	}
	printf("l7 mode:       %s\n", l7_kfunc_mode(&caps) ?
	       "kfunc (HTTP parsing and routing in the kmesh module)" :
	       "fallback (HTTP parsing in eBPF; kfuncs not callable from sk_msg/sockops/connect)");
	printf("HTTP/2:        %s\n", h2_per_stream(&caps) ?
	       "per-stream (routed, authorized and counted per stream in the kmesh module)" :
	       "L4 only (fallback): detected by its preface, carried at L4; refused with GOAWAY where the policy needs each request, unless failure_mode_allow");
	l4_status_print();
	l7_status_print();
	cp_status_print();
	inbound_status_print();
	return 0;
}
