/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KMESHCTL_H
#define KMESHCTL_H

int cmd_status(int argc, char **argv);

#endif /* KMESHCTL_H */
