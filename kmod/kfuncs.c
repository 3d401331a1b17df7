// SPDX-License-Identifier: GPL-2.0-only
/*
 * kfuncs exported to eBPF and their registration.
 *
 * One set, registered for every hook the running kernel offers:
 *  - BPF_PROG_TYPE_UNSPEC: the common hook of Linux >= 6.2, which makes the
 *    set callable from every program type (sk_msg, sockops, sock_addr);
 *  - BPF_PROG_TYPE_SYSCALL and BPF_PROG_TYPE_SCHED_CLS: what Linux 6.1
 *    allows for module kfuncs (syscall programs also serve the selftests).
 */

#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/skmsg.h>

#include "kmesh.h"
#include "core/http1.h"
#include "core/route.h"

u32 kmesh_kfunc_hooks;

/* Our -errno range is the kernel's (kmesh_kfunc.h, "kfunc return values"). */
static_assert(KMESH_KFUNC_ERRNO_MAX == MAX_ERRNO);

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_get_caps - describe this module to a BPF program
 * @caps: where to write the description
 * @caps__sz: size of @caps; must be exactly sizeof(struct kmesh_caps)
 *
 * Return: 0, or -EINVAL when @caps__sz does not match this module's ABI.
 */
__bpf_kfunc int bpf_kmesh_get_caps(struct kmesh_caps *caps, u32 caps__sz)
{
	if (caps__sz != sizeof(*caps))
		return -EINVAL;
	*caps = (struct kmesh_caps) {
		.abi_version = KMESH_KFUNC_ABI_VERSION,
		.hooks = READ_ONCE(kmesh_kfunc_hooks),
		.version_major = KMESH_VERSION_MAJOR,
		.version_minor = KMESH_VERSION_MINOR,
		.version_patch = KMESH_VERSION_PATCH,
	};
	return 0;
}

/* The module's limits, and the options the BPF caller left in @req. */
static void kmesh_http_limits(struct kmesh_http1_limits *lim, const void *req)
{
	u32 opts = READ_ONCE(((const struct kmesh_http_req *)req)->parse_opts);

	*lim = (struct kmesh_http1_limits) {
		.max_head_bytes = READ_ONCE(kmesh_max_head_bytes),
		.max_headers = READ_ONCE(kmesh_max_headers),
		.opts = opts & KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES ?
			KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES : 0,
	};
}

/**
 * bpf_kmesh_http_parse - parse (more of) an HTTP/1.1 request head
 * @req: struct kmesh_http_req holding the parse state and result
 * @req__sz: size of @req; must be exactly sizeof(struct kmesh_http_req)
 * @buf: the head bytes received so far
 * @buf__sz: how many
 *
 * Call again with the grown buffer while it returns KMESH_HTTP_NEED_MORE.
 * @req is void * because the verifier of 6.1 accepts a sized pointer only
 * to void or to a struct of plain scalars, and the result holds an array
 * of span structs.
 *
 * Return: enum kmesh_http_status, or -EINVAL for a size mismatch.
 */
__bpf_kfunc int bpf_kmesh_http_parse(void *req, u32 req__sz,
				     const void *buf, u32 buf__sz)
{
	struct kmesh_http1_limits lim;

	if (req__sz != sizeof(struct kmesh_http_req))
		return -EINVAL;
	kmesh_http_limits(&lim, req);
	return kmesh_http1_parse(req, buf, buf__sz, &lim);
}

/**
 * bpf_kmesh_msg_parse - parse the request head at the start of an sk_msg
 * @md: the sk_msg program's context
 * @req: as for bpf_kmesh_http_parse()
 * @req__sz: as for bpf_kmesh_http_parse()
 *
 * Zero-copy: parses msg->data..data_end in place, i.e. the first
 * scatterlist element, or what bpf_msg_pull_data() made linear. A head
 * longer than that returns NEED_MORE; the program may pull more and retry.
 * Callable only where the verifier lets sk_msg programs call module kfuncs.
 *
 * Return: enum kmesh_http_status, or -EINVAL for a size mismatch.
 */
__bpf_kfunc int bpf_kmesh_msg_parse(struct sk_msg_md *md, void *req,
				    u32 req__sz)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_http1_limits lim;
	u32 len;

	if (req__sz != sizeof(struct kmesh_http_req))
		return -EINVAL;
	if (!msg->data || msg->data_end < msg->data)
		return -EINVAL;
	len = min_t(size_t, msg->data_end - msg->data, U16_MAX);
	kmesh_http_limits(&lim, req);
	return kmesh_http1_parse(req, msg->data, len, &lim);
}

/**
 * bpf_kmesh_route_match - choose a route for a parsed request
 * @req: a struct kmesh_http_req that parsed to KMESH_HTTP_OK
 * @req__sz: size of @req; must be exactly sizeof(struct kmesh_http_req)
 * @head: the head bytes @req was parsed from
 * @head__sz: how many
 * @query: table id, random number and the connection's cluster in,
 *	   verdict out
 *
 * Return: 0 with @query->verdict filled, -ENOENT when no table has that
 * id, -EINVAL for a size mismatch or a NULL @query or @head, or
 * KMESH_KFUNC_ROUTE_ERR(enum kmesh_rt_err) when @req is not a valid parse
 * result.
 */
__bpf_kfunc int bpf_kmesh_route_match(const void *req, u32 req__sz,
				      const void *head, u32 head__sz,
				      struct kmesh_route_query *query)
{
	const void *table;
	u32 len;
	int ret;

	/*
	 * 6.1's verifier lets NULL through for an unsized struct pointer,
	 * and for a sized one with size 0.
	 */
	if (req__sz != sizeof(struct kmesh_http_req) || !query || !head)
		return -EINVAL;
	/* Syscall programs are sleepable and hold only RCU-tasks-trace. */
	rcu_read_lock();
	table = kmesh_table_get(query->table_id, &len);
	if (!table) {
		rcu_read_unlock();
		return -ENOENT;
	}
	ret = kmesh_route_match(table, req, head, head__sz, query->rand,
				&query->verdict);
	if (!ret && query->stay_cluster &&
	    query->verdict.kind == KMESH_RT_V_ROUTE &&
	    !kmesh_route_keeps_cluster(table, &query->verdict,
				       query->stay_cluster))
		query->verdict.flags |= KMESH_RT_VF_OTHER_CLUSTER;
	rcu_read_unlock();
	return kmesh_kfunc_route_ret(ret);
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kmesh_kfunc_ids)
BTF_ID_FLAGS(func, bpf_kmesh_get_caps)
BTF_ID_FLAGS(func, bpf_kmesh_http_parse)
BTF_ID_FLAGS(func, bpf_kmesh_msg_parse)
BTF_ID_FLAGS(func, bpf_kmesh_route_match)
BTF_ID_FLAGS(func, bpf_kmesh_chunk_scan)	/* l7.c */
BTF_ID_FLAGS(func, bpf_kmesh_msg_chunks)	/* l7.c */
BTF_ID_FLAGS(func, bpf_kmesh_h2_parse)		/* h2.c */
BTF_ID_FLAGS(func, bpf_kmesh_h2_begin)		/* h2_conn.c */
BTF_ID_FLAGS(func, bpf_kmesh_h2_step)
BTF_ID_FLAGS(func, bpf_kmesh_h2_info)
BTF_ID_FLAGS(func, bpf_kmesh_h2_deny)
BTF_ID_FLAGS(func, bpf_kmesh_h2_edits)
BTF_ID_FLAGS(func, bpf_kmesh_h2_write)
BTF_ID_FLAGS(func, bpf_kmesh_h2_watch)
BTF_ID_FLAGS(func, bpf_kmesh_h2_release)
BTF_ID_FLAGS(func, bpf_kmesh_defer_connect)	/* defer.c */
BTF_ID_FLAGS(func, bpf_kmesh_deferred_route)	/* defer.c */
BTF_ID_FLAGS(func, bpf_kmesh_deferred_reply)	/* defer.c */
BTF_ID_FLAGS(func, bpf_kmesh_inbound_listener)	/* inbound.c */
BTF_KFUNCS_END(kmesh_kfunc_ids)

static const struct btf_kfunc_id_set kmesh_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kmesh_kfunc_ids,
};

/*
 * Tracing programs (fexit on inet_accept) get their own set: on 6.1 a
 * module has one set per hook, and these kfuncs act on kernel objects
 * that only a tracing program's arguments provide.
 */
BTF_KFUNCS_START(kmesh_tracing_kfunc_ids)
BTF_ID_FLAGS(func, bpf_kmesh_inbound_accepted)	/* inbound.c */
BTF_KFUNCS_END(kmesh_tracing_kfunc_ids)

static const struct btf_kfunc_id_set kmesh_tracing_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kmesh_tracing_kfunc_ids,
};

static const struct {
	enum bpf_prog_type type;
	u32 hook;
	const char *name;
} kmesh_kfunc_hook_types[] = {
	/*
	 * The common hook must come first: on Linux 6.1 registering for
	 * UNSPEC fails with -EINVAL *and frees the module's whole kfunc
	 * table*, silently undoing any registration made before it.
	 */
	{ BPF_PROG_TYPE_UNSPEC, KMESH_HOOK_COMMON, "common" },
	{ BPF_PROG_TYPE_SYSCALL, KMESH_HOOK_SYSCALL, "syscall" },
	{ BPF_PROG_TYPE_SCHED_CLS, KMESH_HOOK_SCHED_CLS, "sched_cls" },
};

/**
 * kmesh_kfuncs_register - register the kfunc set for every available hook
 *
 * The common hook is optional (absent before 6.2); the per-type hooks are
 * not: without them no BPF program could reach us.
 *
 * Return: 0, or the error of a failed mandatory registration.
 */
int kmesh_kfuncs_register(void)
{
	u32 hooks = 0;
	int i, err;

	for (i = 0; i < ARRAY_SIZE(kmesh_kfunc_hook_types); i++) {
		err = register_btf_kfunc_id_set(kmesh_kfunc_hook_types[i].type,
						&kmesh_kfunc_set);
		if (!err) {
			hooks |= kmesh_kfunc_hook_types[i].hook;
			continue;
		}
		if (kmesh_kfunc_hook_types[i].hook == KMESH_HOOK_COMMON) {
			pr_info("no common kfunc hook on this kernel (%d): sk_msg, sockops and connect programs use the eBPF fallback\n",
				err);
			continue;
		}
		pr_err("registering kfuncs for %s programs failed: %d\n",
		       kmesh_kfunc_hook_types[i].name, err);
		return err;
	}
	err = register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACING,
					&kmesh_tracing_kfunc_set);
	if (err) {
		pr_err("registering kfuncs for tracing programs failed: %d\n", err);
		return err;
	}
	WRITE_ONCE(kmesh_kfunc_hooks, hooks);
	return 0;
}

/**
 * kmesh_kfunc_hooks_show - print the registered hooks by name
 * @buf: sysfs page
 *
 * Return: bytes written.
 */
ssize_t kmesh_kfunc_hooks_show(char *buf)
{
	u32 hooks = READ_ONCE(kmesh_kfunc_hooks);
	ssize_t len = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(kmesh_kfunc_hook_types); i++) {
		if (!(hooks & kmesh_kfunc_hook_types[i].hook))
			continue;
		len += sysfs_emit_at(buf, len, "%s%s", len ? " " : "",
				     kmesh_kfunc_hook_types[i].name);
	}
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
