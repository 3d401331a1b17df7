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

#endif /* KMESHCTL_H */
