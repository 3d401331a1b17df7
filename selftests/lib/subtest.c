// SPDX-License-Identifier: GPL-2.0-only
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "subtest.h"

#define MAX_FILTERS	32

static struct {
	const char *pattern;
	bool matched;
} filters[MAX_FILTERS];
static int nr_filters;
static bool reverse;

void subtest_filter_add(const char *pattern)
{
	if (nr_filters < MAX_FILTERS)
		filters[nr_filters++].pattern = pattern;
	else
		fprintf(stderr, "too many -t filters; '%s' ignored\n", pattern);
}

void subtest_order_reverse(void)
{
	reverse = true;
}

/* @pattern's area part (before any '/') against @area. */
static bool area_matches(const char *pattern, const char *area)
{
	char a[64];
	size_t n = strcspn(pattern, "/");

	if (n >= sizeof(a))
		return false;
	memcpy(a, pattern, n);
	a[n] = '\0';
	return !fnmatch(a, area, 0);
}

bool area_selected(const char *area)
{
	bool any = !nr_filters;
	int i;

	for (i = 0; i < nr_filters; i++) {
		if (!area_matches(filters[i].pattern, area))
			continue;
		any = true;
		if (!strchr(filters[i].pattern, '/'))
			filters[i].matched = true;
	}
	return any;
}

bool subtest_selected(const char *area, const char *name)
{
	const char *sub;
	bool any = !nr_filters;
	int i;

	for (i = 0; i < nr_filters; i++) {
		if (!area_matches(filters[i].pattern, area))
			continue;
		sub = strchr(filters[i].pattern, '/');
		if (!sub || !fnmatch(sub + 1, name, 0)) {
			filters[i].matched = true;
			any = true;
		}
	}
	return any;
}

const char *subtest_filter_unmatched(void)
{
	int i;

	for (i = 0; i < nr_filters; i++)
		if (!filters[i].matched)
			return filters[i].pattern;
	return NULL;
}

void run_subtests(const char *area, const struct subtest *t, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		i = reverse ? n - 1 - k : k;
		if (subtest_selected(area, t[i].name))
			t[i].run();
	}
}
