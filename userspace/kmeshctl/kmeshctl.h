/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KMESHCTL_H
#define KMESHCTL_H

#include <stdbool.h>

int cmd_status(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_validate(int argc, char **argv);
/* CAP_NET_ADMIN in the effective set (main.c). */
bool has_net_admin(void);
/* The L4 part of `status`. */
void l4_status_print(void);
/* The control-plane part (cp_status.c): what kmesh-agent reports. */
void cp_status_print(void);

/* The L7 per-request plane (l7.c): status, stats, request log. */
#include <stdbool.h>
#include <stddef.h>
/* The agent's counters in `stats --prometheus` (cp_status.c). */
void cp_stats_print(bool prometheus);
#include <linux/types.h>
struct ring_buffer;
void l7_status_print(void);
void l7_stats_print(bool prometheus);
int l7_log_add(struct ring_buffer *rb, bool json, __s64 mono_to_real,
	       long *count, long max);
void l7_log_done(void);

/* validate.c: the pipeline's read and model stages on @files, and with
 * @compile its compile stage without the kernel (no privilege), with
 * @opts for what the input does not say (the node's locality); print
 * the result (@explain) and, for @mode "fallback", a line per route that
 * mode does not enforce (errors with @strict). 0, or 1 after printing the
 * error; *@cfg is the model on 0. */
struct mesh_config;
struct mesh_input_opts;
int check_inputs(const char *const *files, size_t nr_files,
		 const struct mesh_input_opts *opts, bool explain,
		 const char *mode, bool strict, bool compile,
		 struct mesh_config *cfg);
/* The destination's check (inbound.c). */
void inbound_status_print(void);
void inbound_stats_print(bool prometheus);

#endif /* KMESHCTL_H */
