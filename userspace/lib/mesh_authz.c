// SPDX-License-Identifier: GPL-2.0-only
/* The authorization: section of the mesh file (AuthorizationPolicy-like):
 * policies of services, their rules' from, to and when. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_reader.h"

/* ---- from: [{source: {...}}] and to: [{operation: {...}}] ---- */

static const struct mesh_field source_fields[] = {
	MESH_LIST("ip_blocks", MESH_T_CIDRS, struct mesh_authz_source, ip_blocks),
	MESH_LIST("not_ip_blocks", MESH_T_CIDRS, struct mesh_authz_source,
		  not_ip_blocks),
};
static const struct mesh_schema source_schema = MESH_SCHEMA(source_fields);

static const struct mesh_field operation_fields[] = {
	MESH_LIST("methods", MESH_T_METHODS, struct mesh_authz_operation, methods),
	MESH_LIST("not_methods", MESH_T_METHODS, struct mesh_authz_operation,
		  not_methods),
	MESH_PATTERNS("paths", struct mesh_authz_operation, paths, MESH_PAT_PATH),
	MESH_PATTERNS("not_paths", struct mesh_authz_operation, not_paths,
		      MESH_PAT_PATH),
	MESH_PATTERNS("hosts", struct mesh_authz_operation, hosts, MESH_PAT_HOST),
	MESH_PATTERNS("not_hosts", struct mesh_authz_operation, not_hosts,
		      MESH_PAT_HOST),
	MESH_LIST("ports", MESH_T_PORTS, struct mesh_authz_operation, ports),
	MESH_LIST("not_ports", MESH_T_PORTS, struct mesh_authz_operation,
		  not_ports),
};
static const struct mesh_schema operation_schema = MESH_SCHEMA(operation_fields);

/* The one mapping inside {@wrapper: {...}}, read with @schema. */
static int read_wrapped(struct mesh_reader *r, yaml_node_t *node,
			const char *path, const char *wrapper,
			const struct mesh_schema *schema, void *obj)
{
	char ipath[MESH_PATH_LEN];
	yaml_node_t *k, *inner;
	const char *key;

	if (node->type != YAML_MAPPING_NODE ||
	    node->data.mapping.pairs.top - node->data.mapping.pairs.start != 1)
		return mesh_fail(r, node, path, "expected {%s: {...}}", wrapper);
	k = mesh_node(r, node->data.mapping.pairs.start->key);
	key = k ? mesh_scalar(k) : NULL;
	if (!key || strcmp(key, wrapper)) {
		mesh_subpath(ipath, path, key ? key : "?");
		return mesh_fail(r, k ? k : node, ipath,
				 "unknown field (expected one of: %s)", wrapper);
	}
	mesh_subpath(ipath, path, wrapper);
	inner = mesh_node(r, node->data.mapping.pairs.start->value);
	if (!inner)
		return mesh_fail(r, node, ipath, "expected a mapping");
	return mesh_read_fields(r, inner, ipath, schema, obj, NULL, NULL);
}

static int from_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	(void)ctx;
	return read_wrapped(r, item, path, "source", &source_schema,
			    &((struct mesh_authz_source *)items)[i]);
}

static int to_item(struct mesh_reader *r, yaml_node_t *item,
		   const char *path, void *items, size_t i, void *ctx)
{
	(void)ctx;
	return read_wrapped(r, item, path, "operation", &operation_schema,
			    &((struct mesh_authz_operation *)items)[i]);
}

/* ---- when: [{key, values, not_values}] ---- */

/* values and not_values are read once the key says what they hold. */
struct when_read {
	yaml_node_t *values, *not_values;
	char vpath[MESH_PATH_LEN], npath[MESH_PATH_LEN];
};

static int read_when_key(struct mesh_reader *r, yaml_node_t *v,
			 const char *path, void *obj, void *ctx)
{
	static const char hdr[] = "request.headers[";
	struct mesh_authz_when *w = obj;
	const char *s = mesh_scalar(v);
	char name[KMESH_RT_MAX_NAME_LEN + 2];
	size_t n;

	(void)ctx;
	if (s && !strcmp(s, "source.ip")) {
		w->key = MESH_WHEN_SOURCE_IP;
	} else if (s && !strcmp(s, "destination.ip")) {
		w->key = MESH_WHEN_DEST_IP;
	} else if (s && !strcmp(s, "destination.port")) {
		w->key = MESH_WHEN_DEST_PORT;
	} else if (s && !strncmp(s, hdr, sizeof(hdr) - 1) &&
		   (n = strlen(s)) > sizeof(hdr) && s[n - 1] == ']' &&
		   n - sizeof(hdr) <= KMESH_RT_MAX_NAME_LEN) {
		memcpy(name, s + sizeof(hdr) - 1, n - sizeof(hdr));
		name[n - sizeof(hdr)] = '\0';
		w->key = MESH_WHEN_HEADER;
		return mesh_read_header_name(r, v, path, name, w->header);
	} else {
		return mesh_fail(r, v, path, "expected request.headers[NAME], source.ip, destination.ip or destination.port");
	}
	return 0;
}

static int read_when_values(struct mesh_reader *r, yaml_node_t *v,
			    const char *path, void *obj, void *ctx)
{
	struct when_read *wr = ctx;

	(void)r;
	(void)obj;
	wr->values = v;
	snprintf(wr->vpath, sizeof(wr->vpath), "%s", path);
	return 0;
}

static int read_when_not_values(struct mesh_reader *r, yaml_node_t *v,
				const char *path, void *obj, void *ctx)
{
	struct when_read *wr = ctx;

	(void)r;
	(void)obj;
	wr->not_values = v;
	snprintf(wr->npath, sizeof(wr->npath), "%s", path);
	return 0;
}

static const struct mesh_field when_fields[] = {
	MESH_CUSTOM("key", read_when_key, true),
	MESH_CUSTOM("values", read_when_values, false),
	MESH_CUSTOM("not_values", read_when_not_values, false),
};
static const struct mesh_schema when_schema = MESH_SCHEMA(when_fields);

/* Istio writes ports as strings: take "80" and 80 alike. */
static int when_port_item(struct mesh_reader *r, yaml_node_t *item,
			  const char *path, void *items, size_t i, void *ctx)
{
	const char *s = mesh_scalar(item);
	unsigned long v;
	char *end = NULL;

	(void)ctx;
	v = s && *s >= '1' && *s <= '9' ? strtoul(s, &end, 10) : 0;
	if (!v || *end || v > 65535)
		return mesh_fail(r, item, path, "expected a port 1..65535");
	((__u16 *)items)[i] = (__u16)v;
	return 0;
}

static int when_values(struct mesh_reader *r, struct mesh_authz_when *w,
		       yaml_node_t *node, const char *path, bool not)
{
	static const struct mesh_list ports = {
		MESH_L7_MAX_PORTS, sizeof(__u16), "expected at least one port",
	};
	struct mesh_port_list *l = not ? &w->not_ports : &w->ports;

	switch (w->key) {
	case MESH_WHEN_HEADER:
		return mesh_read_patterns(r, node, path, MESH_PAT_VALUE,
					  not ? &w->not_values : &w->values);
	case MESH_WHEN_DEST_PORT:
		return mesh_read_list(r, node, path, &ports, &l->v, &l->n,
				      when_port_item, NULL);
	default:
		return mesh_read_cidrs(r, node, path,
				       not ? &w->not_cidrs : &w->cidrs);
	}
}

static int when_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_authz_when *w = &((struct mesh_authz_when *)items)[i];
	struct when_read wr = {};

	(void)ctx;
	w->line = mesh_line(item);
	if (mesh_read_fields(r, item, path, &when_schema, w, &wr, NULL))
		return -1;
	if (!wr.values && !wr.not_values)
		return mesh_fail(r, item, path, "expected values or not_values");
	if ((wr.values && when_values(r, w, wr.values, wr.vpath, false)) ||
	    (wr.not_values && when_values(r, w, wr.not_values, wr.npath, true)))
		return -1;
	return 0;
}

/* ---- rules and policies ---- */

#define RULE_PART(field, type, item_fn)					\
static int read_rule_##field(struct mesh_reader *r, yaml_node_t *v,	\
			     const char *path, void *obj, void *ctx)	\
{									\
	static const struct mesh_list l = {				\
		MESH_L7_MAX_RULE_PARTS, sizeof(type),			\
		"expected at least one entry (leave " #field " out instead)", \
	};								\
	struct mesh_authz_rule *rule = obj;				\
									\
	(void)ctx;							\
	return mesh_read_list(r, v, path, &l, &rule->field,		\
			      &rule->nr_##field, item_fn, NULL);	\
}
RULE_PART(from, struct mesh_authz_source, from_item)
RULE_PART(to, struct mesh_authz_operation, to_item)
RULE_PART(when, struct mesh_authz_when, when_item)

static const struct mesh_field rule_fields[] = {
	MESH_CUSTOM("from", read_rule_from, false),
	MESH_CUSTOM("to", read_rule_to, false),
	MESH_CUSTOM("when", read_rule_when, false),
};
static const struct mesh_schema rule_schema = MESH_SCHEMA(rule_fields);

static int rule_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_authz_rule *rule = &((struct mesh_authz_rule *)items)[i];

	(void)ctx;
	rule->line = mesh_line(item);
	return mesh_read_fields(r, item, path, &rule_schema, rule, NULL, NULL);
}

static int read_policy_service(struct mesh_reader *r, yaml_node_t *v,
			       const char *path, void *obj, void *ctx)
{
	struct mesh_authz *a = obj;
	struct mesh_l7_refs *refs = ctx;

	if (mesh_add_ref(r, v, path, refs, &a->service, true))
		return -1;
	refs->v[refs->n - 1].authz = true;
	return 0;
}

static int read_policy_rules(struct mesh_reader *r, yaml_node_t *v,
			     const char *path, void *obj, void *ctx)
{
	static const struct mesh_list l = {
		MESH_MAX_POLICY_RULES, sizeof(struct mesh_authz_rule), NULL,
	};
	struct mesh_authz *a = obj;

	(void)ctx;
	return mesh_read_list(r, v, path, &l, &a->rules, &a->nr_rules,
			      rule_item, NULL);
}

static const char *const policy_actions[] = {
	[MESH_AUTHZ_ALLOW] = "ALLOW",
	[MESH_AUTHZ_DENY] = "DENY",
};

static const struct mesh_field policy_fields[] = {
	MESH_NAME("name", struct mesh_authz, name, true),
	MESH_CUSTOM("service", read_policy_service, true),
	MESH_ENUM("action", struct mesh_authz, action, policy_actions),
	MESH_CUSTOM("rules", read_policy_rules, false),
};
static const struct mesh_schema policy_schema = MESH_SCHEMA(policy_fields);

static int policy_item(struct mesh_reader *r, yaml_node_t *item,
		       const char *path, void *items, size_t i, void *ctx)
{
	struct mesh_authz *a = &((struct mesh_authz *)items)[i];

	a->line = mesh_line(item);
	a->service = -1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return mesh_read_fields(r, item, path, &policy_schema, a, ctx, NULL);
}

int mesh_read_authz(struct mesh_reader *r, yaml_node_t *v, const char *path,
		    struct mesh_config *cfg, struct mesh_l7_refs *refs)
{
	static const struct mesh_list l = {
		MESH_L7_MAX_POLICIES, sizeof(struct mesh_authz), NULL,
	};

	return mesh_read_list(r, v, path, &l, &cfg->authz, &cfg->nr_authz,
			      policy_item, refs);
}

/*
 * A policy of a service with tcp ports only is checked at the door (the
 * SYN), from the source address alone: each rule may only name
 * from.source.ip_blocks. Anything else is refused, naming the field,
 * never ignored: the fields that need a request (HTTP) cannot hold on a
 * byte stream, and the other L4 ones are not compiled for the door yet.
 */
static int check_tcp_authz(struct mesh_reader *r, const struct mesh_config *cfg,
			   const struct mesh_authz *a)
{
	const struct mesh_service *s = &cfg->services[a->service];
	size_t ri, k;

	for (ri = 0; ri < a->nr_rules; ri++) {
		const struct mesh_authz_rule *ru = &a->rules[ri];
		const char *field = NULL, *why = "needs an HTTP request";
		char path[MESH_PATH_LEN + 64];

		for (k = 0; k < ru->nr_to && !field; k++) {
			const struct mesh_authz_operation *o = &ru->to[k];

			snprintf(path, sizeof(path), "%s.rules[%zu].to[%zu].operation",
				 a->path, ri, k);
			field = o->methods ? "methods" : o->not_methods ? "not_methods" :
				o->paths.n ? "paths" : o->not_paths.n ? "not_paths" :
				o->hosts.n ? "hosts" : o->not_hosts.n ? "not_hosts" : NULL;
			if (!field) {
				why = "is not checked at the door yet";
				field = o->ports.n ? "ports" : o->not_ports.n ? "not_ports" : NULL;
			} else {
				why = "needs an HTTP request";
			}
		}
		for (k = 0; k < ru->nr_when && !field; k++) {
			snprintf(path, sizeof(path), "%s.rules[%zu].when[%zu]", a->path, ri, k);
			field = "key";
			why = ru->when[k].key == MESH_WHEN_HEADER ? "needs an HTTP request" :
			      "is not checked at the door yet";
		}
		for (k = 0; k < ru->nr_from && !field; k++) {
			snprintf(path, sizeof(path), "%s.rules[%zu].from[%zu].source",
				 a->path, ri, k);
			why = "is not checked at the door yet";
			if (ru->from[k].not_ip_blocks.n)
				field = "not_ip_blocks";
			else if (!ru->from[k].ip_blocks.n)
				field = "ip_blocks";
			if (field && !ru->from[k].not_ip_blocks.n)
				why = "is required";
		}
		if (field)
			return mesh_fail_at(r, ru->line, path,
					    "%s %s: service '%s' has tcp ports only, where a policy is checked at L4 (the connection's SYN), from the source address alone (from.source.ip_blocks)",
					    field, why, s->name);
	}
	return 0;
}


/* How many of service @s's tcp ports are in @in and not in @out. */
static size_t tcp_ports_in(const struct mesh_service *s,
			   const struct mesh_port_list *in,
			   const struct mesh_port_list *out, size_t *nr_tcp)
{
	size_t p, k, m = 0;

	*nr_tcp = 0;
	for (p = 0; p < s->nr_ports; p++) {
		bool hit = !in->n, miss = false;

		if (s->ports[p].http)
			continue;
		(*nr_tcp)++;
		for (k = 0; k < in->n; k++)
			hit |= in->v[k] == s->ports[p].port;
		for (k = 0; k < out->n; k++)
			miss |= out->v[k] == s->ports[p].port;
		m += hit && !miss;
	}
	return m;
}

/* A port condition on the tcp ports: 1 holds on all, 0 on none, -1 mixed. */
static int tcp_ports_hold(const struct mesh_service *s,
			  const struct mesh_port_list *in,
			  const struct mesh_port_list *out)
{
	size_t n, m = tcp_ports_in(s, in, out, &n);

	return m == n ? 1 : m == 0 ? 0 : -1;
}

enum mesh_tcp_rule mesh_authz_tcp_rule(const struct mesh_config *cfg,
				       const struct mesh_authz *a, size_t ri,
				       struct mesh_tcp_unchecked *why)
{
	const struct mesh_service *s = &cfg->services[a->service];
	const struct mesh_authz_rule *ru = &a->rules[ri];
	bool deny = a->action == MESH_AUTHZ_DENY, op_holds = !ru->nr_to;
	size_t k;
	int h;

	for (k = 0; k < ru->nr_to; k++) {
		const struct mesh_authz_operation *o = &ru->to[k];
		bool http = o->methods || o->not_methods || o->paths.n ||
			    o->not_paths.n || o->hosts.n || o->not_hosts.n;

		/* ALLOW: a rule that needs a request admits no connection */
		if (http && !deny)
			return MESH_TCP_RULE_NEVER;
		/* DENY: what needs a request is dropped; the rest decides */
		h = tcp_ports_hold(s, &o->ports, &o->not_ports);
		if (h < 0) {
			snprintf(why->path, sizeof(why->path), "rules[%zu].to[%zu].operation", ri, k);
			why->field = o->ports.n ? "ports" : "not_ports";
			why->why = "holds on some of the service's tcp ports only (the door does not know which service port a client dialed)";
			return MESH_TCP_RULE_UNCHECKED;
		}
		op_holds |= h;
	}
	if (!op_holds)
		return MESH_TCP_RULE_NEVER;
	for (k = 0; k < ru->nr_when; k++) {
		const struct mesh_authz_when *w = &ru->when[k];

		if (w->key == MESH_WHEN_HEADER) {
			if (!deny)
				return MESH_TCP_RULE_NEVER;
			continue;
		}
		snprintf(why->path, sizeof(why->path), "rules[%zu].when[%zu]", ri, k);
		why->field = "key";
		if (w->key != MESH_WHEN_DEST_PORT) {
			why->why = "is not checked at the door yet";
			return MESH_TCP_RULE_UNCHECKED;
		}
		h = tcp_ports_hold(s, &w->ports, &w->not_ports);
		if (h < 0) {
			why->why = "holds on some of the service's tcp ports only (the door does not know which service port a client dialed)";
			return MESH_TCP_RULE_UNCHECKED;
		}
		if (!h)
			return MESH_TCP_RULE_NEVER;
	}
	for (k = 0; k < ru->nr_from; k++) {
		if (ru->from[k].ip_blocks.n && !ru->from[k].not_ip_blocks.n)
			continue;
		snprintf(why->path, sizeof(why->path), "rules[%zu].from[%zu].source", ri, k);
		why->field = ru->from[k].not_ip_blocks.n ? "not_ip_blocks" : "ip_blocks";
		why->why = ru->from[k].not_ip_blocks.n ? "is not checked at the door yet" :
			   "is required";
		return MESH_TCP_RULE_UNCHECKED;
	}
	return MESH_TCP_RULE_SOURCES;
}

/*
 * A policy of a service with http and tcp ports holds on the tcp ports
 * too, at the door, as Istio reads a rule on TCP traffic: a DENY rule
 * drops what needs a request (methods, paths, hosts, request headers) and
 * refuses its sources, an ALLOW rule that needs a request admits nobody.
 * What the door cannot decide from the source address is refused here.
 */
static int check_mixed_authz(struct mesh_reader *r, const struct mesh_config *cfg,
			     const struct mesh_authz *a)
{
	struct mesh_tcp_unchecked why;
	size_t ri;

	for (ri = 0; ri < a->nr_rules; ri++) {
		char path[MESH_PATH_LEN + 96];

		if (mesh_authz_tcp_rule(cfg, a, ri, &why) != MESH_TCP_RULE_UNCHECKED)
			continue;
		snprintf(path, sizeof(path), "%s.%s", a->path, why.path);
		return mesh_fail_at(r, a->rules[ri].line, path,
				    "%s %s: service '%s' has tcp ports too, where its policies are checked at L4 (the connection's SYN), from the source address alone (to keep the rule off them, name the http ports in to.operation.ports)",
				    why.field, why.why, cfg->services[a->service].name);
	}
	return 0;
}

/* Policies: unique names per service, stable ids, the door's limits. */
int mesh_check_authz(struct mesh_reader *r, struct mesh_config *cfg)
{
	char path[MESH_PATH_LEN + 16];
	size_t i, k;

	for (i = 0; i < cfg->nr_authz; i++) {
		struct mesh_authz *a = &cfg->authz[i];
		char id_name[KMESH_NAME_MAX + 8];

		if (mesh_service_tcp_only(&cfg->services[a->service]) ?
		    check_tcp_authz(r, cfg, a) :
		    mesh_service_has_tcp(&cfg->services[a->service]) &&
		    check_mixed_authz(r, cfg, a))
			return -1;
		snprintf(id_name, sizeof(id_name), "authz/%s", a->name);
		a->id = mesh_l7_id(cfg->services[a->service].name, id_name);
		snprintf(path, sizeof(path), "%s.name", a->path);
		for (k = 0; k < i; k++) {
			if (cfg->authz[k].service != a->service)
				continue;
			if (!strcmp(cfg->authz[k].name, a->name))
				return mesh_fail_at(r, a->line, path,
						    "'%s' is also authorization[%zu] of service '%s'",
						    a->name, k, cfg->services[a->service].name);
			if (cfg->authz[k].id == a->id)
				return mesh_fail_at(r, a->line, path,
						    "policy names '%s' and '%s' hash to the same id: rename one",
						    cfg->authz[k].name, a->name);
		}
	}
	return 0;
}

void mesh_authz_free(struct mesh_config *cfg)
{
	size_t i, j, k;

	for (i = 0; i < cfg->nr_authz; i++) {
		struct mesh_authz *a = &cfg->authz[i];

		for (j = 0; j < a->nr_rules; j++) {
			struct mesh_authz_rule *ru = &a->rules[j];

			for (k = 0; k < ru->nr_from; k++) {
				free(ru->from[k].ip_blocks.v);
				free(ru->from[k].not_ip_blocks.v);
			}
			free(ru->from);
			for (k = 0; k < ru->nr_to; k++) {
				struct mesh_authz_operation *o = &ru->to[k];

				mesh_pattern_list_free(&o->paths);
				mesh_pattern_list_free(&o->not_paths);
				mesh_pattern_list_free(&o->hosts);
				mesh_pattern_list_free(&o->not_hosts);
				free(o->ports.v);
				free(o->not_ports.v);
			}
			free(ru->to);
			for (k = 0; k < ru->nr_when; k++) {
				struct mesh_authz_when *w = &ru->when[k];

				mesh_pattern_list_free(&w->values);
				mesh_pattern_list_free(&w->not_values);
				free(w->cidrs.v);
				free(w->not_cidrs.v);
				free(w->ports.v);
				free(w->not_ports.v);
			}
			free(ru->when);
		}
		free(a->rules);
	}
	free(cfg->authz);
}
