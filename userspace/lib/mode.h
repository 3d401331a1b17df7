/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The data plane's mode: kfunc (its programs call the module's kfuncs) or
 * fallback (everything in eBPF). `up` decides it once, here, and loads the
 * program variants it names (l4_bpf.c); every later command reads it back
 * from the pinned sk_msg program, so no process keeps it in memory.
 */
#ifndef KMESH_MODE_H
#define KMESH_MODE_H

#include <stdbool.h>

/* The sk_msg program's name (its pin under progs/) and its kfunc variant's. */
#define KMESH_SK_MSG_PROG	"kmesh_sk_msg"
#define KMESH_SK_MSG_KFUNC_PROG	"kmesh_sk_msg_l7"

struct kmesh_mode {
	/* connect programs route HTTP services on their first request
	 * (bpf/include/defer.h); KMESH_L7_CONNECT=0 keeps the plain ones */
	bool kfunc_connect;
	/* sk_msg parses, routes and scans chunks with the module's kfuncs;
	 * KMESH_L7_MSG=0 forces the eBPF fallback */
	bool kfunc_msg;
};

/* For `up`: where the probes (caps.h) say kfuncs are callable from that
 * program type, unless the environment says no. */
void kmesh_mode_decide(struct kmesh_mode *m);

/* "kfunc" or "fallback", from the pinned sk_msg program; NULL when kmesh
 * is not up. */
const char *kmesh_mode_running(void);

#endif /* KMESH_MODE_H */
