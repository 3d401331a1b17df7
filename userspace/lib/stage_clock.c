// SPDX-License-Identifier: GPL-2.0-only
/* Stage marks of an apply (stage_clock.h). */
#include <stdio.h>

#include "stage_clock.h"

static struct timespec start;
static double mark[STAGE_NR];	/* ms since start; < 0: not marked */

static const char *const names[STAGE_NR] = {
	[STAGE_DECODE] = "decode",
	[STAGE_MODEL] = "model",
	[STAGE_LOCK] = "lock",
	[STAGE_L4_BUILD] = "l4_build",
	[STAGE_L7_COMPILE] = "l7_compile",
	[STAGE_L7_MAPS] = "l7_maps",
	[STAGE_L4_MAPS] = "l4_maps",
	[STAGE_REGISTRY] = "registry",
	[STAGE_SWITCH] = "switch",
};

const char *stage_name(enum stage s)
{
	return s < STAGE_NR ? names[s] : "?";
}

void stage_clock_start(const struct timespec *t0)
{
	int s;

	if (t0)
		start = *t0;
	else
		clock_gettime(CLOCK_MONOTONIC, &start);
	for (s = 0; s < STAGE_NR; s++)
		mark[s] = -1;
}

double stage_clock_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start.tv_nsec) / 1e6;
}

void stage_mark(enum stage s)
{
	if (s < STAGE_NR)
		mark[s] = stage_clock_ms();
}

const char *stage_clock_format(char *buf, size_t size)
{
	double prev = 0;
	size_t off = 0;
	int s, n;

	buf[0] = 0;
	for (s = 0; s < STAGE_NR; s++) {
		if (mark[s] < 0)
			n = snprintf(buf + off, size - off, "%s%s -", s ? " " : "", names[s]);
		else
			n = snprintf(buf + off, size - off, "%s%s %.2f", s ? " " : "", names[s],
				     mark[s] - prev);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += n;
		if (mark[s] >= 0)
			prev = mark[s];
	}
	return buf;
}
