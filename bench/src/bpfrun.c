// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpfrun: the time kmesh's programs spent while one command ran. The
 * kernel's BPF run-time statistics are on only for the command's duration
 * (BPF_ENABLE_STATS holds them on through an fd; they stop when it is
 * closed), and each pinned program's counters are read before and after.
 *
 *   bpfrun PIN_DIR CMD [ARGS...]
 *   -> the command's output, then one line per program that ran:
 *      bpfrun: prog=NAME runs=N run_ns=T ns_per_run=X
 *   exit status: the command's
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#define MAX_PROGS 64

struct prog {
	char name[256];
	int fd;
	__u64 runs, run_ns;
};

static struct prog progs[MAX_PROGS];
static int nr_progs;

static void open_progs(const char *pin_dir)
{
	char path[4096];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/progs", pin_dir);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d)) && nr_progs < MAX_PROGS) {
		struct prog *p = &progs[nr_progs];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/progs/%s", pin_dir, e->d_name);
		p->fd = bpf_obj_get(path);
		if (p->fd < 0)
			continue;
		snprintf(p->name, sizeof(p->name), "%s", e->d_name);
		nr_progs++;
	}
	closedir(d);
}

/* Counters now minus what @p holds; @p takes the new values. */
static void delta(struct prog *p, __u64 *runs, __u64 *run_ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*runs = *run_ns = 0;
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		return;
	*runs = info.run_cnt - p->runs;
	*run_ns = info.run_time_ns - p->run_ns;
	p->runs = info.run_cnt;
	p->run_ns = info.run_time_ns;
}

int main(int argc, char **argv)
{
	__u64 runs, run_ns;
	int stats, status, i;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: bpfrun PIN_DIR CMD [ARGS...]\n");
		return 2;
	}
	open_progs(argv[1]);
	if (!nr_progs) {
		fprintf(stderr, "bpfrun: no pinned programs under %s/progs\n", argv[1]);
		return 2;
	}
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		perror("bpfrun: BPF_ENABLE_STATS");
		return 2;
	}
	for (i = 0; i < nr_progs; i++)
		delta(&progs[i], &runs, &run_ns);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		execvp(argv[2], argv + 2);
		perror("bpfrun: exec");
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 2;
	for (i = 0; i < nr_progs; i++) {
		delta(&progs[i], &runs, &run_ns);
		if (runs)
			printf("bpfrun: prog=%s runs=%llu run_ns=%llu ns_per_run=%.1f\n",
			       progs[i].name, (unsigned long long)runs,
			       (unsigned long long)run_ns, (double)run_ns / (double)runs);
	}
	close(stats);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
