// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmeshctl up, down, apply, dump, stats, log: the whole data plane. The
 * state is all pinned (userspace/lib/l4_bpf.h); these commands only load,
 * switch and read it, so any of them may be killed at any time.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <bpf/libbpf.h>

#include "kmeshctl.h"
#include "l4_bpf.h"
#include "l7_bpf.h"
#include "mesh_config.h"
#include "mode.h"
#include "pins.h"
#include "pipeline.h"
#include "route_tables.h"
#include "stage_clock.h"

static int silent_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	/* libbpf's warnings go to stderr; debug chatter does not. */
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void summary(const struct mesh_config *cfg, char *buf, size_t size)
{
	size_t i, vips = 0, eps = 0;

	for (i = 0; i < cfg->nr_services; i++)
		vips += cfg->services[i].nr_addrs * cfg->services[i].nr_ports;
	for (i = 0; i < cfg->nr_clusters; i++)
		eps += cfg->clusters[i].nr_endpoints;
	snprintf(buf, size, "%zu services (%zu address:ports), %zu clusters, %zu endpoints",
		 cfg->nr_services, vips, cfg->nr_clusters, eps);
}

static void digest_add(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	__u64 n = len;

	EVP_DigestUpdate(ctx, &n, sizeof(n));	/* fields stay apart */
	EVP_DigestUpdate(ctx, data, len);
}

static void digest_add_stat(EVP_MD_CTX *ctx, const char *path)
{
	struct stat st;
	__u64 id[6] = {};

	if (!stat(path, &st)) {
		id[0] = st.st_dev;
		id[1] = st.st_ino;
		id[2] = st.st_rdev;
		id[3] = (__u64)st.st_size;
		id[4] = (__u64)st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec;
		id[5] = (__u64)st.st_ctim.tv_sec * 1000000000ULL + st.st_ctim.tv_nsec;
	}
	digest_add(ctx, id, sizeof(id));
}

/*
 * What an apply's outcome depends on besides the pinned state, SHA-256:
 * the input files' bytes, the options that shape the model, the mode
 * running, this kmeshctl binary (another version may compile the same
 * file differently) and the module's device (a module loaded again has
 * a new one, and has lost its route tables). 0 with @out; 1 when an input
 * is not a regular file (stdin, a directory: always applied).
 */
static int input_digest(const char *const *files, size_t nr,
			const struct mesh_input_opts *o, unsigned char out[32])
{
	const char *mode = kmesh_mode_running();
	EVP_MD_CTX *ctx;
	int rc = 1;
	size_t i;

	/* a digest needs no openssl.cnf (reading it is milliseconds of a
	 * no-op apply) */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	digest_add(ctx, "kmesh apply 1", 13);
	for (i = 0; i < nr; i++) {
		struct stat st;
		char *buf;
		ssize_t got = 0, r;
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			if (fd >= 0)
				close(fd);
			goto out;
		}
		buf = malloc(st.st_size ? (size_t)st.st_size : 1);
		while (buf && got < st.st_size &&
		       (r = read(fd, buf + got, (size_t)(st.st_size - got))) > 0)
			got += r;
		close(fd);
		if (!buf || got != st.st_size) {
			free(buf);
			goto out;
		}
		digest_add(ctx, files[i], strlen(files[i]));
		digest_add(ctx, buf, (size_t)got);
		free(buf);
	}
	digest_add(ctx, o->locality ? o->locality : "", o->locality ? strlen(o->locality) + 1 : 0);
	digest_add(ctx, o->domain ? o->domain : "", o->domain ? strlen(o->domain) + 1 : 0);
	digest_add(ctx, mode ? mode : "", mode ? strlen(mode) + 1 : 0);
	digest_add_stat(ctx, "/proc/self/exe");
	digest_add_stat(ctx, "/dev/" KMESH_DEV_NAME);
	if (EVP_DigestFinal_ex(ctx, out, NULL))
		rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/*
 * Does the live generation hold what @digest describes (it was applied
 * last and nothing switched since)? 1: yes, said; 0: no; the pinned
 * state unreadable: 0 as well (the apply then says what is wrong).
 */
/* The fill stamp of @slot (gen_maps.h), or ~0 when unreadable. */
static __u64 next_slot_fill(__u32 slot)
{
	__u64 stamp = ~0ULL;
	int fd = gen_slot_fill_open();

	if (fd >= 0) {
		if (gen_slot_fill_get(fd, slot, &stamp))
			stamp = ~0ULL;
		close(fd);
	}
	return stamp;
}

static int applied_already(const char *file, const unsigned char digest[32])
{
	struct gen_applied_input rec;
	struct l4_txn t;
	char err[256];
	int fd, same = 0;

	if (l4_txn_begin(&t, err, sizeof(err)))
		return 0;
	fd = kmesh_map_fd("kmesh_applied_input");
	if (fd >= 0 && !gen_applied_get(fd, &rec) && rec.generation &&
	    rec.generation == t.cur.generation &&
	    rec.next_slot_fill == next_slot_fill(t.next.slot) &&
	    !memcmp(rec.digest, digest, 32))
		same = 1;
	if (fd >= 0)
		close(fd);
	if (same)
		printf("unchanged: %s is what generation %llu applied; nothing to do\n",
		       file, (unsigned long long)t.cur.generation);
	l4_txn_end(&t);
	return same;
}

/* The pipeline's compile (against the pinned state) and install stages.
 * @digest (or NULL): of the inputs, recorded with the new generation. */
static int apply_cfg(const char *file, struct mesh_config *cfg, bool timings,
		     const unsigned char *digest)
{
	struct mesh_generation next;
	char err[512], sum[160], stages[256];
	__u64 gen;
	int rc;

	rc = pipeline_compile(cfg, true, &next, err, sizeof(err));
	if (!rc)
		rc = pipeline_install(&next, NULL, &gen, err, sizeof(err));
	if (!rc && digest) {
		/* still under the pins lock: nobody switched since */
		struct gen_applied_input rec = {
			.generation = gen,
			.next_slot_fill = next_slot_fill((next.txn.next.slot + 1) %
							 KMESH_L4_SLOTS),
		};
		int fd = gen_applied_open();

		memcpy(rec.digest, digest, sizeof(rec.digest));
		if (fd >= 0) {	/* unrecorded: the next apply compiles */
			gen_applied_set(fd, &rec);
			close(fd);
		}
	}
	mesh_generation_free(&next);
	if (rc) {
		fprintf(stderr, "kmeshctl: apply %s: %s (the running config is unchanged)\n",
			file, err);
		mesh_config_free(cfg);
		return 1;
	}
	summary(cfg, sum, sizeof(sum));
	printf("applied %s as generation %llu: %s\n", file,
	       (unsigned long long)gen, sum);
	if (timings)
		printf("stages ms: %s\n", stage_clock_format(stages, sizeof(stages)));
	mesh_config_free(cfg);
	return 0;
}

/* ---- up / down / apply ---- */

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "file", required_argument, NULL, 'f' },
		{ "locality", required_argument, NULL, 'l' },
		{ "domain", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct mesh_input_opts in_opts = {};
	const char *file = NULL;
	char cgroup[4096] = "", err[512];
	struct mesh_config cfg;
	const char *mode;
	bool adopted;
	int c;

	while ((c = getopt_long(argc, argv, "c:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(cgroup, sizeof(cgroup), "%s", optarg);
			break;
		case 'f':
			file = optarg;
			break;
		case 'l':
			in_opts.locality = optarg;
			break;
		case 'd':
			in_opts.domain = optarg;
			break;
		case 'h':
			printf("usage: kmeshctl up [--cgroup PATH] [-f mesh.yaml [--locality REGION[/ZONE[/SUBZONE]]] [--domain CLUSTER_DOMAIN]]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!cgroup[0] && l4_default_cgroup(cgroup, sizeof(cgroup))) {
		fprintf(stderr, "kmeshctl: no cgroup2 mount found; pass --cgroup\n");
		return 1;
	}
	/* A bad file must not leave a half-done up behind; the mode is
	 * the running one's or, before the first up, not known yet. */
	mode = kmesh_mode_running();
	if (file && check_inputs(&file, 1, &in_opts, false, mode, false, true, &cfg))
		return 1;
	libbpf_set_print(silent_print);
	if (l4_up(cgroup, &adopted, err, sizeof(err))) {
		fprintf(stderr, "kmeshctl: up: %s\n", err);
		if (file)
			mesh_config_free(&cfg);
		return 1;
	}
	if (adopted)
		printf("kmesh up: adopted the pinned state under %s (cgroup %s); programs replaced in place\n",
		       kmesh_pin_dir(), cgroup);
	else
		printf("kmesh up: attached to cgroup %s, pinned under %s\n",
		       cgroup, kmesh_pin_dir());
	return file ? apply_cfg(file, &cfg, false, NULL) : 0;
}

int cmd_down(int argc, char **argv)
{
	char err[512];
	bool was_up;

	if (argc > 1) {
		printf("usage: kmeshctl down\n");
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? 2 : 0;
	}
	if (l4_down(&was_up, err, sizeof(err))) {
		fprintf(stderr, "kmeshctl: down: %s\n", err);
		return 1;
	}
	printf(was_up ? "kmesh down: detached and unpinned %s\n" :
	       "kmesh was not up (nothing under %s)\n", kmesh_pin_dir());
	return 0;
}

int cmd_apply(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "explain", no_argument, NULL, 'e' },
		{ "strict", no_argument, NULL, 's' },
		{ "locality", required_argument, NULL, 'l' },
		{ "domain", required_argument, NULL, 'd' },
		{ "timings", no_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char usage[] =
		"usage: kmeshctl apply -f FILE|DIR|- [-f ...] [--dry-run] [--explain] [--strict]\n"
		"                      [--locality REGION[/ZONE[/SUBZONE]]] [--domain CLUSTER_DOMAIN]\n"
		"                      [--timings] [--force]\n";
	struct mesh_input_opts in_opts = {};
	const char *files[64];
	struct mesh_config cfg;
	bool dry = false, ex = false, strict = false, timings = false, force = false;
	unsigned char digest[32];
	bool have_digest = false;
	size_t nr = 0;
	int c;

	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (nr == 64) {
				fprintf(stderr, "kmeshctl: more than 64 -f\n");
				return 2;
			}
			files[nr++] = optarg;
			break;
		case 'n':
			dry = true;
			break;
		case 'e':
			ex = true;
			break;
		case 's':
			strict = true;
			break;
		case 'l':
			in_opts.locality = optarg;
			break;
		case 'd':
			in_opts.domain = optarg;
			break;
		case 't':
			timings = true;
			break;
		case 'F':
			force = true;
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		default:
			return 2;
		}
	}
	if (!nr || optind != argc) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	/* main.c let a --dry-run through; an argument of -f named so does
	 * not count */
	if (!dry && !has_net_admin()) {
		fprintf(stderr, "kmeshctl apply: permission denied: kmeshctl needs root with CAP_NET_ADMIN to change the mesh\n");
		return 1;
	}
	/* warnings for the mode this node runs (none before the first up) */
	/* read -> model (-> compile without the kernel for --dry-run; apply
	 * compiles against the pinned state, then installs) */
	/* stage_clock.h: where this apply's time goes (--timings) */
	stage_clock_start(NULL);
	/* The files, options, binary and module the live generation was
	 * applied from: nothing to do (--explain and --strict say what they
	 * find, --force installs anyway; every apply records its digest). */
	if (!dry && !input_digest(files, nr, &in_opts, digest)) {
		have_digest = true;
		if (!ex && !strict && !force && applied_already(files[0], digest))
			return 0;
	}
	if (check_inputs(files, nr, &in_opts, ex, kmesh_mode_running(), strict, dry, &cfg))
		return 1;
	if (dry) {
		printf("dry run: %zu services, %zu clusters, %zu routes, %zu policies; nothing applied\n",
		       cfg.nr_services, cfg.nr_clusters, cfg.nr_routes, cfg.nr_authz);
		mesh_config_free(&cfg);
		return 0;
	}
	return apply_cfg(files[0], &cfg, timings, have_digest ? digest : NULL);
}

/* ---- dump ---- */

static const char *name_or(const struct l4_gen *g, __u32 kind, __u32 id)
{
	const char *n = l4_id_name(g->ids, g->nr_ids, kind, id);

	return n ? n : "?";
}

static void dump_maglev(const struct l4_gen *g, const struct kmesh_cluster *c)
{
	static unsigned int count[KMESH_L4_MAX_CLUSTER_ENDPOINTS];
	size_t i;

	for (i = 0; i < g->nr_maglev; i++) {
		const struct l4_maglev *m = &g->maglev[i];
		size_t s;

		if (m->cluster_id != c->cluster_id)
			continue;
		memset(count, 0, sizeof(count));
		for (s = 0; s < KMESH_L4_MAGLEV_SIZE; s++)
			if (m->table->index[s] < KMESH_L4_MAX_CLUSTER_ENDPOINTS)
				count[m->table->index[s]]++;
		printf("  maglev %d slots:", KMESH_L4_MAGLEV_SIZE);
		for (s = 0; s < c->nr_healthy; s++)
			printf(" %zu=%.1f%%", s, 100.0 * count[s] / KMESH_L4_MAGLEV_SIZE);
		printf("\n");
	}
}

/* Was service vips[@i] shown with an http port before @i? */
static bool service_listed(const struct l4_gen *g, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (g->vips[j].val.service_id == g->vips[i].val.service_id &&
		    (g->vips[j].val.flags & KMESH_SVC_F_HTTP))
			return true;
	return false;
}

/* The route limits the live policy of @service_id holds. */
static void dump_route_limits(__u32 slot, __u32 service_id)
{
	struct kmesh_l7_route_limit rl[KMESH_L7_MAX_ROUTE_LIMITS];
	char name[KMESH_NAME_MAX];
	int n, i, names_fd = kmesh_map_fd("kmesh_l7_names");

	n = l7_read_route_limits(slot, service_id, rl, KMESH_L7_MAX_ROUTE_LIMITS);
	for (i = 0; i < n; i++) {
		const struct kmesh_ratelimit *l = &rl[i].limit;
		const char *rn = names_fd < 0 ? NULL :
			l7_name(names_fd, KMESH_L7_NAME_ROUTE, service_id,
				rl[i].route_id, name, sizeof(name));

		printf("  route %s (id %u) rate_limit requests:", rn ? rn : "?",
		       rl[i].route_id);
		if (l->interval_ns)
			printf(" 1 per %llu ns, burst %u%s",
			       (unsigned long long)l->interval_ns, l->burst,
			       l->flags & KMESH_RL_F_PER_SOURCE ? ", per source" : "");
		if (l->flags & KMESH_RL_F_REPLACES_SERVICE)
			printf(" (the service's limit skipped)");
		printf("\n");
	}
	if (names_fd >= 0)
		close(names_fd);
}

int cmd_dump(int argc, char **argv)
{
	static const char *const states[] = { "healthy", "draining" };
	struct l4_handle h;
	struct kmesh_l4_generation live;
	struct l4_gen g;
	char err[512], a[80];
	size_t i, j;

	if (argc > 1) {
		printf("usage: kmeshctl dump\n");
		return strcmp(argv[1], "-h") && strcmp(argv[1], "--help") ? 2 : 0;
	}
	if (l4_open(&h, err, sizeof(err))) {
		fprintf(stderr, "kmeshctl: %s\n", err);
		return 1;
	}
	if (l4_read_active(&h, &g)) {
		fprintf(stderr, "kmeshctl: cannot read the live generation\n");
		l4_close(&h);
		return 1;
	}
	printf("generation %llu\n", (unsigned long long)g.generation);
	if (l4_read_generation(&h, &live))
		live.slot = KMESH_L4_SLOTS;	/* no slot: no route limits shown */
	for (i = 0; i < g.nr_vips; i++) {
		const struct l4_vip *v = &g.vips[i];

		mesh_addr_format(v->key.addr, v->key.port, true, a, sizeof(a));
		printf("service %s (id %u) %s/%s -> cluster %s (id %u)",
		       name_or(&g, KMESH_L4_KIND_SERVICE, v->val.service_id),
		       v->val.service_id, a,
		       v->val.flags & KMESH_SVC_F_HTTP ? "http" : "tcp",
		       name_or(&g, KMESH_L4_KIND_CLUSTER, v->val.cluster_id),
		       v->val.cluster_id);
		if (v->val.rate_limit.interval_ns)
			printf(" rate_limit %s: 1 per %llu ns, burst %u%s",
			       v->val.flags & KMESH_SVC_F_HTTP ? "requests" : "connections",
			       (unsigned long long)v->val.rate_limit.interval_ns,
			       v->val.rate_limit.burst,
			       v->val.rate_limit.flags & KMESH_RL_F_PER_SOURCE ?
			       ", per source" : "");
		printf("\n");
		/* a service's route limits: once, after its first http port */
		if ((v->val.flags & KMESH_SVC_F_HTTP) && !service_listed(&g, i))
			dump_route_limits(live.slot, v->val.service_id);
	}
	for (i = 0; i < g.nr_clusters; i++) {
		const struct kmesh_cluster *c = &g.clusters[i];
		struct kmesh_cluster_state st;

		l4_read_cluster_state(&h, c->cluster_id, &st);
		printf("cluster %s (id %u) lb %s max_connections %u active %lld endpoints %u healthy %u%s",
		       name_or(&g, KMESH_L4_KIND_CLUSTER, c->cluster_id),
		       c->cluster_id, mesh_lb_name(c->lb), c->max_connections,
		       (long long)st.active, c->nr_endpoints, c->nr_healthy,
		       c->flags & KMESH_CLUSTER_F_HASH_SRC_PORT ?
		       " hash_key source_ip_port" : "");
		if (c->connect_timeout_ms)
			printf(" connect_timeout_ms %u", c->connect_timeout_ms);
		printf("\n");
		if (c->flags & KMESH_CLUSTER_F_OUTLIER)
			printf("  outlier_detection consecutive_5xx %u consecutive_gateway_errors %u consecutive_connect_failures %u%s interval_ms %u base_ejection_ms %u max_ejection_ms %u max_ejection_percent %u min_health_percent %u\n",
			       c->outlier.consecutive_5xx, c->outlier.gateway_errors,
			       c->outlier.connect_failures,
			       c->outlier.flags & KMESH_OUTLIER_F_SPLIT ?
			       " split_external_local_origin_errors" : "",
			       c->outlier.interval_ms, c->outlier.base_ejection_ms,
			       c->outlier.max_ejection_ms,
			       c->outlier.max_ejection_percent,
			       c->outlier.min_health_percent);
		for (j = 0; j < g.nr_eps; j++) {
			const struct l4_ep *e = &g.eps[j];

			if (e->key.cluster_id != c->cluster_id)
				continue;
			mesh_addr_format(e->val.addr, e->val.port, true, a, sizeof(a));
			/* healthy past nr_healthy: a farther locality or
			 * priority, taking no new connection while a nearer
			 * one is healthy */
			printf("  endpoint %u %s (id %u) weight %u %s%s\n", e->key.index,
			       a, e->val.endpoint_id, e->val.weight,
			       e->val.state == KMESH_EP_HEALTHY &&
			       e->key.index >= c->nr_healthy ? "standby" :
			       states[e->val.state & 1],
			       l4_endpoint_ejected(&h, e->val.endpoint_id) ?
			       " ejected" : "");
		}
		dump_maglev(&g, c);
	}
	l4_gen_free(&g);
	l4_close(&h);
	return 0;
}

/* ---- stats ---- */

/*
 * name: the text output's; prom: the Prometheus metric, kmesh_KIND_PROM_total
 * (base units: a nanosecond counter is exported in seconds).
 */
static const struct {
	const char *name;
	const char *prom;
	const char *help;
	size_t off;
	bool ns;
} stat_fields[] = {
#define F(n, p, h) { #n, p, h, offsetof(struct kmesh_l4_stats, n), false }
	F(connects, "tcp_connections_opened", "Connects sent to an endpoint."),
	F(refused_overflow, "tcp_connections_refused_overflow", "Connects refused: the cluster was at max_connections."),
	F(refused_no_endpoint, "tcp_connections_refused_no_endpoint", "Connects refused: no healthy endpoint."),
	F(refused_rate_limited, "tcp_connections_refused_rate_limited", "Connects refused: the service's connections_per_second bucket was empty."),
	F(connect_failed, "tcp_connections_failed", "Connects sent to an endpoint that never got established."),
	F(failovers, "tcp_connections_failover", "Connects of a socket whose previous connect failed: the deferred connect's failover, or the application connecting again."),
	F(closed, "tcp_connections_closed", "Established connections closed."),
	F(redirected, "tcp_connections_redirected", "Closed connections whose data went socket to socket."),
	F(bytes_sent, "tcp_sent_bytes", "Bytes sent by clients."),
	F(bytes_received, "tcp_received_bytes", "Bytes received by clients."),
	{ "duration_ns", "tcp_connection_duration_seconds",
	  "Lifetime of closed connections, summed, in seconds.",
	  offsetof(struct kmesh_l4_stats, duration_ns), true },
	F(retransmits, "tcp_retransmitted_segments", "TCP retransmits of closed connections."),
	F(ejections, "outlier_ejections", "Endpoints ejected by outlier detection (clusters and endpoints)."),
	F(ejections_overflow, "outlier_ejections_overflow", "Ejections not made: max_ejection_percent of the cluster's endpoints were ejected already."),
	F(returns, "outlier_returns", "Ejected endpoints back in service, counted at the cluster's next connect or ejection."),
#undef F
};

static const char *const global_names[KMESH_L4_G_MAX] = {
	[KMESH_L4_G_PASSTHROUGH] = "passthrough",
	[KMESH_L4_G_NO_CONFIG] = "no_config",
	[KMESH_L4_G_FAMILY] = "family_mismatch",
	[KMESH_L4_G_NO_STORAGE] = "no_socket_storage",
	[KMESH_L4_G_SOCKHASH] = "sockhash_failed",
	[KMESH_L4_G_LOG_DROPPED] = "log_dropped",
	[KMESH_L4_G_REDIRECT_MSGS] = "redirect_msgs",
	[KMESH_L4_G_REDIRECT_BYTES] = "redirect_bytes",
};

static const char *const global_help[KMESH_L4_G_MAX] = {
	[KMESH_L4_G_PASSTHROUGH] = "TCP connects from the meshed cgroup to addresses that are no service.",
	[KMESH_L4_G_NO_CONFIG] = "Connects seen before any apply.",
	[KMESH_L4_G_FAMILY] = "IPv4 connects whose chosen endpoint is IPv6 (passed on unchanged).",
	[KMESH_L4_G_NO_STORAGE] = "Socket-storage allocations that failed: connections not accounted.",
	[KMESH_L4_G_SOCKHASH] = "Sockets that could not be put in the sockhash.",
	[KMESH_L4_G_LOG_DROPPED] = "Connection records lost to a full access-log ring buffer.",
	[KMESH_L4_G_REDIRECT_MSGS] = "Messages carried socket to socket.",
	[KMESH_L4_G_REDIRECT_BYTES] = "Bytes carried socket to socket.",
};

static const char *const kind_names[] = {
	[KMESH_L4_KIND_SERVICE] = "service",
	[KMESH_L4_KIND_CLUSTER] = "cluster",
	[KMESH_L4_KIND_ENDPOINT] = "endpoint",
};

static __u64 field(const struct kmesh_l4_stats *s, size_t i)
{
	return *(const __u64 *)((const char *)s + stat_fields[i].off);
}

static int cmp_id(const void *a, const void *b)
{
	const struct l4_id_entry *x = a, *y = b;

	if (x->key.kind != y->key.kind)
		return x->key.kind < y->key.kind ? -1 : 1;
	return x->val.id < y->val.id ? -1 : x->val.id > y->val.id;
}

/* Prometheus label value: escape backslash and quote. */
static void prom_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			putchar('\\');
		putchar(*s);
	}
}

static void prom_labels(const struct l4_id_entry *e)
{
	const char *slash = strchr(e->key.name, '/');

	printf("{");
	if (e->key.kind == KMESH_L4_KIND_ENDPOINT && slash) {
		printf("cluster=\"%.*s\",endpoint=\"", (int)(slash - e->key.name),
		       e->key.name);
		prom_label(slash + 1);
	} else {
		printf("%s=\"", kind_names[e->key.kind]);
		prom_label(e->key.name);
	}
	printf("\"}");
}

/*
 * Endpoints of cluster entry @c (in the registry @ids) ejected now; one
 * removed from the config while ejected counts until its time is up.
 */
static unsigned int cluster_ejected(struct l4_handle *h,
				    const struct l4_id_entry *ids, size_t n,
				    const struct l4_id_entry *c)
{
	size_t len = strlen(c->key.name), i;
	unsigned int ejected = 0;

	for (i = 0; i < n; i++)
		if (ids[i].key.kind == KMESH_L4_KIND_ENDPOINT &&
		    !strncmp(ids[i].key.name, c->key.name, len) &&
		    ids[i].key.name[len] == '/' &&
		    l4_endpoint_ejected(h, ids[i].val.id))
			ejected++;
	return ejected;
}

static void stats_prometheus(struct l4_handle *h, struct l4_id_entry *ids,
			     size_t n, const __u64 *global)
{
	struct kmesh_l4_stats s;
	__u32 kind;
	size_t f, i;

	for (kind = KMESH_L4_KIND_SERVICE; kind <= KMESH_L4_KIND_ENDPOINT; kind++) {
		for (f = 0; f < sizeof(stat_fields) / sizeof(stat_fields[0]); f++) {
			printf("# HELP kmesh_%s_%s_total %s\n", kind_names[kind],
			       stat_fields[f].prom, stat_fields[f].help);
			printf("# TYPE kmesh_%s_%s_total counter\n", kind_names[kind],
			       stat_fields[f].prom);
			for (i = 0; i < n; i++) {
				unsigned long long v;

				if (ids[i].key.kind != kind)
					continue;
				l4_read_stats(h, kind, ids[i].val.id, &s);
				printf("kmesh_%s_%s_total", kind_names[kind],
				       stat_fields[f].prom);
				prom_labels(&ids[i]);
				v = field(&s, f);
				if (stat_fields[f].ns)
					printf(" %llu.%09llu\n", v / 1000000000ULL,
					       v % 1000000000ULL);
				else
					printf(" %llu\n", v);
			}
		}
	}
	printf("# HELP kmesh_cluster_active_connections Connections counted against max_connections.\n");
	printf("# TYPE kmesh_cluster_active_connections gauge\n");
	for (i = 0; i < n; i++) {
		struct kmesh_cluster_state st;

		if (ids[i].key.kind != KMESH_L4_KIND_CLUSTER)
			continue;
		l4_read_cluster_state(h, ids[i].val.id, &st);
		printf("kmesh_cluster_active_connections");
		prom_labels(&ids[i]);
		printf(" %lld\n", (long long)st.active);
	}
	printf("# HELP kmesh_cluster_ejected_endpoints Endpoints ejected by outlier detection now.\n");
	printf("# TYPE kmesh_cluster_ejected_endpoints gauge\n");
	for (i = 0; i < n; i++) {
		if (ids[i].key.kind != KMESH_L4_KIND_CLUSTER)
			continue;
		printf("kmesh_cluster_ejected_endpoints");
		prom_labels(&ids[i]);
		printf(" %u\n", cluster_ejected(h, ids, n, &ids[i]));
	}
	printf("# HELP kmesh_endpoint_ejected 1 while outlier detection keeps the endpoint out of new connections.\n");
	printf("# TYPE kmesh_endpoint_ejected gauge\n");
	for (i = 0; i < n; i++) {
		if (ids[i].key.kind != KMESH_L4_KIND_ENDPOINT)
			continue;
		printf("kmesh_endpoint_ejected");
		prom_labels(&ids[i]);
		printf(" %d\n", l4_endpoint_ejected(h, ids[i].val.id));
	}
	for (f = 0; f < KMESH_L4_G_MAX; f++) {
		printf("# HELP kmesh_node_%s_total %s\n", global_names[f],
		       global_help[f]);
		printf("# TYPE kmesh_node_%s_total counter\n", global_names[f]);
		printf("kmesh_node_%s_total %llu\n", global_names[f],
		       (unsigned long long)global[f]);
	}
}

static void stats_text(struct l4_handle *h, struct l4_id_entry *ids, size_t n,
		       const __u64 *global)
{
	struct kmesh_l4_stats s;
	size_t f, i;

	for (i = 0; i < n; i++) {
		__u32 kind = ids[i].key.kind;

		if (kind < KMESH_L4_KIND_SERVICE || kind > KMESH_L4_KIND_ENDPOINT)
			continue;
		l4_read_stats(h, kind, ids[i].val.id, &s);
		printf("%s %s (id %u):", kind_names[kind], ids[i].key.name,
		       ids[i].val.id);
		if (kind == KMESH_L4_KIND_CLUSTER) {
			struct kmesh_cluster_state st;

			l4_read_cluster_state(h, ids[i].val.id, &st);
			printf(" active %lld ejected %u", (long long)st.active,
			       cluster_ejected(h, ids, n, &ids[i]));
		}
		if (kind == KMESH_L4_KIND_ENDPOINT)
			printf(" ejected %d", l4_endpoint_ejected(h, ids[i].val.id));
		for (f = 0; f < sizeof(stat_fields) / sizeof(stat_fields[0]); f++)
			printf(" %s %llu", stat_fields[f].name,
			       (unsigned long long)field(&s, f));
		printf("\n");
	}
	printf("node:");
	for (f = 0; f < KMESH_L4_G_MAX; f++)
		printf(" %s %llu", global_names[f], (unsigned long long)global[f]);
	printf("\n");
}

/*
 * Per limited service and kind, then per limited route: what each token
 * bucket let through. A route's series carry a route label; the
 * service's own have none.
 */
static void stats_rate_limits(const struct l4_id_entry *ids, size_t n, bool prom)
{
	static const char *const kinds[] = {
		[KMESH_RL_CONNECTIONS] = "connections",
		[KMESH_RL_REQUESTS] = "requests",
	};
	static const struct { const char *name, *help; } prom_fields[] = {
		{ "passed", "Connects or requests that took a token of the service's rate limit (with a route label: of that route's limit)." },
		{ "limited", "Connects refused or requests answered 429: the service's rate-limit bucket was empty (with a route label: the route's)." },
	};
	struct kmesh_rl_stats_key *routes = NULL;
	struct kmesh_rl_stats s;
	size_t i, f, nr_routes = 0;
	char rbuf[KMESH_NAME_MAX];
	int names_fd;
	__u32 kind;

	l4_list_route_limits(&routes, &nr_routes);	/* none when it fails */
	names_fd = kmesh_map_fd("kmesh_l7_names");
	for (f = 0; f < (prom ? 2 : 1); f++) {
		if (prom) {
			printf("# HELP kmesh_rate_limit_%s_total %s\n",
			       prom_fields[f].name, prom_fields[f].help);
			printf("# TYPE kmesh_rate_limit_%s_total counter\n",
			       prom_fields[f].name);
		}
		for (i = 0; i < n; i++) {
			if (ids[i].key.kind != KMESH_L4_KIND_SERVICE)
				continue;
			for (kind = KMESH_RL_CONNECTIONS; kind <= KMESH_RL_REQUESTS; kind++) {
				if (l4_read_rate_limit(ids[i].val.id, kind, 0, &s))
					continue;
				if (!prom) {
					printf("rate_limit service %s %s: passed %llu limited %llu\n",
					       ids[i].key.name, kinds[kind],
					       (unsigned long long)s.passed,
					       (unsigned long long)s.limited);
					continue;
				}
				printf("kmesh_rate_limit_%s_total{service=\"",
				       prom_fields[f].name);
				prom_label(ids[i].key.name);
				printf("\",kind=\"%s\"} %llu\n", kinds[kind],
				       (unsigned long long)(f ? s.limited : s.passed));
			}
		}
		for (i = 0; i < nr_routes; i++) {
			const char *svc = l4_id_name(ids, n, KMESH_L4_KIND_SERVICE,
						     routes[i].service_id);
			const char *route = names_fd < 0 ? NULL :
				l7_name(names_fd, KMESH_L7_NAME_ROUTE,
					routes[i].service_id, routes[i].route_id,
					rbuf, sizeof(rbuf));

			if (!svc || !route ||
			    l4_read_rate_limit(routes[i].service_id,
					       KMESH_RL_ROUTE_REQUESTS,
					       routes[i].route_id, &s))
				continue;
			if (!prom) {
				printf("rate_limit service %s route %s requests: passed %llu limited %llu\n",
				       svc, route, (unsigned long long)s.passed,
				       (unsigned long long)s.limited);
				continue;
			}
			printf("kmesh_rate_limit_%s_total{service=\"",
			       prom_fields[f].name);
			prom_label(svc);
			printf("\",kind=\"requests\",route=\"");
			prom_label(route);
			printf("\"} %llu\n",
			       (unsigned long long)(f ? s.limited : s.passed));
		}
	}
	if (names_fd >= 0)
		close(names_fd);
	free(routes);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prometheus", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	__u64 global[KMESH_L4_G_MAX];
	struct l4_id_entry *ids;
	struct l4_handle h;
	bool prom = false;
	char err[512];
	size_t n;
	int c;

	while ((c = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			prom = true;
			break;
		case 'h':
			printf("usage: kmeshctl stats [--prometheus]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (l4_open(&h, err, sizeof(err))) {
		fprintf(stderr, "kmeshctl: %s\n", err);
		return 1;
	}
	if (l4_read_registry(&h, &ids, &n)) {
		l4_close(&h);
		return 1;
	}
	qsort(ids, n, sizeof(*ids), cmp_id);
	l4_read_global(&h, global);
	if (prom)
		stats_prometheus(&h, ids, n, global);
	else
		stats_text(&h, ids, n, global);
	stats_rate_limits(ids, n, prom);
	l7_stats_print(prom);	/* per-route HTTP counters (l7.c) */
	cp_stats_print(prom);	/* kmesh-agent's xDS updates (cp_status.c) */
	inbound_stats_print(prom);	/* the destination's check (inbound.c) */
	free(ids);
	l4_close(&h);
	return 0;
}

/* ---- log ---- */

struct log_ctx {
	struct l4_handle *h;
	struct l4_id_entry *ids;
	size_t nr_ids;
	bool json;
	long count;		/* records printed */
	long max;		/* stop after this many, 0: never */
	__s64 mono_to_real;	/* add to CLOCK_MONOTONIC ns for wall time */
};

static const char *log_name(struct log_ctx *lc, __u32 kind, __u32 id)
{
	const char *n = l4_id_name(lc->ids, lc->nr_ids, kind, id);

	if (!n) {
		/* An apply since we started: read the registry again. */
		free(lc->ids);
		lc->ids = NULL;
		lc->nr_ids = 0;
		l4_read_registry(lc->h, &lc->ids, &lc->nr_ids);
		n = l4_id_name(lc->ids, lc->nr_ids, kind, id);
	}
	return n ? n : "?";
}

static void log_time(__u64 mono, __s64 offset, char *buf, size_t size)
{
	__s64 ns = (__s64)mono + offset;
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)((ns / 1000000) % 1000));
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct kmesh_access_log *r = data;
	struct log_ctx *lc = ctx;
	char when[64], vip[80], src[80], ep[80];
	const char *svc, *cluster, *endpoint, *result;

	if (size < sizeof(*r))
		return 0;
	log_time(r->timestamp_ns, lc->mono_to_real, when, sizeof(when));
	mesh_addr_format(r->service_addr, r->service_port, true, vip, sizeof(vip));
	mesh_addr_format(r->source_addr, r->source_port, true, src, sizeof(src));
	mesh_addr_format(r->endpoint_addr, r->endpoint_port, true, ep, sizeof(ep));
	svc = log_name(lc, KMESH_L4_KIND_SERVICE, r->service_id);
	cluster = log_name(lc, KMESH_L4_KIND_CLUSTER, r->cluster_id);
	endpoint = log_name(lc, KMESH_L4_KIND_ENDPOINT, r->endpoint_id);
	result = r->result == KMESH_CONN_CLOSED ? "closed" : "failed";
	if (lc->json)
		printf("{\"type\":\"tcp\",\"time\":\"%s\",\"service\":\"%s\",\"service_id\":%u,"
		       "\"service_address\":\"%s\",\"source\":\"%s\","
		       "\"cluster\":\"%s\",\"cluster_id\":%u,\"endpoint\":\"%s\","
		       "\"endpoint_id\":%u,\"endpoint_name\":\"%s\",\"result\":\"%s\","
		       "\"bytes_sent\":%llu,\"bytes_received\":%llu,"
		       "\"duration_ns\":%llu,\"srtt_us\":%u,\"retransmits\":%u,"
		       "\"redirected\":%s,\"ejected\":%s,\"failover\":%s,"
		       "\"connect_timeout\":%s,\"generation\":%llu}\n",
		       when, svc, r->service_id, vip, src, cluster, r->cluster_id,
		       ep, r->endpoint_id, endpoint, result,
		       (unsigned long long)r->bytes_sent,
		       (unsigned long long)r->bytes_received,
		       (unsigned long long)r->duration_ns, r->srtt_us,
		       r->retransmits,
		       r->flags & KMESH_LOG_F_REDIRECTED ? "true" : "false",
		       r->flags & KMESH_LOG_F_EJECTED ? "true" : "false",
		       r->flags & KMESH_LOG_F_FAILOVER ? "true" : "false",
		       r->flags & KMESH_LOG_F_CONNECT_TIMEOUT ? "true" : "false",
		       (unsigned long long)r->generation);
	else
		printf("%s tcp %s %s -> %s via %s src %s %s sent %llu received %llu duration %.3fms srtt %uus retrans %u%s%s%s%s gen %llu\n",
		       when, svc, vip, ep, cluster, src, result,
		       (unsigned long long)r->bytes_sent,
		       (unsigned long long)r->bytes_received,
		       r->duration_ns / 1e6, r->srtt_us, r->retransmits,
		       r->flags & KMESH_LOG_F_REDIRECTED ? " redirected" : "",
		       r->flags & KMESH_LOG_F_EJECTED ? " ejected" : "",
		       r->flags & KMESH_LOG_F_FAILOVER ? " failover" : "",
		       r->flags & KMESH_LOG_F_CONNECT_TIMEOUT ? " connect_timeout" : "",
		       (unsigned long long)r->generation);
	lc->count++;
	/* Stop consuming once the caller has what it asked for. */
	return lc->max && lc->count >= lc->max ? 1 : 0;
}

static volatile sig_atomic_t log_stop;

static void on_signal(int sig)
{
	(void)sig;
	log_stop = 1;
}

int cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'n' },
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct log_ctx lc = {};
	struct ring_buffer *rb;
	struct timespec mono, real;
	struct l4_handle h;
	double wait = -1, idle = 0;
	char err[512];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "jn:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			lc.json = true;
			break;
		case 'n':
			lc.max = strtol(optarg, NULL, 10);
			break;
		case 'w':
			wait = strtod(optarg, NULL);
			break;
		case 'h':
			printf("usage: kmeshctl log [--json] [--count N] [--wait SEC]\n"
			       "  one line per HTTP request (http) and per closed service\n"
			       "  connection (tcp), as they happen;\n"
			       "  --count: stop after N records; --wait: stop after SEC idle\n");
			return 0;
		default:
			return 2;
		}
	}
	if (l4_open(&h, err, sizeof(err))) {
		fprintf(stderr, "kmeshctl: %s\n", err);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	lc.mono_to_real = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
			  (real.tv_nsec - mono.tv_nsec);
	lc.h = &h;
	l4_read_registry(&h, &lc.ids, &lc.nr_ids);
	rb = ring_buffer__new(h.fd[L4_MAP_ACCESS_LOG], on_record, &lc, NULL);
	if (!rb) {
		fprintf(stderr, "kmeshctl: access log: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	/* per-request HTTP records (l7.c) share the loop and --count */
	l7_log_add(rb, lc.json, lc.mono_to_real, &lc.count, lc.max);
	while (!log_stop && !(lc.max && lc.count >= lc.max)) {
		int n = ring_buffer__poll(rb, 100);

		if (n < 0 && n != -EINTR) {
			fprintf(stderr, "kmeshctl: access log: %s\n", strerror(-n));
			rc = 1;
			break;
		}
		idle = n > 0 ? 0 : idle + 0.1;
		if (wait >= 0 && n <= 0 && idle >= wait)
			break;
	}
	ring_buffer__free(rb);
	l7_log_done();
out:
	free(lc.ids);
	l4_close(&h);
	return rc;
}

/* ---- status ---- */

void l4_status_print(void)
{
	struct kmesh_l4_generation g;
	struct l4_link_info li;
	struct l4_handle h;
	struct l4_gen gen;
	char err[512];
	__s64 active = 0;
	size_t i;
	int p;

	if (l4_open(&h, err, sizeof(err))) {
		if (l4_is_up())	/* pinned, but not all of it */
			printf("l4 data plane: BROKEN: %s\n", err);
		else
			printf("l4 data plane: down (kmeshctl up)\n");
		return;
	}
	l4_read_generation(&h, &g);
	printf("l4 data plane: up, pinned under %s, generation %llu\n",
	       kmesh_pin_dir(), (unsigned long long)g.generation);
	for (p = 0; p < L4_NR_PROGS; p++) {
		if (p == L4_PROG_SK_MSG) {
			printf("  %-20s on the sockhash\n", l4_prog_name(p));
			continue;
		}
		if (l4_link_info(p, &li))
			printf("  %-20s NOT ATTACHED\n", l4_prog_name(p));
		else
			printf("  %-20s prog %u, link %u, cgroup id %llu\n",
			       l4_prog_name(p), li.prog_id, li.link_id,
			       (unsigned long long)li.cgroup_id);
	}
	if (!l4_read_active(&h, &gen)) {
		for (i = 0; i < gen.nr_clusters; i++) {
			struct kmesh_cluster_state st;

			if (!l4_read_cluster_state(&h, gen.clusters[i].cluster_id, &st))
				active += st.active;
		}
		printf("  config: %zu service address:ports, %zu clusters, %zu endpoints; %lld active connections\n",
		       gen.nr_vips, gen.nr_clusters, gen.nr_eps, (long long)active);
		l4_gen_free(&gen);
	}
	l4_close(&h);
}
