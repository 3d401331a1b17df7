// SPDX-License-Identifier: GPL-2.0-only
/* The L7 plane's kernel side through libbpf, /dev/kmesh and the pins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "core/route.h"
#include "l4_bpf.h"
#include "l7_bpf.h"
#include "l7_build.h"
#include "route_tables.h"

bool l7_msg_kfunc_wanted(void)
{
	const char *env = getenv("KMESH_L7_MSG");
	struct kmesh_node_caps caps;

	if (env && !strcmp(env, "0"))
		return false;
	return !kmesh_caps_detect(&caps) &&
	       caps.kfunc_callable[KMESH_PROBE_SK_MSG];
}

int l7_map_fd(const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", l4_pin_dir(), name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* ---- apply ---- */

static void put_name(int fd, __u32 kind, __u32 service_id, __u32 id,
		     const char *name)
{
	struct kmesh_l7_name_key k = { kind, service_id, id };
	struct kmesh_l7_name v = {};

	snprintf(v.name, sizeof(v.name), "%s", name);
	bpf_map_update_elem(fd, &k, &v, BPF_ANY);	/* names only label stats */
}

int l7_prepare(const struct mesh_config *cfg, struct l4_gen *gen, __u32 slot,
	       struct l7_apply *a, char *err, size_t err_size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	struct kmesh_l7_policy *pol = NULL;
	struct l7_cidrs cidrs = {};
	struct l7_check_err ce;
	__u32 *cluster_ids = NULL;
	int names_fd = -1, rc = -1;
	size_t i, j;

	memset(a, 0, sizeof(*a));
	a->policy_fd = a->cidrs_fd = -1;
	a->dev_fd = kmesh_dev_open();
	if (a->dev_fd < 0)
		a->dev_fd = -1;		/* no module: fallback routes alone */
	a->policy_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "kmesh_l7_pol_gen",
				      sizeof(__u32), sizeof(struct kmesh_l7_policy),
				      KMESH_L4_MAX_SERVICES, &opts);
	a->cidrs_fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "kmesh_l7_cidr_gen",
				     sizeof(struct kmesh_l7_cidr_key),
				     sizeof(__u64), KMESH_L7_MAX_CIDRS, &opts);
	pol = malloc(sizeof(*pol));
	cluster_ids = calloc(cfg->nr_clusters + 1, sizeof(*cluster_ids));
	if (a->policy_fd < 0 || a->cidrs_fd < 0 || !pol || !cluster_ids) {
		snprintf(err, err_size, "L7 maps for the next generation: %s",
			 strerror(errno ? errno : ENOMEM));
		goto out;
	}
	names_fd = l7_map_fd("kmesh_l7_names");
	for (i = 0; i < cfg->nr_clusters; i++)
		cluster_ids[i] = l4_gen_id(gen, KMESH_L4_KIND_CLUSTER,
				       cfg->clusters[i].name);
	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];
		const struct mesh_routes *rt = l7_routes_of(cfg, (int)i);
		__u32 sid = l4_gen_id(gen, KMESH_L4_KIND_SERVICE, s->name);
		__u32 table = 0;

		if (!sid)
			continue;
		if (a->dev_fd >= 0) {
			/* a table the previous generation of this slot left */
			if (!rt)
				kmesh_table_del(a->dev_fd, l7_table_id(slot, sid));
		}
		if (!l7_service_has_rules(cfg, (int)i))
			continue;
		if (l7_build_policy(cfg, (int)i, sid, pol, &cidrs, &ce)) {
			snprintf(err, err_size, "service '%s': %s", s->name, ce.msg);
			goto out;
		}
		if (bpf_map_update_elem(a->policy_fd, &sid, pol, BPF_NOEXIST)) {
			snprintf(err, err_size, "L7 policy of service '%s': %s",
				 s->name, strerror(errno));
			goto out;
		}
		a->nr_policies++;
		if (rt && a->dev_fd >= 0) {
			void *blob;
			__u32 len;
			int fmt, e;

			if (l7_build_table(cfg, (int)i, sid, cluster_ids, &blob,
					   &len, &ce)) {
				snprintf(err, err_size, "routes of service '%s': %s",
					 s->name, ce.msg);
				goto out;
			}
			table = l7_table_id(slot, sid);
			e = kmesh_table_set(a->dev_fd, table, blob, len, &fmt);
			free(blob);
			if (e) {
				snprintf(err, err_size,
					 "routes of service '%s': the module refused the table: %s",
					 s->name, fmt ? kmesh_route_strerror(fmt) : strerror(-e));
				goto out;
			}
			a->nr_tables++;
		}
		for (j = 0; j < gen->nr_vips; j++)
			if (gen->vips[j].val.service_id == sid)
				gen->vips[j].val.route_table_id = table;
		if (names_fd >= 0) {
			for (j = 0; rt && j < rt->nr_http; j++)
				put_name(names_fd, KMESH_L7_NAME_ROUTE, sid,
					 rt->http[j].id, rt->http[j].name);
			for (j = 0; j < cfg->nr_authz; j++)
				if (cfg->authz[j].service == (int)i)
					put_name(names_fd, KMESH_L7_NAME_POLICY, sid,
						 cfg->authz[j].id, cfg->authz[j].name);
		}
	}
	for (i = 0; i < cidrs.n; i++) {
		if (bpf_map_update_elem(a->cidrs_fd, &cidrs.v[i].key,
					&cidrs.v[i].sets, BPF_ANY)) {
			snprintf(err, err_size, "L7 address lists: %s", strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	if (names_fd >= 0)
		close(names_fd);
	l7_cidrs_free(&cidrs);
	free(cluster_ids);
	free(pol);
	return rc;
}

int l7_install(struct l7_apply *a, __u32 slot, char *err, size_t err_size)
{
	static const char *const outer[] = { "kmesh_l7_policy", "kmesh_l7_cidrs" };
	int fds[2] = { a->policy_fd, a->cidrs_fd }, i, fd;

	for (i = 0; i < 2; i++) {
		fd = l7_map_fd(outer[i]);
		if (fd < 0) {
			snprintf(err, err_size, "%s: %s (run kmeshctl up to repair)",
				 outer[i], strerror(-fd));
			return -1;
		}
		if (bpf_map_update_elem(fd, &slot, &fds[i], BPF_ANY)) {
			snprintf(err, err_size, "install L7 maps: %s", strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

void l7_apply_free(struct l7_apply *a)
{
	if (a->policy_fd >= 0)
		close(a->policy_fd);
	if (a->cidrs_fd >= 0)
		close(a->cidrs_fd);
	if (a->dev_fd >= 0)
		close(a->dev_fd);
	a->policy_fd = a->cidrs_fd = a->dev_fd = -1;
}

/* ---- reading ---- */

const char *l7_running_mode(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/progs/%s", l4_pin_dir(),
		 l4_prog_name(L4_PROG_SK_MSG));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return NULL;
	}
	close(fd);
	return strcmp(info.name, "kmesh_sk_msg_l7") ? "fallback" : "kfunc";
}

int l7_read_stats(struct l7_stat_entry **v, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus(), fd, c;
	struct kmesh_l7_stats_key key, next;
	struct l7_stat_entry *arr = NULL, *na;
	struct kmesh_l7_stats *per;
	size_t cnt = 0, cap = 0, f;
	void *prev = NULL;

	*v = NULL;
	*n = 0;
	if (ncpu <= 0)
		return -EINVAL;
	fd = l7_map_fd("kmesh_l7_stats");
	if (fd < 0)
		return fd;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per) {
		close(fd);
		return -ENOMEM;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			na = realloc(arr, cap * sizeof(*arr));
			if (!na)
				break;
			arr = na;
		}
		if (!bpf_map_lookup_elem(fd, &next, per)) {
			__u64 *dst = (__u64 *)&arr[cnt].val;

			memset(&arr[cnt], 0, sizeof(arr[cnt]));
			arr[cnt].key = next;
			for (c = 0; c < ncpu; c++)
				for (f = 0; f < sizeof(per[c]) / sizeof(__u64); f++)
					dst[f] += ((const __u64 *)&per[c])[f];
			cnt++;
		}
		key = next;
		prev = &key;
	}
	free(per);
	close(fd);
	*v = arr;
	*n = cnt;
	return 0;
}

int l7_read_global(__u64 out[KMESH_L7_G_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, c;
	__u64 *per;
	__u32 i;

	memset(out, 0, sizeof(__u64) * KMESH_L7_G_MAX);
	if (ncpu <= 0)
		return -EINVAL;
	fd = l7_map_fd("kmesh_l7_global");
	if (fd < 0)
		return fd;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per) {
		close(fd);
		return -ENOMEM;
	}
	for (i = 0; i < KMESH_L7_G_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, per))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += per[c];
	}
	free(per);
	close(fd);
	return 0;
}

const char *l7_name(int names_fd, __u32 kind, __u32 service_id, __u32 id,
		    char *buf, size_t size)
{
	struct kmesh_l7_name_key k = { kind, service_id, id };
	struct kmesh_l7_name v;

	if (names_fd < 0 || bpf_map_lookup_elem(names_fd, &k, &v))
		return NULL;
	snprintf(buf, size, "%s", v.name);
	return buf;
}

const char *l7_reason_name(unsigned int reason)
{
	static const char *const names[KMESH_L7_R_MAX] = {
		[KMESH_L7_R_ALLOW] = "allow",
		[KMESH_L7_R_DENY_POLICY] = "deny_policy",
		[KMESH_L7_R_NO_ALLOW] = "no_allow_match",
		[KMESH_L7_R_ROUTE_DENY] = "route_deny",
		[KMESH_L7_R_DIRECT] = "direct_response",
		[KMESH_L7_R_NO_ROUTE] = "no_route",
		[KMESH_L7_R_BAD_REQUEST] = "bad_request",
		[KMESH_L7_R_TOO_LARGE] = "head_too_large",
		[KMESH_L7_R_BAD_BODY] = "bad_body",
		[KMESH_L7_R_UNDECIDABLE] = "undecidable",
		[KMESH_L7_R_CLOSED] = "closed",
		[KMESH_L7_R_OTHER_CLUSTER] = "other_cluster",
		[KMESH_L7_R_NO_ENDPOINT] = "no_endpoint",
	};

	return reason < KMESH_L7_R_MAX && names[reason] ? names[reason] : "?";
}

const char *l7_method_name(unsigned int method)
{
	static const char *const names[] = {
		[KMESH_HTTP_M_NONE] = "-", [KMESH_HTTP_M_GET] = "GET",
		[KMESH_HTTP_M_HEAD] = "HEAD", [KMESH_HTTP_M_POST] = "POST",
		[KMESH_HTTP_M_PUT] = "PUT", [KMESH_HTTP_M_DELETE] = "DELETE",
		[KMESH_HTTP_M_CONNECT] = "CONNECT",
		[KMESH_HTTP_M_OPTIONS] = "OPTIONS", [KMESH_HTTP_M_TRACE] = "TRACE",
		[KMESH_HTTP_M_PATCH] = "PATCH", [KMESH_HTTP_M_OTHER] = "OTHER",
	};

	return method < sizeof(names) / sizeof(names[0]) ? names[method] : "?";
}
