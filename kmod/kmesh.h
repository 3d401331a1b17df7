/* SPDX-License-Identifier: GPL-2.0-only */
/* Declarations shared by the module's own files (not part of the ABI). */
#ifndef KMESH_H
#define KMESH_H

#include <linux/types.h>

#include "kmesh_kfunc.h"
#include "kmesh_dev.h"

/* Module parameters; read with READ_ONCE(), they may change at runtime. */
extern unsigned int kmesh_max_head_bytes;
extern unsigned int kmesh_max_headers;
extern unsigned int kmesh_max_tables;
extern unsigned int kmesh_max_table_kbytes;
extern unsigned int kmesh_connect_failover;

/* KMESH_HOOK_* bits for the program types our kfunc set is callable from. */
extern u32 kmesh_kfunc_hooks;

int kmesh_kfuncs_register(void);

/* Accepted sockets of the inbound check (inbound.c). */
void kmesh_inbound_init(void);

/* A kmesh_route_match() error as a kfunc returns it: out of the errno range. */
static inline int kmesh_kfunc_route_ret(int err)
{
	return err < 0 ? KMESH_KFUNC_ROUTE_ERR(-err) : err;
}

/* HTTP/2 (h2.c): each CPU's parser memory for bpf_kmesh_h2_parse() */
int kmesh_h2_init_scratch(void);
void kmesh_h2_free_scratch(void);
void *kmesh_h2_scratch_get(u32 *len);
void kmesh_h2_scratch_put(void);
/* HTTP/2 per connection (h2_conn.c): limits fixed at load, state freed */
int kmesh_h2_conn_init(void);
void kmesh_h2_conn_exit(void);
u32 kmesh_h2_conn_scratch_size(void);

int kmesh_tables_init(void);
void kmesh_tables_exit(void);
const void *kmesh_table_get(u32 id, u32 *len);
ssize_t kmesh_kfunc_hooks_show(char *buf);

#endif /* KMESH_H */
