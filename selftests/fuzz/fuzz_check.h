/* SPDX-License-Identifier: GPL-2.0-only */
/* The fuzzers' invariant check: a failed one aborts, which libFuzzer
 * reports as a crash and saves the input for. */
#ifndef KMESH_FUZZ_CHECK_H
#define KMESH_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "invariant failed: %s (%s:%d)\n",	\
			#cond, __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

#endif
