// SPDX-License-Identifier: GPL-2.0-only
/*
 * routemem: kernel memory of N HTTP routes in the kmesh module's route
 * tables (/dev/kmesh, needs the module). Builds the tables the way
 * kmeshctl will (userspace/lib/route_build.h): tables of up to 250 routes,
 * one virtual host each ("svcK.bench"), every route a path prefix
 * "/rI/" plus, for one route in four, a header condition, sent to cluster
 * I % 1000; loads them, reads KMESH_IOC_TABLE_INFO, removes them.
 *
 *   routemem N   -> routes=N tables=T bytes=B load_ms=M
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "route_build.h"
#include "route_tables.h"

#define PER_TABLE	250
#define FIRST_TABLE	9000	/* ids well away from anything kmeshctl uses */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct kmesh_table_info before = {}, after = {};
	int n, t, tables, fd, rc = 0, ferr = 0;
	double t0, load_ms;

	if (argc != 2 || (n = atoi(argv[1])) < 1 || n > 100000) {
		fprintf(stderr, "usage: routemem N (1..100000)\n");
		return 2;
	}
	fd = kmesh_dev_open();
	if (fd < 0) {
		fprintf(stderr, "routemem: /dev/kmesh: %s\n", strerror(-fd));
		return 1;
	}
	tables = (n + PER_TABLE - 1) / PER_TABLE;
	kmesh_table_info(fd, &before);
	t0 = now_ms();
	for (t = 0; t < tables && !rc; t++) {
		struct kmesh_rtb *b = kmesh_rtb_new((__u32)(FIRST_TABLE + t));
		int i, lo = t * PER_TABLE, hi = lo + PER_TABLE < n ? lo + PER_TABLE : n;
		char host[64], path[64];
		void *blob = NULL;
		__u32 len = 0;

		if (!b)
			return 1;
		snprintf(host, sizeof(host), "svc%d.bench", t);
		kmesh_rtb_host(b, host);
		for (i = lo; i < hi; i++) {
			kmesh_rtb_route(b, (__u32)i + 1);
			snprintf(path, sizeof(path), "/r%d/", i);
			kmesh_rtb_path_prefix(b, path, true);
			if (i % 4 == 0)
				kmesh_rtb_header(b, KMESH_RT_M_HEADER_EXACT, "x-canary", "1");
			kmesh_rtb_cluster(b, (__u32)(i % 1000) + 1, 1);
		}
		kmesh_rtb_default_route(b, (__u32)n + 1);
		kmesh_rtb_cluster(b, 1, 1);
		if (kmesh_rtb_finish(b, &blob, &len)) {
			fprintf(stderr, "routemem: build: %s\n", kmesh_rtb_error(b));
			rc = 1;
		} else if ((ferr = kmesh_table_set(fd, (__u32)(FIRST_TABLE + t), blob,
						   len, &rc))) {
			fprintf(stderr, "routemem: table %d: refused: %s (format error %d)\n",
				t, strerror(-ferr), rc);
			rc = 1;
		}
		free(blob);
		kmesh_rtb_free(b);
	}
	load_ms = now_ms() - t0;
	kmesh_table_info(fd, &after);
	for (t = 0; t < tables; t++)
		kmesh_table_del(fd, (__u32)(FIRST_TABLE + t));
	if (rc)
		return rc;
	printf("routes=%d tables=%d bytes=%llu load_ms=%.2f\n", n, tables,
	       (unsigned long long)(after.bytes - before.bytes), load_ms);
	return 0;
}
