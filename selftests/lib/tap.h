/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal kselftest-style TAP reporting shared by the VM selftests and the
 * host unit tests:
 *
 *	tap_begin("parser: rejects bare CR");
 *	EXPECT_EQ(rc, KMESH_HTTP_E_BARE_CR);
 *	tap_end();
 *	...
 *	return tap_finish();	// trailing plan + "N passed, M failed"
 *
 * A test fails when any EXPECT in it fails; the first failure becomes the
 * "# reason" of its "not ok" line, every failure is printed as a diagnostic.
 */
#ifndef KMESH_TAP_H
#define KMESH_TAP_H

#include <stdbool.h>

void tap_header(void);
void tap_begin(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_end(void);
int tap_finish(void);
bool tap_check(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
bool tap_failed_now(void);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define EXPECT(cond) \
	tap_check(!!(cond), __FILE__, __LINE__, "expected %s", #cond)

#define EXPECT_EQ(got, want) ({						\
	long long __g = (long long)(got), __w = (long long)(want);	\
	tap_check(__g == __w, __FILE__, __LINE__,			\
		  "%s: got %lld, want %lld", #got, __g, __w);		\
})

#define EXPECT_STR_EQ(got, want) ({					\
	const char *__g = (got), *__w = (want);				\
	tap_check(__g && __w && !strcmp(__g, __w), __FILE__, __LINE__,	\
		  "%s: got \"%s\", want \"%s\"", #got,			\
		  __g ? __g : "(null)", __w ? __w : "(null)");		\
})

#endif /* KMESH_TAP_H */
