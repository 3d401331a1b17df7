// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control-plane part of `kmeshctl status`: what kmesh-agent last wrote
 * about its xDS server (userspace/lib/agent_status.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_status.h"
#include "kmeshctl.h"

static void when(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

void cp_status_print(void)
{
	const char *path = agent_status_path();
	char line[2048], server[512] = "?", node[512] = "?", state[32] = "?", t1[64];
	long long since = 0;
	unsigned long applied = 0, rejected = 0;
	unsigned long long gen = 0;
	int pid = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		printf("control plane: none (%s: %s; no kmesh-agent has run: the config comes from kmeshctl apply)\n",
		       path, strerror(errno));
		return;
	}
	/* Two passes: the header lines first, then ACKs and the NACK. */
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "server %511s", server) == 1 ||
		    sscanf(line, "node %511s", node) == 1 ||
		    sscanf(line, "state %31s %lld", state, &since) == 2 ||
		    sscanf(line, "counts %lu %lu %llu", &applied, &rejected, &gen) == 3 ||
		    sscanf(line, "pid %d", &pid) == 1)
			continue;
	}
	when(since, t1, sizeof(t1));
	printf("control plane: xDS server %s, %s since %s (kmesh-agent pid %d%s)\n",
	       server, state, t1, pid,
	       pid > 0 && (kill(pid, 0) == 0 || errno == EPERM) ? "" : ", not running");
	printf("  node %s; updates applied %lu, rejected %lu; last generation applied %llu\n",
	       node, applied, rejected, gen);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char type[64], version[512], nonce[512];
		long long at;
		unsigned long na;
		int off = 0;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "notapplicable %lu %n", &na, &off) == 1 && off > 0) {
			printf("  not applicable in the applied config: %lu (accepted, no effect; the first: %s)\n",
			       na, line + off);
		} else if (sscanf(line, "ack %63s %511s %511s", type, version, nonce) == 3) {
			printf("  ACKed %-22s version %s nonce %s\n", type, version, nonce);
		} else if (sscanf(line, "nack %63s %511s %lld %n", type, version, &at, &off) == 3 &&
			   off > 0) {
			when(at, t1, sizeof(t1));
			printf("  last NACK: %s version %s at %s: %s\n", type, version, t1,
			       line + off);
		}
	}
	fclose(f);
}

/*
 * The agent's counters for Prometheus (`kmeshctl stats --prometheus`, so
 * `kmeshctl metrics` too); nothing without an agent status file.
 */
void cp_stats_print(bool prometheus)
{
	char line[1024], type[64], state[32] = "";
	unsigned long applied, accepted, rejected, switches = 0;
	double sum_ms = 0, last_ms = 0;
	long long since;
	bool head = false;
	FILE *f;

	if (!prometheus)
		return;
	f = fopen(agent_status_path(), "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "state %31s %lld", state, &since) == 2 ||
		    sscanf(line, "switch %lu %lf %lf", &switches, &sum_ms, &last_ms) == 3)
			continue;
		if (sscanf(line, "updates %63s %lu %lu %lu", type, &applied, &accepted,
			   &rejected) != 4)
			continue;
		if (!head) {
			printf("# HELP kmesh_xds_updates_total xDS responses kmesh-agent handled, by resource type and result: applied (switched to), accepted (ACKed, waiting for resources it refers to), rejected (NACKed).\n"
			       "# TYPE kmesh_xds_updates_total counter\n");
			head = true;
		}
		printf("kmesh_xds_updates_total{type=\"%s\",result=\"applied\"} %lu\n", type, applied);
		printf("kmesh_xds_updates_total{type=\"%s\",result=\"accepted\"} %lu\n", type, accepted);
		printf("kmesh_xds_updates_total{type=\"%s\",result=\"rejected\"} %lu\n", type, rejected);
	}
	fclose(f);
	if (!head)
		return;
	printf("# HELP kmesh_xds_switch_seconds_total Time from an xDS response's receipt to the kmesh generation switched, summed over applied responses (divide by kmesh_xds_switches_total for the mean).\n"
	       "# TYPE kmesh_xds_switch_seconds_total counter\n"
	       "kmesh_xds_switch_seconds_total %.6f\n"
	       "# HELP kmesh_xds_switches_total Generations kmesh-agent switched to.\n"
	       "# TYPE kmesh_xds_switches_total counter\n"
	       "kmesh_xds_switches_total %lu\n", sum_ms / 1e3, switches);
	printf("# HELP kmesh_xds_last_switch_seconds The last applied response's receipt-to-switch time.\n"
	       "# TYPE kmesh_xds_last_switch_seconds gauge\n"
	       "kmesh_xds_last_switch_seconds %.6f\n", last_ms / 1e3);
	printf("# HELP kmesh_xds_connected 1 while kmesh-agent's stream to its xDS server has delivered a response.\n"
	       "# TYPE kmesh_xds_connected gauge\n"
	       "kmesh_xds_connected %d\n", !strcmp(state, "connected"));
}
