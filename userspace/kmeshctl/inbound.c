// SPDX-License-Identifier: GPL-2.0-only
/* `status`, `stats` and metrics of the destination's check (inbound
 * authorization, docs/config.md "Where each rule is enforced"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbound_bpf.h"
#include "kmeshctl.h"
#include "l4_bpf.h"
#include "mode.h"

void inbound_status_print(void)
{
	__u64 g[KMESH_IN_G_MAX];
	const char *mode;

	if (!inbound_attached()) {
		printf("inbound authz: not running (kmeshctl up)\n");
		return;
	}
	mode = kmesh_mode_running();
	printf("inbound authz: on receive at protected workloads (sk_skb stream parser+verdict, %s)\n"
	       "  http requests to an endpoint of a service with authorization, accepted in the meshed cgroup, are checked before the application reads them;\n"
	       "  source-only rules refuse the connection at the door (SYN dropped by cgroup_skb/ingress, before accept());\n"
	       "  local meshed clients of http service ports are checked by their own sk_msg (source) and not again\n",
	       mode && !strcmp(mode, "kfunc") ? "the module's parser (kfunc)" : "eBPF parser");
	if (inbound_accept_hooked())
		printf("  accepted sockets: the kmesh module's recvmsg (fexit on inet_accept): blocking reads never get the stream parser's spurious EAGAIN; bytes before accept() are parsed at once\n");
	else if (mode && !strcmp(mode, "kfunc"))
		printf("  accepted sockets: the kmesh module's recvmsg (inherited from the listener, taken at its first SYN by the door): blocking reads never get the stream parser's spurious EAGAIN; bytes before accept() are parsed at once\n");
	else
		printf("  accepted sockets: no module hook (module not loaded, or no BPF trampolines and no kfuncs from cgroup_skb): a blocking read may get EAGAIN when bytes wait for the stream parser's work; data before accept() is checked at the door and passed to a server seen taking its sockets non-blocking, else dropped until the application accepts (the client retransmits it)\n");
	if (!inbound_read_global(g))
		printf("  %llu connections refused at the door, %llu checked on receive, %llu left to the source check; %llu request heads checked, %llu denied, %llu invalid (%llu answered, %llu dropped)\n",
		       (unsigned long long)g[KMESH_IN_G_L4_REFUSED],
		       (unsigned long long)g[KMESH_IN_G_CONNS],
		       (unsigned long long)g[KMESH_IN_G_SOURCE],
		       (unsigned long long)g[KMESH_IN_G_REQUESTS],
		       (unsigned long long)g[KMESH_IN_G_DENIED],
		       (unsigned long long)g[KMESH_IN_G_BAD],
		       (unsigned long long)g[KMESH_IN_G_REPLIED],
		       (unsigned long long)g[KMESH_IN_G_DROPPED]);
}

static const char *svc_name(const struct l4_id_entry *ids, size_t n, __u32 id,
			    char *buf, size_t size)
{
	const char *s = l4_id_name(ids, n, KMESH_L4_KIND_SERVICE, id);

	if (s)
		return s;
	snprintf(buf, size, "id-%u", id);
	return buf;
}

static int cmp_stat(const void *a, const void *b)
{
	const struct inbound_stat_entry *x = a, *y = b;

	return x->service_id < y->service_id ? -1 : x->service_id > y->service_id;
}

void inbound_stats_print(bool prometheus)
{
	struct inbound_stat_entry *v = NULL;
	struct l4_id_entry *ids = NULL;
	__u64 g[KMESH_IN_G_MAX];
	struct l4_handle h;
	size_t n = 0, nids = 0, i;
	char err[256], b[80];
	unsigned int c;

	if (inbound_read_global(g))
		return;		/* no inbound maps pinned: an older state */
	inbound_read_stats(&v, &n);
	qsort(v, n, sizeof(*v), cmp_stat);
	if (!l4_open(&h, err, sizeof(err))) {
		l4_read_registry(&h, &ids, &nids);
		l4_close(&h);
	}
	if (prometheus) {
		printf("# HELP kmesh_http_authz_total HTTP requests by authorization decision, by who decided: reporter=destination is the check on receive at the workload (direction=inbound); the source's decisions are kmesh_http_requests_total.\n");
		printf("# TYPE kmesh_http_authz_total counter\n");
		for (i = 0; i < n; i++) {
			static const char *const dec[] = { "allowed", "denied", "invalid", "connection_refused" };
			const __u64 val[] = { v[i].val.allowed, v[i].val.denied, v[i].val.bad,
					      v[i].val.l4_refused };

			for (c = 0; c < 4; c++)
				printf("kmesh_http_authz_total{service=\"%s\",reporter=\"destination\",direction=\"inbound\",decision=\"%s\"} %llu\n",
				       svc_name(ids, nids, v[i].service_id, b, sizeof(b)),
				       dec[c], (unsigned long long)val[c]);
		}
		for (c = 0; c < KMESH_IN_G_MAX; c++) {
			printf("# HELP kmesh_http_inbound_%s_total The destination's check on receive, node-wide: %s (docs/observability.md).\n",
			       inbound_global_name(c), inbound_global_name(c));
			printf("# TYPE kmesh_http_inbound_%s_total counter\n",
			       inbound_global_name(c));
			printf("kmesh_http_inbound_%s_total %llu\n",
			       inbound_global_name(c), (unsigned long long)g[c]);
		}
	} else {
		for (i = 0; i < n; i++)
			printf("inbound %s: allowed %llu denied %llu invalid %llu connections_refused %llu\n",
			       svc_name(ids, nids, v[i].service_id, b, sizeof(b)),
			       (unsigned long long)v[i].val.allowed,
			       (unsigned long long)v[i].val.denied,
			       (unsigned long long)v[i].val.bad,
			       (unsigned long long)v[i].val.l4_refused);
		printf("inbound node:");
		for (c = 0; c < KMESH_IN_G_MAX; c++)
			printf(" %s %llu", inbound_global_name(c),
			       (unsigned long long)g[c]);
		printf("\n");
	}
	free(ids);
	free(v);
}
