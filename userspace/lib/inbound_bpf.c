// SPDX-License-Identifier: GPL-2.0-only
/* Inbound authorization's kernel side: workloads per generation, the
 * sk_skb programs, counters (inbound_bpf.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gen_maps.h"
#include "inbound_bpf.h"
#include "pins.h"

#define PARSER	"kmesh_inbound_parser"
#define PARSER_KF	"kmesh_inbound_parser_kf"	/* same pins as PARSER */
#define VERDICT	"kmesh_inbound_verdict"
#define SOCKS	"kmesh_inbound_socks"
#define INGRESS	"kmesh_inbound_ingress"
#define INGRESS_KF	"kmesh_inbound_ingress_kf"	/* same pins as INGRESS */
#define ACCEPT	"kmesh_inbound_accept"

/* ---- compile ---- */

static bool has_authz(const struct mesh_config *cfg, size_t svc)
{
	size_t j;

	for (j = 0; j < cfg->nr_authz; j++)
		if (cfg->authz[j].service == (int)svc)
			return true;
	return false;
}

static struct inbound_ws_rec *find_ws(struct inbound_ws_rec *v, size_t n,
				      const struct kmesh_inbound_key *k)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(&v[i].key, k, sizeof(*k)))
			return &v[i];
	return NULL;
}

/* ---- L4 at the door ---- */

static int cidr_add(struct l7_cidrs *c, __u32 sid, __u32 dir,
		    const struct mesh_cidr *m, __u64 val)
{
	struct l7_cidr_entry e = {};
	size_t i;

	e.key.prefixlen = 64 + m->bits;
	e.key.service_id = htonl(sid);
	e.key.dir = htonl(dir);
	memcpy(e.key.addr, m->addr, sizeof(e.key.addr));
	e.sets = val;
	for (i = 0; i < c->n; i++)
		if (!memcmp(&c->v[i].key, &e.key, sizeof(e.key)))
			return 0;	/* the first policy to name it is shown */
	if (c->n == KMESH_L7_MAX_CIDRS)
		return -1;
	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 64;
		void *nv = realloc(c->v, nc * sizeof(*c->v));

		if (!nv)
			return -1;
		c->v = nv;
		c->cap = nc;
	}
	c->v[c->n++] = e;
	return 0;
}

/* A from[] entry that names its sources and nothing else. */
static bool plain_source(const struct mesh_authz_source *f)
{
	return f->ip_blocks.n && !f->not_ip_blocks.n;
}

/*
 * Service @svc's L4 part on its http ports (see KMESH_IN_L4_*): entries
 * into @cidrs, the flags returned in *@flags. 0, or -1 when the CIDR list
 * is full. Rules that need more than the source address are decided per
 * request, on receive.
 */
static int l4_compile_http(const struct mesh_config *cfg, size_t svc, __u32 sid,
			   struct l7_cidrs *cidrs, __u8 *flags)
{
	bool has_allow = false, allow_any = false;
	size_t j, r, f, k;

	*flags = 0;
	for (j = 0; j < cfg->nr_authz; j++) {
		const struct mesh_authz *a = &cfg->authz[j];

		if (a->service != (int)svc)
			continue;
		if (a->action == MESH_AUTHZ_DENY) {
			for (r = 0; r < a->nr_rules; r++) {
				const struct mesh_authz_rule *ru = &a->rules[r];

				/* no from: every connection, whose client
				 * gets its 403 per request instead */
				if (ru->nr_to || ru->nr_when || !ru->nr_from)
					continue;	/* needs the request */
				for (f = 0; f < ru->nr_from; f++) {
					if (!plain_source(&ru->from[f]))
						continue;
					for (k = 0; k < ru->from[f].ip_blocks.n; k++)
						if (cidr_add(cidrs, sid, KMESH_IN_DIR_L4_DENY,
							     &ru->from[f].ip_blocks.v[k], a->id))
							return -1;
					*flags |= KMESH_IN_L4_DENY;
				}
			}
			continue;
		}
		has_allow = true;
		for (r = 0; r < a->nr_rules && !allow_any; r++) {
			const struct mesh_authz_rule *ru = &a->rules[r];

			if (!ru->nr_from) {
				allow_any = true;	/* any source may match */
				break;
			}
			for (f = 0; f < ru->nr_from; f++)
				if (!plain_source(&ru->from[f]))
					allow_any = true;
		}
	}
	if (!has_allow || allow_any)
		return 0;
	/* every ALLOW rule names its sources: their union is the list */
	for (j = 0; j < cfg->nr_authz; j++) {
		const struct mesh_authz *a = &cfg->authz[j];

		if (a->service != (int)svc || a->action == MESH_AUTHZ_DENY)
			continue;
		for (r = 0; r < a->nr_rules; r++)
			for (f = 0; f < a->rules[r].nr_from; f++)
				for (k = 0; k < a->rules[r].from[f].ip_blocks.n; k++)
					if (cidr_add(cidrs, sid, KMESH_IN_DIR_L4_ALLOW,
						     &a->rules[r].from[f].ip_blocks.v[k], 1))
						return -1;
	}
	*flags |= KMESH_IN_L4_ALLOW;
	return 0;
}

/*
 * The same on its tcp ports, where the door is the whole check: each rule
 * as Istio reads it on TCP traffic (mesh_authz_tcp_rule; apply refused
 * the rules it cannot decide). An ALLOW list that admits nobody refuses
 * every source.
 */
static int l4_compile_tcp(const struct mesh_config *cfg, size_t svc, __u32 sid,
			  struct l7_cidrs *cidrs, __u8 *flags)
{
	static const struct mesh_cidr any = { .bits = 0 };
	bool has_allow = false, allow_any = false;
	struct mesh_tcp_unchecked why;
	size_t j, r, f, k;

	*flags = KMESH_IN_L4_TCP;
	for (j = 0; j < cfg->nr_authz; j++) {
		const struct mesh_authz *a = &cfg->authz[j];
		bool deny = a->action == MESH_AUTHZ_DENY;
		__u32 dir = deny ? KMESH_IN_DIR_TCP_DENY : KMESH_IN_DIR_TCP_ALLOW;
		__u64 val = deny ? a->id : 1;

		if (a->service != (int)svc)
			continue;
		has_allow |= !deny;
		for (r = 0; r < a->nr_rules; r++) {
			const struct mesh_authz_rule *ru = &a->rules[r];

			if (mesh_authz_tcp_rule(cfg, a, r, &why) != MESH_TCP_RULE_SOURCES)
				continue;
			*flags |= deny ? KMESH_IN_L4_DENY : 0;
			if (!ru->nr_from) {
				if (!deny)
					allow_any = true;
				else if (cidr_add(cidrs, sid, dir, &any, val))
					return -1;
				continue;
			}
			for (f = 0; f < ru->nr_from; f++)
				for (k = 0; k < ru->from[f].ip_blocks.n; k++)
					if (cidr_add(cidrs, sid, dir,
						     &ru->from[f].ip_blocks.v[k], val))
						return -1;
		}
	}
	if (has_allow && !allow_any)
		*flags |= KMESH_IN_L4_ALLOW;
	return 0;
}

int inbound_workloads(const struct mesh_config *cfg, const __u32 *service_ids,
		      struct l7_cidrs *cidrs, struct inbound_ws_rec **out,
		      size_t *n, char *err, size_t err_size)
{
	struct inbound_ws_rec *v = NULL, *r;
	size_t nr = 0, cap = 0, i, p, e, k;

	*out = NULL;
	*n = 0;
	for (i = 0; i < cfg->nr_services; i++) {
		const struct mesh_service *s = &cfg->services[i];
		__u8 l4_http = 0, l4_tcp = KMESH_IN_L4_TCP;

		if (!has_authz(cfg, i))
			continue;
		if (cidrs && ((!mesh_service_tcp_only(s) &&
			       l4_compile_http(cfg, i, service_ids[i], cidrs, &l4_http)) ||
			      (mesh_service_has_tcp(s) &&
			       l4_compile_tcp(cfg, i, service_ids[i], cidrs, &l4_tcp)))) {
			snprintf(err, err_size, "service '%s': more than %d address blocks in authorization",
				 s->name, KMESH_L7_MAX_CIDRS);
			goto fail;
		}
		for (p = 0; p < s->nr_ports; p++) {
			const struct mesh_port *mp = &s->ports[p];
			const struct mesh_cluster *c;

			if (mp->cluster < 0 || (size_t)mp->cluster >= cfg->nr_clusters)
				continue;
			c = &cfg->clusters[mp->cluster];
			for (e = 0; e < c->nr_endpoints; e++) {
				const struct mesh_endpoint *ep = &c->endpoints[e];
				struct kmesh_inbound_key key = {};
				struct kmesh_inbound_workload *w;

				memcpy(key.addr, ep->addr, sizeof(key.addr));
				key.port = ep->port ? ep->port : mp->port;
				r = find_ws(v, nr, &key);
				if (!r) {
					if (nr == KMESH_INBOUND_MAX_WORKLOADS) {
						snprintf(err, err_size,
							 "more than %d protected workloads (endpoints of services with authorization)",
							 KMESH_INBOUND_MAX_WORKLOADS);
						goto fail;
					}
					if (nr == cap) {
						size_t nc = cap ? cap * 2 : 64;
						void *nv = realloc(v, nc * sizeof(*v));

						if (!nv) {
							snprintf(err, err_size, "inbound workloads: out of memory");
							goto fail;
						}
						v = nv;
						cap = nc;
					}
					r = &v[nr++];
					memset(r, 0, sizeof(*r));
					r->key = key;
				}
				w = &r->val;
				for (k = 0; k < w->nr; k++)
					if (w->service_id[k] == service_ids[i])
						break;
				if (k < w->nr)
					continue;	/* another port of the same service */
				if (w->nr == KMESH_INBOUND_MAX_SERVICES) {
					char a[64];

					mesh_addr_format(key.addr, key.port, true, a, sizeof(a));
					snprintf(err, err_size,
						 "endpoint %s (cluster '%s') serves more than %d services with authorization (service '%s' is one too many)",
						 a, c->name, KMESH_INBOUND_MAX_SERVICES, s->name);
					goto fail;
				}
				w->service_id[w->nr] = service_ids[i];
				w->svc_port[w->nr] = mp->port;
				w->l4[w->nr] = mp->http ? l4_http : l4_tcp;
				w->nr++;
			}
		}
	}
	*out = v;
	*n = nr;
	return 0;
fail:
	free(v);
	return -1;
}

static const struct gen_map_spec ws_spec = {
	BPF_MAP_TYPE_HASH, "kmesh_in_ws_gen", sizeof(struct kmesh_inbound_key),
	sizeof(struct kmesh_inbound_workload), KMESH_INBOUND_MAX_WORKLOADS,
};

int inbound_prepare(const struct mesh_config *cfg, const struct l4_gen *gen,
		    __u32 slot, struct l7_cidrs *cidrs, struct gen_map_image *img,
		    bool *fresh, size_t *nr, char *err, size_t err_size)
{
	struct inbound_ws_rec *v;
	int outer, fd, e;
	size_t n;

	*fresh = false;
	*nr = 0;
	if (inbound_workloads(cfg, gen->service_ids, cidrs, &v, &n, err, err_size))
		return -1;
	outer = kmesh_map_fd("kmesh_inbound_ws");
	if (outer < 0) {
		snprintf(err, err_size, "kmesh_inbound_ws: %s (run kmeshctl up to repair)",
			 strerror(-outer));
		free(v);
		return -1;
	}
	fd = img ? gen_map_take_image(outer, slot, &ws_spec, fresh, img) :
		   gen_map_take(outer, slot, &ws_spec, fresh);
	close(outer);
	if (fd < 0) {
		snprintf(err, err_size, "inbound workloads for the next generation: %s",
			 strerror(-fd));
		free(v);
		return -1;
	}
	e = gen_map_sync(fd, img, false, v, n, sizeof(*v),
			 offsetof(struct inbound_ws_rec, key), sizeof(v->key),
			 offsetof(struct inbound_ws_rec, val), sizeof(v->val));
	free(v);
	if (e) {
		snprintf(err, err_size, "inbound workloads: %s", strerror(-e));
		close(fd);
		return -1;
	}
	*nr = n;
	return fd;
}

int inbound_install(int fd, __u32 slot, char *err, size_t err_size)
{
	int outer = kmesh_map_fd("kmesh_inbound_ws"), e;

	if (outer < 0) {
		snprintf(err, err_size, "kmesh_inbound_ws: %s (run kmeshctl up to repair)",
			 strerror(-outer));
		return -1;
	}
	e = gen_map_install(outer, slot, fd);
	close(outer);
	if (e) {
		snprintf(err, err_size, "install inbound workloads: %s", strerror(-e));
		return -1;
	}
	return 0;
}

/* ---- up / down ---- */

void inbound_select(struct bpf_object *obj, bool module, bool kfunc)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, ACCEPT);

	if (p)
		bpf_program__set_autoload(p, module);
	p = bpf_object__find_program_by_name(obj, INGRESS);
	if (p)
		bpf_program__set_autoload(p, !kfunc);
	p = bpf_object__find_program_by_name(obj, INGRESS_KF);
	if (p)
		bpf_program__set_autoload(p, kfunc);
	p = bpf_object__find_program_by_name(obj, PARSER);
	if (p)
		bpf_program__set_autoload(p, !kfunc);
	p = bpf_object__find_program_by_name(obj, PARSER_KF);
	if (p)
		bpf_program__set_autoload(p, kfunc);
}

/* The module's hook on accepted sockets (bpf/sockops.bpf.c): a
 * pinned tracing link, replaced on every `up`. */
static int accept_attach(struct bpf_object *obj, char *err, size_t err_size)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, ACCEPT);
	struct bpf_link *link;
	char path[512];
	int rc;

	kmesh_pin_path(path, sizeof(path), "links", ACCEPT);
	unlink(path);
	if (!p || !bpf_program__autoload(p))
		return 0;
	link = bpf_program__attach_trace(p);
	if (!link) {
		snprintf(err, err_size, "attach %s: %s", ACCEPT, strerror(errno));
		return -1;
	}
	rc = bpf_link__pin(link, path);
	bpf_link__destroy(link);
	if (rc) {
		snprintf(err, err_size, "pin %s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}

bool inbound_accept_hooked(void)
{
	char path[512];

	kmesh_pin_path(path, sizeof(path), "links", ACCEPT);
	return access(path, F_OK) == 0;
}

int inbound_attach(struct bpf_object *obj, int cg_fd, char *err, size_t err_size)
{
	static const struct {
		const char *name;
		enum bpf_attach_type type;
	} progs[] = {
		{ PARSER, BPF_SK_SKB_STREAM_PARSER },
		{ VERDICT, BPF_SK_SKB_STREAM_VERDICT },
	};
	struct bpf_map *map = bpf_object__find_map_by_name(obj, SOCKS);
	char path[512];
	size_t i;
	int rc;

	if (!map) {
		snprintf(err, err_size, "BPF object without %s", SOCKS);
		return -1;
	}
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, progs[i].name);

		/* the kfunc variant where it was loaded instead (inbound_select) */
		if (p && !bpf_program__autoload(p) && !strcmp(progs[i].name, PARSER))
			p = bpf_object__find_program_by_name(obj, PARSER_KF);
		if (!p) {
			snprintf(err, err_size, "BPF object without %s", progs[i].name);
			return -1;
		}
		/* replaces an adopted state's program for new sockets */
		if (bpf_prog_attach(bpf_program__fd(p), bpf_map__fd(map),
				    progs[i].type, 0)) {
			snprintf(err, err_size, "attach %s: %s", progs[i].name,
				 strerror(errno));
			return -1;
		}
		kmesh_pin_path(path, sizeof(path), "progs", progs[i].name);
		unlink(path);
		rc = bpf_program__pin(p, path);
		if (rc) {
			snprintf(err, err_size, "pin %s: %s", path, strerror(-rc));
			return -1;
		}
	}
	/* the door: data before accept() (a pinned link, updated in place
	 * when adopting, like the other cgroup programs) */
	{
		struct bpf_program *p = bpf_object__find_program_by_name(obj, INGRESS);
		struct bpf_link *link;
		int fd;

		if (p && !bpf_program__autoload(p))
			p = bpf_object__find_program_by_name(obj, INGRESS_KF);

		if (!p) {
			snprintf(err, err_size, "BPF object without %s", INGRESS);
			return -1;
		}
		kmesh_pin_path(path, sizeof(path), "links", INGRESS);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			rc = bpf_link_update(fd, bpf_program__fd(p), NULL);
			close(fd);
			if (rc) {
				snprintf(err, err_size, "attach %s: %s", INGRESS,
					 strerror(errno));
				return -1;
			}
		} else {
			link = bpf_program__attach_cgroup(p, cg_fd);
			if (!link) {
				snprintf(err, err_size, "attach %s: %s", INGRESS,
					 strerror(errno));
				return -1;
			}
			rc = bpf_link__pin(link, path);
			bpf_link__destroy(link);	/* the pin keeps it attached */
			if (rc) {
				snprintf(err, err_size, "pin %s: %s", path, strerror(-rc));
				return -1;
			}
		}
		kmesh_pin_path(path, sizeof(path), "progs", INGRESS);
		unlink(path);
		rc = bpf_program__pin(p, path);
		if (rc) {
			snprintf(err, err_size, "pin %s: %s", path, strerror(-rc));
			return -1;
		}
	}
	return accept_attach(obj, err, err_size);
}

void inbound_detach(void)
{
	static const struct {
		const char *name;
		enum bpf_attach_type type;
	} progs[] = {
		{ VERDICT, BPF_SK_SKB_STREAM_VERDICT },
		{ PARSER, BPF_SK_SKB_STREAM_PARSER },
	};
	char path[512];
	int map_fd, fd;
	size_t i;

	kmesh_pin_path(path, sizeof(path), "links", INGRESS);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		bpf_link_detach(fd);
		close(fd);
	}
	kmesh_pin_path(path, sizeof(path), "links", ACCEPT);
	unlink(path);	/* a tracing link goes with its last reference */
	map_fd = kmesh_map_fd(SOCKS);
	if (map_fd < 0)
		return;
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		kmesh_pin_path(path, sizeof(path), "progs", progs[i].name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		bpf_prog_detach2(fd, map_fd, progs[i].type);
		close(fd);
	}
	close(map_fd);
}

bool inbound_attached(void)
{
	char path[512];

	kmesh_pin_path(path, sizeof(path), "progs", VERDICT);
	return access(path, F_OK) == 0;
}

/* ---- counters ---- */

int inbound_read_global(__u64 out[KMESH_IN_G_MAX])
{
	return kmesh_percpu_sum_u64("kmesh_inbound_global", out, KMESH_IN_G_MAX);
}

int inbound_read_stats(struct inbound_stat_entry **v, size_t *n)
{
	struct inbound_stat_entry *out = NULL;
	struct kmesh_inbound_stats *per;
	__u32 key, next, *prev = NULL;
	size_t nr = 0, cap = 0;
	int ncpu, fd, c, rc;
	void *buf;

	*v = NULL;
	*n = 0;
	rc = kmesh_percpu_open("kmesh_inbound_stats", sizeof(*per), &fd, &buf, &ncpu);
	if (rc)
		return rc;
	per = buf;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct inbound_stat_entry *e;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, per))
			continue;
		if (nr == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *nv = realloc(out, nc * sizeof(*out));

			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			out = nv;
			cap = nc;
		}
		e = &out[nr++];
		memset(e, 0, sizeof(*e));
		e->service_id = key;
		for (c = 0; c < ncpu; c++) {
			e->val.allowed += per[c].allowed;
			e->val.denied += per[c].denied;
			e->val.bad += per[c].bad;
			e->val.l4_refused += per[c].l4_refused;
		}
	}
	free(per);
	close(fd);
	if (rc) {
		free(out);
		return rc;
	}
	*v = out;
	*n = nr;
	return 0;
}

const char *inbound_global_name(unsigned int i)
{
	static const char *const names[KMESH_IN_G_MAX] = {
		[KMESH_IN_G_CONNS] = "connections",
		[KMESH_IN_G_SOURCE] = "source_checked",
		[KMESH_IN_G_REQUESTS] = "requests",
		[KMESH_IN_G_ALLOWED] = "allowed",
		[KMESH_IN_G_DENIED] = "denied",
		[KMESH_IN_G_BAD] = "bad",
		[KMESH_IN_G_REPLIED] = "replied",
		[KMESH_IN_G_DROPPED] = "dropped",
		[KMESH_IN_G_DEAD] = "dead_frames",
		[KMESH_IN_G_UNCHECKED] = "unchecked",
		[KMESH_IN_G_INTERNAL] = "internal_drops",
		[KMESH_IN_G_NO_STATE] = "no_state",
		[KMESH_IN_G_EARLY] = "early_drops",
		[KMESH_IN_G_L4_REFUSED] = "l4_refused",
	};

	return i < KMESH_IN_G_MAX ? names[i] : "?";
}
