// SPDX-License-Identifier: GPL-2.0-only
/*
 * Localities ("region/zone/subzone") and how far an endpoint's is from the
 * node's: what keeps a cluster's new connections in the nearest tier that
 * has a healthy endpoint (l4_build.c orders the endpoints by it).
 */
#include <string.h>

#include "mesh_config.h"

#define PART_MAX 63

static bool part_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

const char *mesh_locality_check(const char *s, char out[MESH_LOCALITY_LEN])
{
	size_t parts = 1, len = 0, i;

	if (!*s)
		return "empty: write region, region/zone or region/zone/subzone";
	for (i = 0; s[i]; i++) {
		if (s[i] == '/') {
			if (!len)
				return "an empty part: write region, region/zone or region/zone/subzone";
			if (++parts > 3)
				return "more than three parts (region/zone/subzone)";
			len = 0;
			continue;
		}
		if (!part_char(s[i]))
			return "a part may hold only A-Z a-z 0-9 - _ .";
		if (++len > PART_MAX)
			return "a part is longer than 63 characters";
	}
	if (!len)
		return "an empty part: write region, region/zone or region/zone/subzone";
	memcpy(out, s, i + 1);
	return NULL;
}

/* Length of part @n (0 region, 1 zone, 2 subzone) of @l, at *@at. */
static size_t part(const char *l, int n, const char **at)
{
	const char *end;

	while (n-- > 0) {
		l = strchr(l, '/');
		if (!l) {
			*at = "";
			return 0;
		}
		l++;
	}
	end = strchr(l, '/');
	*at = l;
	return end ? (size_t)(end - l) : strlen(l);
}

static bool same_part(const char *a, const char *b, int n)
{
	const char *pa, *pb;
	size_t la = part(a, n, &pa), lb = part(b, n, &pb);

	return la == lb && !memcmp(pa, pb, la);
}

unsigned int mesh_locality_tier(const char *node, const char *ep,
				const struct mesh_locality_failover *failover,
				size_t nr_failover)
{
	const char *region;
	size_t len, i;

	if (!*ep)
		return 4;
	if (same_part(node, ep, 0)) {
		if (!same_part(node, ep, 1))
			return 2;
		return same_part(node, ep, 2) ? 0 : 1;
	}
	len = part(node, 0, &region);
	for (i = 0; i < nr_failover; i++) {
		const char *to;

		if (strlen(failover[i].from) != len ||
		    memcmp(failover[i].from, region, len))
			continue;
		len = part(ep, 0, &to);
		return strlen(failover[i].to) == len &&
		       !memcmp(failover[i].to, to, len) ? 3 : 4;
	}
	return 4;
}
