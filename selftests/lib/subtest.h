/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Areas and their subtests, selected like test_progs -t: "AREA" runs a
 * whole area, "AREA/SUBTEST" one subtest of it (shell patterns allowed:
 * "l7/split*"). An area runs its subtests through run_subtests(), which
 * skips the ones not selected; each subtest sets up what it needs, so any
 * selection, in any order, means the same. An area without a subtest
 * table runs whole when its name is selected.
 */
#ifndef KMESH_SUBTEST_H
#define KMESH_SUBTEST_H

#include <stdbool.h>
#include <stddef.h>

struct subtest {
	const char *name;	/* what -t AREA/NAME selects */
	void (*run)(void);
};

/* Add a -t pattern ("AREA" or "AREA/SUBTEST"); several may be given. */
void subtest_filter_add(const char *pattern);
/* Is anything of @area selected? */
bool area_selected(const char *area);
/* Is @area/@name selected? */
bool subtest_selected(const char *area, const char *name);
/* Run the selected subtests of @area in order (reversed with
 * subtest_order_reverse: a check that none depends on another). */
void run_subtests(const char *area, const struct subtest *t, size_t n);
void subtest_order_reverse(void);
/* The first -t pattern that selected nothing (a typo must not pass as an
 * empty run), or NULL. */
const char *subtest_filter_unmatched(void);

#define SUBTEST(fn)	{ #fn, test_##fn }
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

#endif
