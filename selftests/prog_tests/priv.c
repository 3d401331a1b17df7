// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may change or read the mesh. A forked child gives up privileges and
 * tries: the user nobody (uid/gid 65534, no capabilities), and root
 * without CAP_NET_ADMIN (dropped from the bounding set too, so a kmeshctl
 * it executes cannot get it back). Neither may use /dev/kmesh (not even
 * through a descriptor root opened), nobody may open the pinned maps or
 * run kmeshctl apply, dump or down, and afterwards root finds the
 * generation, the pins and the module's tables as they were.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "kmesh_dev.h"
#include "l4_bpf.h"
#include "route_build.h"
#include "route_tables.h"
#include "tap.h"
#include "tests.h"
#include "util.h"

#define NOBODY_ID	65534
#define MESH_FILE	"/tmp/kmesh-priv.yaml"
#define OTHER_FILE	"/tmp/kmesh-priv-other.yaml"
#define PROBE_TABLE	0x7072000	/* a table of our own, besides kmeshctl's */

enum who {
	NOBODY,
	ROOT_NO_NET_ADMIN,
};

static const char *const who_name[] = {
	[NOBODY] = "nobody",
	[ROOT_NO_NET_ADMIN] = "root without CAP_NET_ADMIN",
};

static const char mesh[] =
	"services:\n"
	"  - name: web\n"
	"    addresses: [10.96.7.10]\n"
	"    ports: [{port: 80, protocol: http}]\n"
	"    cluster: web\n"
	"clusters:\n"
	"  - name: web\n"
	"    endpoints: [{address: 127.0.0.1, port: 18071}]\n"
	"routes:\n"
	"  - service: web\n"
	"    http:\n"
	"      - {match: [{uri: {prefix: /admin}}], deny: {status: 403}}\n"
	"      - route: [{cluster: web}]\n";

/* What an unprivileged apply would switch to, were it allowed. */
static const char other[] =
	"services: []\n"
	"clusters: []\n";

static int drop_privileges(enum who who)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {};
	const __u32 bit = 1U << (CAP_NET_ADMIN % 32);

	if (who == NOBODY)
		return setgroups(0, NULL) || setgid(NOBODY_ID) ||
		       setuid(NOBODY_ID) ? -1 : 0;
	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0) ||
	    syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_NET_ADMIN / 32].effective &= ~bit;
	data[CAP_NET_ADMIN / 32].permitted &= ~bit;
	data[CAP_NET_ADMIN / 32].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

/*
 * Run @fn(@arg) in a child that is @who; its stdout and stderr go to @out.
 * Returns the child's exit status (fn's return value), or -1.
 */
static int run_as(enum who who, char *out, size_t size, int (*fn)(void *),
		  void *arg)
{
	size_t used = 0;
	ssize_t n;
	int pipefd[2], status;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		if (drop_privileges(who)) {
			printf("cannot become %s: %s\n", who_name[who], strerror(errno));
			fflush(NULL);
			_exit(100);
		}
		status = fn(arg);
		fflush(NULL);
		_exit(status);
	}
	close(pipefd[1]);
	while (used + 1 < size && (n = read(pipefd[0], out + used, size - used - 1)) > 0)
		used += (size_t)n;
	out[used] = '\0';
	while (read(pipefd[0], &status, sizeof(status)) > 0)
		;
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* ---- /dev/kmesh ---- */

struct device_try {
	enum who who;
	int root_fd;		/* opened by root before the fork */
	const void *blob;
	__u32 len;
};

/* Every ioctl on @fd must fail with EPERM; 0 if so, else a count. */
static int all_refused(int fd, const struct device_try *t, const char *how)
{
	struct kmesh_table_info info;
	char buf[4096];
	__u32 len = sizeof(buf);
	int ferr, fails = 0, rc;

	rc = kmesh_table_set(fd, PROBE_TABLE + 1, t->blob, t->len, &ferr);
	if (rc != -EPERM && ++fails)
		printf("%s: set gave %d, not -EPERM\n", how, rc);
	rc = kmesh_table_get(fd, PROBE_TABLE, buf, &len);
	if (rc != -EPERM && ++fails)
		printf("%s: get gave %d, not -EPERM\n", how, rc);
	rc = kmesh_table_del(fd, PROBE_TABLE);
	if (rc != -EPERM && ++fails)
		printf("%s: del gave %d, not -EPERM\n", how, rc);
	rc = kmesh_table_info(fd, &info);
	if (rc != -EPERM && ++fails)
		printf("%s: info gave %d, not -EPERM\n", how, rc);
	return fails;
}

static int device_child(void *arg)
{
	const struct device_try *t = arg;
	int fails = all_refused(t->root_fd, t, "root's descriptor"), fd;

	fd = kmesh_dev_open();
	if (t->who == NOBODY) {
		if (fd != -EACCES && ++fails)
			printf("open gave %d, not -EACCES\n", fd);
	} else if (fd < 0) {
		printf("open gave %d: root may open, the module refuses\n", fd);
		fails++;
	} else {
		fails += all_refused(fd, t, "own descriptor");
	}
	if (fd >= 0)
		close(fd);
	return fails;
}

static int probe_blob(void **blob, __u32 *len)
{
	struct kmesh_rtb *b = kmesh_rtb_new(PROBE_TABLE);
	int rc;

	if (!b)
		return -1;
	kmesh_rtb_host(b, "*");
	kmesh_rtb_route(b, 1);
	kmesh_rtb_path_prefix(b, "/", false);
	kmesh_rtb_cluster(b, 1, 1);
	rc = kmesh_rtb_finish(b, blob, len);
	kmesh_rtb_free(b);
	return rc;
}

static void test_device(enum who who)
{
	struct device_try t = { .who = who };
	struct kmesh_table_info before = {}, after = {};
	char out[2048], got[4096];
	__u32 got_len = sizeof(got);
	void *blob = NULL;
	int ferr;

	tap_begin("priv: %s cannot set, get, delete or count route tables", who_name[who]);
	t.root_fd = kmesh_dev_open();
	if (!EXPECT(t.root_fd >= 0) || !EXPECT_EQ(probe_blob(&blob, &t.len), 0))
		goto out;
	t.blob = blob;
	EXPECT_EQ(kmesh_table_set(t.root_fd, PROBE_TABLE, blob, t.len, &ferr), 0);
	EXPECT_EQ(kmesh_table_info(t.root_fd, &before), 0);
	if (!EXPECT_EQ(run_as(who, out, sizeof(out), device_child, &t), 0))
		tap_diag("%s", out);
	/* Nothing changed: our table is there, whole, and no other came. */
	EXPECT_EQ(kmesh_table_info(t.root_fd, &after), 0);
	EXPECT_EQ(after.tables, before.tables);
	EXPECT_EQ(after.bytes, before.bytes);
	EXPECT_EQ(kmesh_table_get(t.root_fd, PROBE_TABLE, got, &got_len), 0);
	EXPECT(got_len == t.len && !memcmp(got, blob, t.len));
	EXPECT_EQ(kmesh_table_del(t.root_fd, PROBE_TABLE), 0);
out:
	free(blob);
	if (t.root_fd >= 0)
		close(t.root_fd);
	tap_end();
}

/* ---- pinned maps and kmeshctl ---- */

struct map_list {
	char path[32][1024];
	int n;
};

static int maps_child(void *arg)
{
	const struct map_list *m = arg;
	int i, fd, fails = 0;

	for (i = 0; i < m->n; i++) {
		fd = bpf_obj_get(m->path[i]);
		if (fd >= 0) {
			printf("%s: opened\n", m->path[i]);
			close(fd);
			fails++;
		} else if (errno != EACCES && errno != EPERM) {
			printf("%s: %s, not a permission error\n", m->path[i],
			       strerror(errno));
			fails++;
		}
	}
	return fails;
}

static int list_maps(struct map_list *m)
{
	char dir[256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/maps", kmesh_pin_dir());
	d = opendir(dir);
	if (!d)
		return -1;
	m->n = 0;
	while ((e = readdir(d)) && m->n < 32)
		if (e->d_name[0] != '.')
			snprintf(m->path[m->n++], sizeof(m->path[0]), "%s/%s",
				 dir, e->d_name);
	closedir(d);
	return m->n ? 0 : -1;
}

static int exec_child(void *arg)
{
	execl("/bin/sh", "sh", "-c", (const char *)arg, (char *)NULL);
	printf("exec /bin/sh: %s\n", strerror(errno));
	return 127;
}

static const char *kmeshctl(void)
{
	return getenv("KMESHCTL") ? getenv("KMESHCTL") : "kmeshctl";
}

/* What root sees: the generation line of `kmeshctl dump`, and the tables. */
struct mesh_state {
	char gen[128];
	struct kmesh_table_info tables;
};

static void snapshot(struct mesh_state *st)
{
	char out[8192], *p, *nl;
	int fd = kmesh_dev_open();

	memset(st, 0, sizeof(*st));
	if (!run_cmd(out, sizeof(out), "%s dump", kmeshctl()) &&
	    (p = strstr(out, "generation "))) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		snprintf(st->gen, sizeof(st->gen), "%s", p);
	}
	if (fd >= 0) {
		kmesh_table_info(fd, &st->tables);
		close(fd);
	}
}

/* The same generation live, the same tables in the module, the pins. */
static void expect_unchanged(const struct mesh_state *before)
{
	struct mesh_state now;

	snapshot(&now);
	EXPECT(before->gen[0]);
	EXPECT_STR_EQ(now.gen, before->gen);
	EXPECT_EQ(now.tables.tables, before->tables.tables);
	EXPECT_EQ(now.tables.bytes, before->tables.bytes);
	EXPECT(path_exists(kmesh_pin_dir()));
}

static bool permission_error(const char *out)
{
	return strstr(out, "Permission denied") || strstr(out, "Operation not permitted") ||
	       strstr(out, "CAP_NET_ADMIN");
}

static void test_kmeshctl_nobody(void)
{
	static const char *const cmds[] = { "apply -f " OTHER_FILE, "dump", "down" };
	struct mesh_state before;
	char cmd[768], out[4096];
	struct map_list maps;
	size_t i;

	tap_begin("priv: nobody cannot open the pinned maps");
	if (!EXPECT_EQ(list_maps(&maps), 0))
		goto out;
	if (!EXPECT_EQ(run_as(NOBODY, out, sizeof(out), maps_child, &maps), 0))
		tap_diag("%s", out);
	tap_diag("%d pinned maps tried", maps.n);
out:
	tap_end();

	snapshot(&before);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		tap_begin("priv: kmeshctl %s as nobody fails with a permission error, changing nothing",
			  cmds[i]);
		snprintf(cmd, sizeof(cmd), "%s %s", kmeshctl(), cmds[i]);
		EXPECT(run_as(NOBODY, out, sizeof(out), exec_child, cmd) != 0);
		EXPECT(permission_error(out));
		tap_diag("kmeshctl said: %s", out);
		expect_unchanged(&before);
		tap_end();
	}
}

/*
 * Root without CAP_NET_ADMIN still opens the pinned maps (they need
 * CAP_BPF or CAP_SYS_ADMIN): kmeshctl itself refuses to change the mesh,
 * whether the config has routes (which the module would refuse too) or
 * only L4 services.
 */
static void test_kmeshctl_no_net_admin(void)
{
	static const char *const cmds[] = { "apply -f " MESH_FILE,
					    "apply -f " OTHER_FILE, "down" };
	struct mesh_state before;
	char cmd[768], out[4096];
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		tap_begin("priv: kmeshctl %s as root without CAP_NET_ADMIN is refused, changing nothing",
			  cmds[i]);
		snapshot(&before);
		snprintf(cmd, sizeof(cmd), "%s %s", kmeshctl(), cmds[i]);
		EXPECT(run_as(ROOT_NO_NET_ADMIN, out, sizeof(out), exec_child, cmd) != 0);
		EXPECT(strstr(out, "needs root with CAP_NET_ADMIN"));
		tap_diag("kmeshctl said: %s", out);
		expect_unchanged(&before);
		tap_end();
	}
}

/* A config file anyone may read: a refusal must come from kmesh, not the file. */
static int write_config(const char *path, const char *text)
{
	if (write_file(path, text))
		return -1;
	return chmod(path, 0644);
}

void test_priv(void)
{
	char root[256], cgroup[512], out[4096];
	enum who who;

	/* Run alone (vmtest.sh -- priv), the area loads the module itself. */
	if (!kmesh_loaded())
		kmesh_modprobe(NULL);
	for (who = NOBODY; who <= ROOT_NO_NET_ADMIN; who++)
		test_device(who);

	tap_begin("priv: kmeshctl up (as root) with a route table, for the checks below");
	run_cmd(NULL, 0, "%s down", kmeshctl());
	if (!EXPECT_EQ(l4_default_cgroup(root, sizeof(root)), 0)) {
		tap_end();
		return;
	}
	snprintf(cgroup, sizeof(cgroup), "%s/kmesh-priv-test", root);
	EXPECT(!mkdir(cgroup, 0755) || errno == EEXIST);
	EXPECT_EQ(write_config(MESH_FILE, mesh), 0);
	EXPECT_EQ(write_config(OTHER_FILE, other), 0);
	if (!EXPECT_EQ(run_cmd(out, sizeof(out), "%s up --cgroup %s -f " MESH_FILE,
			       kmeshctl(), cgroup), 0)) {
		tap_diag("%s", out);
		tap_end();
		rmdir(cgroup);
		return;
	}
	tap_end();
	test_kmeshctl_nobody();
	test_kmeshctl_no_net_admin();
	run_cmd(NULL, 0, "%s down", kmeshctl());
	rmdir(cgroup);
	unlink(MESH_FILE);
	unlink(OTHER_FILE);
}
