// SPDX-License-Identifier: GPL-2.0-only
/*
 * L7 kfuncs beyond head parsing: the chunked-body scanner, on a buffer and
 * zero-copy on an sk_msg. Registered with the rest of the set in kfuncs.c
 * (one set per hook on 6.1).
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/errno.h>
#include <linux/scatterlist.h>
#include <linux/skmsg.h>

#include "kmesh.h"
#include "core/chunk.h"

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_chunk_scan - scan (more of) a chunked body in a buffer
 * @st: struct kmesh_chunk_state carried between calls
 * @st__sz: size of @st; must be exactly sizeof(struct kmesh_chunk_state)
 * @buf: the next bytes of the body
 * @buf__sz: how many
 *
 * Return: enum kmesh_chunk_status (st->consumed says how far), or
 * -EINVAL for a size mismatch.
 */
__bpf_kfunc int bpf_kmesh_chunk_scan(void *st, u32 st__sz, const void *buf,
				     u32 buf__sz)
{
	if (st__sz != sizeof(struct kmesh_chunk_state))
		return -EINVAL;
	return kmesh_chunk_scan(st, buf, buf__sz);
}

/**
 * bpf_kmesh_msg_chunks - scan a chunked body in an sk_msg, zero-copy
 * @md: the sk_msg program's context
 * @off: where in the message the body bytes start
 * @st: as for bpf_kmesh_chunk_scan()
 * @st__sz: as for bpf_kmesh_chunk_scan()
 *
 * Walks the message's scatterlist from @off (the whole message, not only
 * what msg->data covers, and without bpf_msg_pull_data()); chunk data is
 * skipped by count. st->consumed is set to the message bytes from @off
 * that belong to the body: all of them with NEED_MORE, up to the body's
 * end with DONE.
 *
 * Return: enum kmesh_chunk_status, or -EINVAL for a size mismatch or an
 * @off past the message.
 */
__bpf_kfunc int bpf_kmesh_msg_chunks(struct sk_msg_md *md, u32 off, void *st,
				     u32 st__sz)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_chunk_state *cs = st;
	u32 i, pos = 0, used = 0, len, skip;
	struct scatterlist *sge;
	int rc = KMESH_CHUNK_NEED_MORE;

	if (st__sz != sizeof(struct kmesh_chunk_state))
		return -EINVAL;
	if (off > msg->sg.size)
		return -EINVAL;
	i = msg->sg.start;
	while (i != msg->sg.end) {
		sge = sk_msg_elem(msg, i);
		len = sge->length;
		if (pos + len > off) {
			skip = off > pos ? off - pos : 0;
			rc = kmesh_chunk_scan(cs, (const u8 *)sg_virt(sge) + skip,
					      len - skip);
			used += READ_ONCE(cs->consumed);
			if (rc != KMESH_CHUNK_NEED_MORE)
				break;
		}
		pos += len;
		sk_msg_iter_var_next(i);
	}
	WRITE_ONCE(cs->consumed, used);
	return rc;
}

__bpf_kfunc_end_defs();
