// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "caps.h"
#include "kmesh_dev.h"
#include "kmesh_kfunc.h"
#include "kfunc_probe.skel.h"

const char *kmesh_module_sysfs = "/sys/module/kmesh";

static const char *const probe_names[KMESH_PROBE_COUNT] = {
	[KMESH_PROBE_SK_MSG] = "sk_msg",
	[KMESH_PROBE_SOCKOPS] = "sockops",
	[KMESH_PROBE_CONNECT4] = "cgroup/connect4",
	[KMESH_PROBE_TC] = "tc",
	[KMESH_PROBE_SYSCALL] = "syscall",
};

static const struct {
	const char *name;
	unsigned int bit;
} hook_names[] = {
	{ "common", KMESH_HOOK_COMMON },
	{ "syscall", KMESH_HOOK_SYSCALL },
	{ "sched_cls", KMESH_HOOK_SCHED_CLS },
};

const char *kmesh_probe_name(enum kmesh_probe probe)
{
	return probe < KMESH_PROBE_COUNT ? probe_names[probe] : "?";
}

/* Parse the module's caps/kfunc_hooks line ("common syscall sched_cls"). */
int kmesh_parse_hooks(const char *text, unsigned int *hooks)
{
	unsigned int mask = 0;
	const char *p = text;

	for (;;) {
		size_t len, i;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		len = strcspn(p, " \t\n");
		for (i = 0; i < sizeof(hook_names) / sizeof(hook_names[0]); i++) {
			if (strlen(hook_names[i].name) == len &&
			    !strncmp(p, hook_names[i].name, len))
				break;
		}
		if (i == sizeof(hook_names) / sizeof(hook_names[0]))
			return -EINVAL;
		mask |= hook_names[i].bit;
		p += len;
	}
	*hooks = mask;
	return 0;
}

static int read_sysfs_line(const char *rel, char *buf, size_t size)
{
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", kmesh_module_sysfs, rel);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fgets(buf, (int)size, f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/*
 * The verifier explains a refusal in its log; keep the line that says why
 * so `kmeshctl status` can show it instead of a bare errno.
 */
static char *probe_refusal;
static size_t probe_refusal_size;

static const char *const refusal_markers[] = {
	"is not allowed",		/* kfunc not registered for this type */
	"not found in kernel",		/* module gone or without BTF */
};

/* libbpf hands over the whole verifier log in one message: find the line. */
static int probe_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	static char msg[16384];
	const char *hit = NULL, *start;
	size_t i, len;

	(void)level;
	if (!probe_refusal || probe_refusal[0])
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (i = 0; i < sizeof(refusal_markers) / sizeof(refusal_markers[0]) && !hit; i++)
		hit = strstr(msg, refusal_markers[i]);
	if (!hit)
		return 0;
	for (start = hit; start > msg && start[-1] != '\n'; start--)
		;
	len = strcspn(start, "\n");
	snprintf(probe_refusal, probe_refusal_size, "%.*s", (int)len, start);
	return 0;
}

static struct bpf_program *probe_prog(struct kfunc_probe_bpf *skel,
				      enum kmesh_probe probe)
{
	switch (probe) {
	case KMESH_PROBE_SK_MSG:
		return skel->progs.probe_sk_msg;
	case KMESH_PROBE_SOCKOPS:
		return skel->progs.probe_sockops;
	case KMESH_PROBE_CONNECT4:
		return skel->progs.probe_connect4;
	case KMESH_PROBE_TC:
		return skel->progs.probe_tc;
	default:
		return skel->progs.probe_syscall;
	}
}

static bool probe_one(enum kmesh_probe probe, char *why, size_t why_size)
{
	struct kfunc_probe_bpf *skel;
	struct bpf_program *prog;
	libbpf_print_fn_t old;
	int err;

	skel = kfunc_probe_bpf__open();
	if (!skel) {
		snprintf(why, why_size, "cannot open probe: %s", strerror(errno));
		return false;
	}
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, prog == probe_prog(skel, probe));

	why[0] = '\0';
	probe_refusal = why;
	probe_refusal_size = why_size;
	old = libbpf_set_print(probe_print);
	err = kfunc_probe_bpf__load(skel);
	libbpf_set_print(old);
	probe_refusal = NULL;
	if (err && !why[0])
		snprintf(why, why_size, "probe load failed: %s", strerror(-err));
	kfunc_probe_bpf__destroy(skel);
	return !err;
}

static unsigned int read_sysfs_uint(const char *rel)
{
	unsigned int v = 0;
	char line[32];

	if (!read_sysfs_line(rel, line, sizeof(line)))
		sscanf(line, "%u", &v);
	return v;
}

/*
 * The module's interfaces must be the ones this kmeshctl speaks: a kfunc
 * struct of another layout would be read with the wrong offsets, a route
 * table of another format refused table by table. Caught here, once, with
 * what to do about it. A module too old to report a version reports 0.
 */
static void abi_check(unsigned int kfunc_abi, unsigned int dev_abi,
		      const char *module_version, char *err, size_t err_size)
{
	err[0] = '\0';
	if (kfunc_abi == KMESH_KFUNC_ABI_VERSION &&
	    dev_abi == KMESH_DEV_ABI_VERSION)
		return;
	snprintf(err, err_size,
		 "kmesh module %s speaks kfunc ABI %u and device ABI %u, this kmeshctl %u and %u: install the module and kmeshctl of one release (make dkms-install && make install), then reload the module",
		 module_version[0] ? module_version : "(version unknown)",
		 kfunc_abi, dev_abi, KMESH_KFUNC_ABI_VERSION,
		 KMESH_DEV_ABI_VERSION);
}

/* 0 when the module is absent or speaks our ABI, else -1 and why in @err. */
bool kmesh_module_present(void)
{
	char line[64];

	return !read_sysfs_line("caps/kfunc_hooks", line, sizeof(line));
}

int kmesh_module_abi_check(char *err, size_t err_size)
{
	char version[32] = "", line[32];

	if (read_sysfs_line("caps/kfunc_hooks", line, sizeof(line)))
		return 0;
	read_sysfs_line("version", version, sizeof(version));
	abi_check(read_sysfs_uint("caps/kfunc_abi_version"),
		  read_sysfs_uint("caps/dev_abi_version"), version, err,
		  err_size);
	return err[0] ? -1 : 0;
}

int kmesh_caps_detect(struct kmesh_node_caps *caps)
{
	struct utsname uts;
	char line[128];
	int i;

	memset(caps, 0, sizeof(*caps));
	if (!uname(&uts))
		snprintf(caps->kernel, sizeof(caps->kernel), "%s", uts.release);

	caps->module_loaded = !read_sysfs_line("caps/kfunc_hooks", line,
					       sizeof(line));
	if (caps->module_loaded) {
		if (kmesh_parse_hooks(line, &caps->hooks))
			fprintf(stderr, "kmeshctl: unknown kfunc hook in \"%s\"\n", line);
		caps->kfunc_abi_version = read_sysfs_uint("caps/kfunc_abi_version");
		caps->dev_abi_version = read_sysfs_uint("caps/dev_abi_version");
		read_sysfs_line("version", caps->module_version,
				sizeof(caps->module_version));
		abi_check(caps->kfunc_abi_version, caps->dev_abi_version,
			  caps->module_version, caps->abi_mismatch,
			  sizeof(caps->abi_mismatch));
	}

	for (i = 0; i < KMESH_PROBE_COUNT; i++) {
		if (!caps->module_loaded) {
			snprintf(caps->refusal[i], sizeof(caps->refusal[i]),
				 "kmesh module not loaded");
			continue;
		}
		/* Never kfunc mode with a module of another ABI. */
		if (caps->abi_mismatch[0]) {
			snprintf(caps->refusal[i], sizeof(caps->refusal[i]),
				 "kmesh module of another ABI (see above)");
			continue;
		}
		caps->kfunc_callable[i] = probe_one(i, caps->refusal[i],
						    sizeof(caps->refusal[i]));
	}
	return 0;
}
