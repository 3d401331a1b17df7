// SPDX-License-Identifier: GPL-2.0-only
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

static int tap_count, tap_passed, tap_failed, tap_skipped;
static bool in_test, test_failed, test_skipped;
static char test_name[256], test_reason[256];

void tap_header(void)
{
	printf("TAP version 13\n");
	fflush(stdout);
}

void tap_begin(const char *fmt, ...)
{
	va_list ap;

	if (in_test)
		tap_end();
	va_start(ap, fmt);
	vsnprintf(test_name, sizeof(test_name), fmt, ap);
	va_end(ap);
	in_test = true;
	test_failed = test_skipped = false;
	test_reason[0] = '\0';
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

bool tap_check(bool cond, const char *file, int line, const char *fmt, ...)
{
	char msg[sizeof(test_reason)];
	va_list ap;

	if (cond)
		return true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tap_diag("%s:%d: %s", file, line, msg);
	if (!test_failed)
		snprintf(test_reason, sizeof(test_reason), "%s", msg);
	test_failed = true;
	return false;
}

/* Has the current test failed so far? Lets a test add context once. */
bool tap_failed_now(void)
{
	return test_failed;
}

void tap_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(test_reason, sizeof(test_reason), fmt, ap);
	va_end(ap);
	test_skipped = true;
}

void tap_end(void)
{
	if (!in_test)
		return;
	in_test = false;
	tap_count++;
	if (test_failed) {
		tap_failed++;
		printf("not ok %d - %s # %s\n", tap_count, test_name, test_reason);
	} else if (test_skipped) {
		tap_skipped++;
		printf("ok %d - %s # SKIP %s\n", tap_count, test_name, test_reason);
	} else {
		tap_passed++;
		printf("ok %d - %s\n", tap_count, test_name);
	}
	fflush(stdout);
}

int tap_finish(void)
{
	tap_end();
	printf("1..%d\n", tap_count);
	printf("%d passed, %d failed, %d skipped\n",
	       tap_passed, tap_failed, tap_skipped);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}
