/* SPDX-License-Identifier: GPL-2.0-only */
/* One entry point per area; each file in prog_tests/ defines one. */
#ifndef KMESH_PROG_TESTS_H
#define KMESH_PROG_TESTS_H

void test_module(void);
void test_btf(void);
void test_kfunc(void);
void test_http(void);
void test_h2(void);
void test_h2kf(void);
void test_conformance(void);	/* selftests/conformance/ */
void test_routes(void);
void test_route_policy(void);	/* selftests/conformance/route_conformance.c */
void test_priv(void);
void test_kmeshctl(void);
void test_l4(void);
void test_l7(void);
void test_inbound(void);
void test_resp(void);
void test_h2l4(void);	/* HTTP/2 where kmesh reads no HTTP/2: L4 or refused */
void test_defer(void);
void test_load(void);
void test_faults(void);
void test_unload(void);

#endif
