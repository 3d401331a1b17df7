/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KMESHCTL_H
#define KMESHCTL_H

int cmd_status(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
/* The L4 part of `status`. */
void l4_status_print(void);

/* The L7 per-request plane (l7.c): status, stats, request log. */
#include <stdbool.h>
#include <linux/types.h>
struct ring_buffer;
void l7_status_print(void);
void l7_stats_print(bool prometheus);
int l7_log_add(struct ring_buffer *rb, bool json, __s64 mono_to_real,
	       long *count, long max);
void l7_log_done(void);

/* The destination's check (inbound.c). */
void inbound_status_print(void);
void inbound_stats_print(bool prometheus);

#endif /* KMESHCTL_H */
