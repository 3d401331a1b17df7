// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpfparse: the eBPF fallback parser's time per head (bpf/include/l7_http.h,
 * kmesh_l7_parse()), through the conformance suite's syscall program
 * (selftests/progs/conformance_fb.bpf.c: `parse`). Each object given is
 * loaded; the repetitions run every object on every head in turn
 * (interleaved), each head RUNS times through BPF_PROG_TEST_RUN with the
 * kernel's run-time statistics on, and take the program's run_time_ns per
 * run. The empty head (nothing to parse: the copy into the scratch and the
 * set-up) is subtracted, so the figure is the parse alone.
 *
 *   bpfparse [-r REPS] [-n RUNS] OBJ...   (root)
 *   -> bpfparse: obj=OBJ head=NAME bytes=B status=S ns_per_head=X runs LO..HI
 *      (median of REPS, the empty head's median subtracted)
 * Two objects: the same program built from two trees, an A/B in one run.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define MAX_OBJS 4
#define MAX_REPS 101

struct head {
	const char *name;
	const char *text;
	int resp;
};

/* the bench's own traffic (bench/src/loadgen.c, benchsrv.c), and a browser's */
static const struct head heads[] = {
	{ "empty", "", 0 },
	{ "request", "GET /bench/a HTTP/1.1\r\nHost: bench-l7.default.svc:8080\r\n"
		     "User-Agent: kmesh-loadgen\r\n\r\n", 0 },
	{ "response", "HTTP/1.1 200 OK\r\nContent-Length: 64\r\n"
		      "Content-Type: text/plain\r\nx-backend: b1\r\n\r\n", 1 },
	{ "browser", "GET /static/app/main.js?v=20261207 HTTP/1.1\r\n"
		     "Host: www.example.com\r\n"
		     "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
		     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
		     "Accept-Language: en-US,en;q=0.5\r\n"
		     "Accept-Encoding: gzip, deflate, br\r\n"
		     "Referer: https://www.example.com/index.html\r\n"
		     "Connection: keep-alive\r\n"
		     "Cookie: session=8f3a9c1e2b7d4f6a0c5e9b1d3f7a2c4e; theme=dark; lang=en-US; "
		     "_ga=GA1.2.1234567890.1701234567; _gid=GA1.2.987654321.1701234567\r\n"
		     "Sec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n"
		     "Sec-Fetch-Site: same-origin\r\nCache-Control: max-age=0\r\n\r\n", 0 },
};
#define NR_HEADS (sizeof(heads) / sizeof(heads[0]))

struct obj {
	const char *path;
	struct bpf_object *o;
	int prog_fd;
	int bss_fd, data_fd;	/* .bss and .data, read and written whole */
	char bss[16384], data[64];
	__u32 off_input, off_len, off_resp, off_opts, off_status;
	double ns[NR_HEADS][MAX_REPS];
	int status[NR_HEADS];
};

static void die(const char *what, const char *path)
{
	fprintf(stderr, "bpfparse: %s: %s\n", path, what);
	exit(1);
}

static __u32 var_off(struct obj *ob, const struct btf *btf, const char *secname,
		     const char *name)
{
	int sec = btf__find_by_name_kind(btf, secname, BTF_KIND_DATASEC);
	const struct btf_type *t = sec < 0 ? NULL : btf__type_by_id(btf, sec);
	const struct btf_var_secinfo *v = t ? btf_var_secinfos(t) : NULL;
	int i;

	if (!t) {
		fprintf(stderr, "bpfparse: %s: no section %s\n", ob->path, secname);
		exit(1);
	}
	for (i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *vt = btf__type_by_id(btf, v->type);

		if (!strcmp(btf__name_by_offset(btf, vt->name_off), name))
			return v->offset;
	}
	fprintf(stderr, "bpfparse: %s: no variable %s in %s\n", ob->path, name, secname);
	exit(1);
}

static void open_obj(struct obj *ob)
{
	struct bpf_program *p;
	struct bpf_map *m, *d;
	const struct btf *btf;

	ob->o = bpf_object__open_file(ob->path, NULL);
	if (!ob->o)
		die("cannot open", ob->path);
	/* only the head parser */
	bpf_object__for_each_program(p, ob->o)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p), "parse"));
	if (bpf_object__load(ob->o))
		die("cannot load (verifier log above)", ob->path);
	p = bpf_object__find_program_by_name(ob->o, "parse");
	m = bpf_object__find_map_by_name(ob->o, ".bss");
	d = bpf_object__find_map_by_name(ob->o, ".data");
	if (!p || !m || !d)
		die("no program `parse' or no .bss", ob->path);
	ob->prog_fd = bpf_program__fd(p);
	ob->bss_fd = bpf_map__fd(m);
	ob->data_fd = bpf_map__fd(d);
	btf = bpf_object__btf(ob->o);
	if (bpf_map__value_size(m) > sizeof(ob->bss) ||
	    bpf_map__value_size(d) > sizeof(ob->data) || !btf)
		die("unexpected .bss or .data", ob->path);
	ob->off_input = var_off(ob, btf, ".bss", "input");
	ob->off_len = var_off(ob, btf, ".bss", "input_len");
	ob->off_resp = var_off(ob, btf, ".bss", "resp");
	ob->off_opts = var_off(ob, btf, ".bss", "path_opts");
	ob->off_status = var_off(ob, btf, ".data", "status");
}

static __u64 run_ns(int fd, __u64 *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	*cnt = info.run_cnt;
	return info.run_time_ns;
}

static double time_head(struct obj *ob, size_t h, int runs)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	__u32 len = (__u32)strlen(heads[h].text), resp = heads[h].resp, zero = 0;
	__u64 c0 = 0, c1 = 0, t0, t1;
	int i;

	if (bpf_map_lookup_elem(ob->bss_fd, &zero, ob->bss))
		die("cannot read .bss", ob->path);
	memcpy(ob->bss + ob->off_input, heads[h].text, len);
	memcpy(ob->bss + ob->off_len, &len, sizeof(len));
	memcpy(ob->bss + ob->off_resp, &resp, sizeof(resp));
	memcpy(ob->bss + ob->off_opts, &zero, sizeof(zero));
	if (bpf_map_update_elem(ob->bss_fd, &zero, ob->bss, 0))
		die("cannot write .bss", ob->path);
	t0 = run_ns(ob->prog_fd, &c0);
	for (i = 0; i < runs; i++)
		if (bpf_prog_test_run_opts(ob->prog_fd, &opts) || opts.retval)
			die("test run failed", ob->path);
	t1 = run_ns(ob->prog_fd, &c1);
	if (bpf_map_lookup_elem(ob->data_fd, &zero, ob->data))
		die("cannot read .data", ob->path);
	memcpy(&ob->status[h], ob->data + ob->off_status, sizeof(int));
	return c1 > c0 ? (double)(t1 - t0) / (double)(c1 - c0) : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static struct obj objs[MAX_OBJS];
	int reps = 11, runs = 2000, nr = 0, opt, stats, r, i;
	size_t h;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			reps = atoi(optarg);
		else if (opt == 'n')
			runs = atoi(optarg);
		else
			return 2;
	}
	if (optind >= argc || argc - optind > MAX_OBJS || reps < 1 ||
	    reps > MAX_REPS || runs < 1) {
		fprintf(stderr, "usage: bpfparse [-r REPS<=%d] [-n RUNS] OBJ... (at most %d)\n",
			MAX_REPS, MAX_OBJS);
		return 2;
	}
	for (i = optind; i < argc; i++) {
		objs[nr].path = argv[i];
		open_obj(&objs[nr++]);
	}
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0)
		die("cannot enable BPF run-time statistics", "kernel");
	for (r = 0; r < reps; r++)
		for (h = 0; h < NR_HEADS; h++)
			for (i = 0; i < nr; i++)
				objs[i].ns[h][r] = time_head(&objs[i], h, runs);
	close(stats);
	for (i = 0; i < nr; i++) {
		double base = median(objs[i].ns[0], reps);

		for (h = 1; h < NR_HEADS; h++) {
			double *v = objs[i].ns[h];

			qsort(v, (size_t)reps, sizeof(*v), cmp_double);
			printf("bpfparse: obj=%s head=%s bytes=%zu status=%d ns_per_head=%.0f runs %.0f..%.0f\n",
			       objs[i].path, heads[h].name, strlen(heads[h].text),
			       objs[i].status[h], median(v, reps) - base,
			       v[0] - base, v[reps - 1] - base);
		}
		printf("bpfparse: obj=%s empty head (subtracted): %.0f ns per run\n",
		       objs[i].path, base);
	}
	return 0;
}
