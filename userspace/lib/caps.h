/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What this node can do: is the module loaded, which kfunc hooks did it
 * register, and from which program types are its kfuncs really callable
 * (decided by loading a tiny probe program for each).
 */
#ifndef KMESH_CAPS_H
#define KMESH_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/utsname.h>

enum kmesh_probe {
	KMESH_PROBE_SK_MSG,
	KMESH_PROBE_SOCKOPS,
	KMESH_PROBE_CONNECT4,
	KMESH_PROBE_TC,
	KMESH_PROBE_SYSCALL,
	KMESH_PROBE_COUNT,
};

struct kmesh_node_caps {
	char kernel[sizeof(((struct utsname *)0)->release)];
	bool module_loaded;
	char module_version[32];
	unsigned int kfunc_abi_version;		/* the module's, 0: unknown */
	unsigned int dev_abi_version;
	char abi_mismatch[256];			/* why kmeshctl refuses the module, "" */
	unsigned int hooks;			/* KMESH_HOOK_* from sysfs */
	bool kfunc_callable[KMESH_PROBE_COUNT];
	char refusal[KMESH_PROBE_COUNT][160];	/* why a probe failed */
};

/* Default: /sys/module/kmesh; tests point it elsewhere. */
extern const char *kmesh_module_sysfs;

const char *kmesh_probe_name(enum kmesh_probe probe);
int kmesh_parse_hooks(const char *text, unsigned int *hooks);
int kmesh_caps_detect(struct kmesh_node_caps *caps);
int kmesh_module_abi_check(char *err, size_t err_size);
/* Is the kmesh module loaded (its sysfs caps/ there)? */
bool kmesh_module_present(void);

#endif /* KMESH_CAPS_H */
