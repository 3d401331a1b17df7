// SPDX-License-Identifier: GPL-2.0-only
/*
 * Values that routes and authorization policies share: header names,
 * method lists, port lists, address lists, and Istio's string patterns
 * ("*", "prefix*", "*suffix", exact), each read with its limit from
 * mesh_limits.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mesh_reader.h"
#include "route_build.h"

static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_vchar(char c)
{
	return c > 0x20 && c < 0x7f;
}

/* Header name: a token of 1..64 bytes, stored lower-case. */
int mesh_read_header_name(struct mesh_reader *r, yaml_node_t *node,
			  const char *path, const char *name,
			  char out[KMESH_RT_MAX_NAME_LEN + 1])
{
	size_t i, n = name ? strlen(name) : 0;

	/* The length first: @out has room for KMESH_RT_MAX_NAME_LEN only. */
	for (i = 0; n <= KMESH_RT_MAX_NAME_LEN && i < n && is_tchar(name[i]); i++)
		out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ?
				name[i] + ('a' - 'A') : name[i]);
	if (!n || i < n)
		return mesh_fail(r, node, path,
				 "expected a header name (a token of 1..%d bytes)",
				 KMESH_RT_MAX_NAME_LEN);
	out[n] = '\0';
	return 0;
}

/* A method list: tokens, case-sensitive as in HTTP. */
static int method_item(struct mesh_reader *r, yaml_node_t *item,
		       const char *path, void *items, size_t i, void *ctx)
{
	static const char *const known[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
		"TRACE", "PATCH",
	};
	const char *s = mesh_scalar(item);
	__u32 *out = ctx, bit;
	size_t k;

	(void)items;
	(void)i;
	bit = s ? kmesh_rtb_method_bit(s) : 0;
	for (k = 0; bit && k < sizeof(known) / sizeof(known[0]); k++)
		if (strcasecmp(s, known[k]) == 0 && strcmp(s, known[k]))
			bit = 0;	/* "get": a typo, not a method */
	if (!bit)
		return mesh_fail(r, item, path,
				 "expected an HTTP method such as GET (a token; methods are case-sensitive)");
	*out |= bit;
	return 0;
}

int mesh_read_methods(struct mesh_reader *r, yaml_node_t *node,
		      const char *path, __u32 *out)
{
	static const struct mesh_list l = {
		MESH_L7_MAX_METHODS, 0, "expected at least one method",
	};

	*out = 0;
	return mesh_read_list(r, node, path, &l, NULL, NULL, method_item, out);
}

static int port_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	unsigned long v;

	(void)ctx;
	if (mesh_read_uint(r, item, path, 1, 65535, &v))
		return -1;
	((__u16 *)items)[i] = (__u16)v;
	return 0;
}

int mesh_read_ports(struct mesh_reader *r, yaml_node_t *node,
		    const char *path, struct mesh_port_list *out)
{
	static const struct mesh_list l = {
		MESH_L7_MAX_PORTS, sizeof(__u16), "expected at least one port",
	};

	return mesh_read_list(r, node, path, &l, &out->v, &out->n, port_item,
			      NULL);
}

static int cidr_item(struct mesh_reader *r, yaml_node_t *item,
		     const char *path, void *items, size_t i, void *ctx)
{
	(void)ctx;
	if (mesh_cidr_parse(mesh_scalar(item), &((struct mesh_cidr *)items)[i]))
		return mesh_fail(r, item, path,
				 "expected an IPv4 or IPv6 address or CIDR (10.0.0.0/8, fd00::/16) without host bits");
	return 0;
}

int mesh_read_cidrs(struct mesh_reader *r, yaml_node_t *node,
		    const char *path, struct mesh_cidr_list *out)
{
	static const struct mesh_list l = {
		MESH_L7_MAX_CIDRS, sizeof(struct mesh_cidr),
		"expected at least one address or CIDR",
	};

	return mesh_read_list(r, node, path, &l, &out->v, &out->n, cidr_item,
			      NULL);
}

/* Path bytes as a request can carry them, minus the query. */
const char *mesh_path_chars_problem(const char *s)
{
	for (; *s; s++) {
		if (*s == '?')
			return "holds '?' (the query is never part of the path)";
		if (!is_vchar(*s) || *s == '#')
			return "holds a byte no request path can hold";
	}
	return NULL;
}

const char *mesh_host_chars_problem(const char *s)
{
	for (; *s; s++) {
		if (*s == ':' && !strchr(s, ']'))
			return "has a port (ports are not part of the host here; leave it out)";
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr("-._~[]:", *s)))
			return "has a character a host name cannot hold";
	}
	return NULL;
}

/*
 * Istio string match: "*" (present), "*suffix", "prefix*" or exact. Hosts
 * are lower-cased. Paths must start with '/' unless they are a suffix.
 */
static int get_istio_pattern(struct mesh_reader *r, yaml_node_t *node,
			     const char *path, enum mesh_pat_use use,
			     struct mesh_pattern *out)
{
	const char *why = NULL;
	char *s = NULL, *body;
	size_t n, i;

	if (mesh_read_text(r, node, path, MESH_MAX_VALUE_LEN + 1, false, &s))
		return -1;
	n = strlen(s);
	if (use == MESH_PAT_HOST)
		for (i = 0; i < n; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				s[i] = (char)(s[i] + ('a' - 'A'));
	if (!strcmp(s, "*")) {
		free(s);
		out->kind = MESH_M_PRESENT;
		out->text = NULL;
		return 0;
	}
	body = s;
	if (s[0] == '*') {
		out->kind = MESH_M_SUFFIX;
		memmove(s, s + 1, n--);
	} else if (s[n - 1] == '*') {
		out->kind = MESH_M_PREFIX;
		s[--n] = '\0';
	} else {
		out->kind = MESH_M_EXACT;
	}
	out->text = s;
	if (strchr(body, '*'))
		why = "has a '*' that is neither leading nor trailing";
	else if (n > MESH_MAX_VALUE_LEN)
		why = "is longer than 256 bytes";
	else if (use == MESH_PAT_PATH && out->kind != MESH_M_SUFFIX && body[0] != '/')
		why = "does not start with '/' (or '*' for a suffix)";
	else if (use == MESH_PAT_PATH)
		why = mesh_path_chars_problem(body);
	else if (use == MESH_PAT_HOST)
		why = mesh_host_chars_problem(body);
	else
		for (i = 0; i < n && !why; i++)
			if (!is_vchar(body[i]) && body[i] != ' ' &&
			    body[i] != '\t' && !((unsigned char)body[i] & 0x80))
				why = "holds a control byte";
	if (why)
		return mesh_fail(r, node, path, "\"%s\" %s", mesh_scalar(node), why);
	return 0;
}

static int pattern_item(struct mesh_reader *r, yaml_node_t *item,
			const char *path, void *items, size_t i, void *ctx)
{
	return get_istio_pattern(r, item, path, *(enum mesh_pat_use *)ctx,
				 &((struct mesh_pattern *)items)[i]);
}

int mesh_read_patterns(struct mesh_reader *r, yaml_node_t *node,
		       const char *path, enum mesh_pat_use use,
		       struct mesh_pattern_list *out)
{
	static const struct mesh_list l = {
		MESH_L7_MAX_PATTERNS, sizeof(struct mesh_pattern),
		"expected at least one value",
	};

	return mesh_read_list(r, node, path, &l, &out->v, &out->n,
			      pattern_item, &use);
}

void mesh_pattern_list_free(struct mesh_pattern_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
}
