// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tap.h"

#include "l4_bpf.h"
#include "util.h"

int run_cmd(char *out, size_t out_size, const char *fmt, ...)
{
	char cmd[1024];
	size_t used = 0;
	va_list ap;
	FILE *p;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);

	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out && out_size) {
		size_t n;

		while (used + 1 < out_size &&
		       (n = fread(out + used, 1, out_size - used - 1, p)) > 0)
			used += n;
		out[used] = '\0';
	}
	/* Drain what did not fit so the child never blocks on a full pipe. */
	while (fgetc(p) != EOF)
		;
	status = pclose(p);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

const char *vm_lane(void)
{
	return getenv("KMESH_LANE");
}

bool kfunc_common_hook(void)
{
	char hooks[128];

	return !read_text("/sys/module/kmesh/caps/kfunc_hooks", hooks, sizeof(hooks)) &&
	       !strncmp(hooks, "common", 6) && (!hooks[6] || hooks[6] == ' ');
}

static char bpf_log[16384];
static size_t bpf_log_len;
static libbpf_print_fn_t bpf_log_prev;

static int bpf_log_print(enum libbpf_print_level level, const char *fmt,
			 va_list ap)
{
	int n;

	(void)level;
	n = vsnprintf(bpf_log + bpf_log_len, sizeof(bpf_log) - bpf_log_len,
		      fmt, ap);
	if (n > 0)
		bpf_log_len += (size_t)n;
	if (bpf_log_len >= sizeof(bpf_log))
		bpf_log_len = sizeof(bpf_log) - 1;
	return 0;
}

void bpf_log_capture_begin(void)
{
	bpf_log[0] = '\0';
	bpf_log_len = 0;
	bpf_log_prev = libbpf_set_print(bpf_log_print);
}

const char *bpf_log_capture_end(void)
{
	libbpf_set_print(bpf_log_prev);
	return bpf_log;
}

int skel_load_logged(struct bpf_object_skeleton *s, const char *extra_prog)
{
	struct bpf_program *p;
	const char *log;
	int err;

	if (extra_prog)
		bpf_object__for_each_program(p, *s->obj)
			if (!strcmp(bpf_program__name(p), extra_prog))
				bpf_program__set_autoload(p, true);
	bpf_log_capture_begin();
	err = bpf_object__load_skeleton(s);
	log = bpf_log_capture_end();
	if (err)
		tap_diag("load failed:\n%s", log);
	return err;
}

bool kmesh_loaded(void)
{
	return path_exists("/sys/module/kmesh");
}

long kmesh_refcnt(void)
{
	char text[32];

	if (read_text("/sys/module/kmesh/refcnt", text, sizeof(text)))
		return -1;
	return strtol(text, NULL, 10);
}

int kmesh_unload_once(void)
{
	return syscall(SYS_delete_module, "kmesh", O_NONBLOCK) ? -errno : 0;
}

int kmesh_modprobe(const char *params)
{
	return run_cmd(NULL, 0, "modprobe kmesh %s", params ? params : "");
}

int kmesh_rmmod(void)
{
	int i, rc = 0;

	/* Programs calling our kfuncs pin the module until their deferred
	 * free runs; give that a moment before calling it a failure. */
	for (i = 0; i < 50 && kmesh_loaded(); i++) {
		rc = run_cmd(NULL, 0, "rmmod kmesh");
		if (!rc)
			break;
		usleep(100 * 1000);
	}
	return kmesh_loaded() ? (rc ? rc : -1) : 0;
}

int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

int join_cgroup(const char *path)
{
	char file[1100], pid[32];
	int fd, n;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	fd = open(file, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(pid, sizeof(pid), "%d", getpid());
	n = write(fd, pid, (size_t)n) == n ? 0 : -1;
	close(fd);
	return n;
}

int cgroup_home(char *root, size_t root_size, char *home, size_t home_size)
{
	char line[256];
	FILE *f;

	if (l4_default_cgroup(root, root_size))
		return -1;
	f = fopen("/proc/self/cgroup", "r");
	if (!f)
		return -1;
	home[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(home, home_size, "%s%s", root,
			 strcmp(line + 3, "/") ? line + 3 : "");
	}
	fclose(f);
	return home[0] ? 0 : -1;
}
