// SPDX-License-Identifier: GPL-2.0-only
/* Addresses and CIDRs of the mesh model, as text and as 16 bytes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_config.h"

bool mesh_addr_is_v4(const __u32 addr[4])
{
	return !addr[0] && !addr[1] && addr[2] == htonl(0xffff);
}

int mesh_addr_parse(const char *text, __u32 addr[4])
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, text, &a4) == 1) {
		addr[0] = 0;
		addr[1] = 0;
		addr[2] = htonl(0xffff);
		addr[3] = a4.s_addr;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		memcpy(addr, &a6, 16);
		return 0;
	}
	return -1;
}

void mesh_addr_format(const __u32 addr[4], __u16 port, bool with_port,
		      char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];
	bool v4 = mesh_addr_is_v4(addr);

	if (v4)
		inet_ntop(AF_INET, &addr[3], text, sizeof(text));
	else
		inet_ntop(AF_INET6, addr, text, sizeof(text));
	if (!with_port)
		snprintf(buf, size, "%s", text);
	else if (v4)
		snprintf(buf, size, "%s:%u", text, port);
	else
		snprintf(buf, size, "[%s]:%u", text, port);
}

int mesh_cidr_parse(const char *text, struct mesh_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	bool v4;
	int i;

	if (!text || strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (mesh_addr_parse(buf, out->addr))
		return -1;
	v4 = mesh_addr_is_v4(out->addr) && strchr(buf, '.');
	bits = v4 ? 32 : 128;
	if (slash) {
		if (!slash[1] || slash[1] == '+' || slash[1] == '-')
			return -1;
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > (v4 ? 32UL : 128UL) ||
		    (slash[1] == '0' && slash[2]))
			return -1;
	}
	out->bits = (__u8)(v4 ? 96 + bits : bits);
	/* host bits must be zero: "10.0.0.1/8" is most likely a typo */
	for (i = 0; i < 4; i++) {
		__u32 keep = out->bits >= (i + 1) * 32 ? 0xffffffffU :
			     out->bits <= i * 32 ? 0 :
			     0xffffffffU << (32 - (out->bits - i * 32));

		if (ntohl(out->addr[i]) & ~keep)
			return -1;
	}
	return 0;
}
