// SPDX-License-Identifier: GPL-2.0-only
/* The L7 plane's kernel side through libbpf, /dev/kmesh and the pins. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "gen_maps.h"
#include "inbound_bpf.h"
#include "core/route.h"
#include "l7_bpf.h"
#include "l7_build.h"
#include "pins.h"
#include "route_tables.h"

/* ---- apply ---- */

static const struct gen_map_spec policy_spec = {
	BPF_MAP_TYPE_HASH, "kmesh_l7_pol_gen", sizeof(__u32),
	sizeof(struct kmesh_l7_policy), KMESH_L4_MAX_SERVICES,
};
static const struct gen_map_spec cidrs_spec = {
	BPF_MAP_TYPE_LPM_TRIE, "kmesh_l7_cidr_gen", sizeof(struct kmesh_l7_cidr_key),
	sizeof(__u64), KMESH_L7_MAX_CIDRS,
};

/* The slot's two inner maps: emptied or new; or, with @img, as they are. */
static int take_maps(struct l7_apply *a, __u32 slot, const struct l7_images *img,
		     char *err, size_t err_size)
{
	int outer, fd;

	outer = kmesh_map_fd("kmesh_l7_policy");
	if (outer >= 0) {
		a->policy_fd = img ? gen_map_take_image(outer, slot, &policy_spec,
							&a->policy_fresh, img->policy) :
				     gen_map_take(outer, slot, &policy_spec, &a->policy_fresh);
		close(outer);
		outer = kmesh_map_fd("kmesh_l7_cidrs");
	}
	if (outer >= 0) {
		a->cidrs_fd = img ? gen_map_take_image(outer, slot, &cidrs_spec,
						       &a->cidrs_fresh, img->cidrs) :
				    gen_map_take(outer, slot, &cidrs_spec, &a->cidrs_fresh);
		close(outer);
	}
	fd = outer < 0 ? outer : a->policy_fd < 0 ? a->policy_fd : a->cidrs_fd;
	if (fd >= 0)
		return 0;
	snprintf(err, err_size, "L7 maps for the next generation: %s%s",
		 strerror(-fd), outer < 0 ? " (run kmeshctl up to repair)" : "");
	if (a->policy_fd < 0)
		a->policy_fd = -1;
	if (a->cidrs_fd < 0)
		a->cidrs_fd = -1;
	return -1;
}

/* The compiled route tables into the module under the slot's ids. */
static int push_tables(const struct mesh_config *cfg, const struct l7_gen *l7,
		       int dev_fd, char *err, size_t err_size)
{
	size_t i;
	int fmt, e;

	/* tables the previous generation of this slot left */
	for (i = 0; i < l7->nr_stale; i++)
		kmesh_table_del(dev_fd, l7->stale_tables[i]);
	for (i = 0; i < l7->nr_tables; i++) {
		const struct l7_table_rec *t = &l7->tables[i];

		e = kmesh_table_set(dev_fd, t->table, t->blob, t->len, &fmt);
		if (e) {
			snprintf(err, err_size,
				 "routes of service '%s': the module refused the table: %s",
				 cfg->services[t->svc].name,
				 fmt ? kmesh_route_strerror(fmt) : strerror(-e));
			return -1;
		}
	}
	return 0;
}

int l7_fill(const struct mesh_config *cfg, const struct l4_gen *gen,
	    __u32 slot, struct l7_gen *l7, int dev_fd,
	    const struct l7_images *img, struct l7_apply *a,
	    char *err, size_t err_size)
{
	int names_fd, e;

	memset(a, 0, sizeof(*a));
	a->policy_fd = a->cidrs_fd = a->inbound_fd = -1;
	if (take_maps(a, slot, img, err, err_size))
		return -1;
	if (dev_fd >= 0 && push_tables(cfg, l7, dev_fd, err, err_size))
		return -1;
	a->nr_policies = l7->nr_pols;
	a->nr_tables = l7->nr_tables;
	/* the workloads these policies protect where requests arrive, and
	 * what their L4 part refuses at the door (into the CIDR map) */
	a->inbound_fd = inbound_prepare(cfg, gen, slot, &l7->cidrs,
					img ? img->inbound : NULL,
					&a->inbound_fresh, &a->nr_workloads,
					err, err_size);
	if (a->inbound_fd < 0)
		return -1;
	/* The slot's map holds this very output (taken again by
	 * l7_rebind()): nothing to compare, 13 KB per policy. */
	if (img && l7->serial && img->policy->source == l7->serial)
		e = 0;
	else
		e = gen_map_sync_arrays(a->policy_fd, img ? img->policy : NULL, false,
					l7->pol_ids, l7->pols, l7->nr_pols,
					sizeof(*l7->pol_ids), sizeof(*l7->pols));
	if (!e && img)
		img->policy->source = l7->serial;
	if (!e)
		e = gen_map_sync(a->cidrs_fd, img ? img->cidrs : NULL, false,
				 l7->cidrs.v, l7->cidrs.n, sizeof(*l7->cidrs.v),
				 offsetof(struct l7_cidr_entry, key),
				 sizeof(l7->cidrs.v->key),
				 offsetof(struct l7_cidr_entry, sets),
				 sizeof(l7->cidrs.v->sets));
	if (e) {
		snprintf(err, err_size, "L7 policies and address lists: %s",
			 strerror(-e));
		return -1;
	}
	names_fd = kmesh_map_fd("kmesh_l7_names");
	if (names_fd >= 0) {	/* names only label stats: errors do not count */
		/* the map only grows (names of old ids label their counters) */
		if (img)
			gen_map_image_bind(img->names, names_fd);
		gen_map_sync(names_fd, img ? img->names : NULL, true, l7->names,
			     l7->nr_names, sizeof(*l7->names),
			     offsetof(struct l7_name_rec, key), sizeof(l7->names->key),
			     offsetof(struct l7_name_rec, val), sizeof(l7->names->val));
		close(names_fd);
	} else if (img) {
		gen_map_image_reset(img->names);
	}
	return 0;
}

int l7_install(struct l7_apply *a, __u32 slot, char *err, size_t err_size)
{
	static const char *const outer[] = { "kmesh_l7_policy", "kmesh_l7_cidrs" };
	bool fresh[2] = { a->policy_fresh, a->cidrs_fresh };
	int fds[2] = { a->policy_fd, a->cidrs_fd }, i, fd, e;

	for (i = 0; i < 2; i++) {
		if (!fresh[i])
			continue;
		fd = kmesh_map_fd(outer[i]);
		if (fd < 0) {
			snprintf(err, err_size, "%s: %s (run kmeshctl up to repair)",
				 outer[i], strerror(-fd));
			return -1;
		}
		e = gen_map_install(fd, slot, fds[i]);
		close(fd);
		if (e) {
			snprintf(err, err_size, "install L7 maps: %s", strerror(-e));
			return -1;
		}
	}
	if (a->inbound_fresh && inbound_install(a->inbound_fd, slot, err, err_size))
		return -1;
	return 0;
}

void l7_apply_free(struct l7_apply *a)
{
	if (a->policy_fd >= 0)
		close(a->policy_fd);
	if (a->cidrs_fd >= 0)
		close(a->cidrs_fd);
	if (a->inbound_fd >= 0)
		close(a->inbound_fd);
	a->policy_fd = a->cidrs_fd = a->inbound_fd = -1;
}

/* ---- reading ---- */

int l7_read_stats(struct l7_stat_entry **v, size_t *n)
{
	struct kmesh_l7_stats_key key, next;
	struct l7_stat_entry *arr = NULL, *na;
	struct kmesh_l7_stats *per;
	size_t cnt = 0, cap = 0, f;
	void *prev = NULL, *buf;
	int ncpu, fd, c, rc;

	*v = NULL;
	*n = 0;
	rc = kmesh_percpu_open("kmesh_l7_stats", sizeof(*per), &fd, &buf, &ncpu);
	if (rc)
		return rc;
	per = buf;
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

int l7_read_route_limits(__u32 slot, __u32 service_id,
			 struct kmesh_l7_route_limit *out, size_t max)
{
	struct kmesh_l7_policy *pol = malloc(sizeof(*pol));
	int outer, fd, rc;
	__u32 id;

	if (!pol)
		return -ENOMEM;
	outer = kmesh_map_fd("kmesh_l7_policy");
	if (outer < 0) {
		free(pol);
		return outer;
	}
	rc = bpf_map_lookup_elem(outer, &slot, &id) ? -errno : 0;
	close(outer);
	fd = rc ? rc : bpf_map_get_fd_by_id(id);
	if (fd < 0) {
		free(pol);
		return rc ? rc : -errno;
	}
	rc = bpf_map_lookup_elem(fd, &service_id, pol) ? -errno : 0;
	close(fd);
	if (!rc) {
		rc = pol->nr_route_limits < KMESH_L7_MAX_ROUTE_LIMITS ?
		     pol->nr_route_limits : KMESH_L7_MAX_ROUTE_LIMITS;
		if ((size_t)rc > max)
			rc = (int)max;
		memcpy(out, pol->route_limits, (size_t)rc * sizeof(*out));
	}
	free(pol);
	return rc;
}

int l7_read_global(__u64 out[KMESH_L7_G_MAX])
{
	return kmesh_percpu_sum_u64("kmesh_l7_global", out, KMESH_L7_G_MAX);
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
		[KMESH_L7_R_RATE_LIMITED] = "rate_limited",
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
