// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 per connection: the client->server direction of a cleartext
 * (h2c, prior knowledge) connection on an http service port, parsed with
 * state kept per socket, for the sk_msg program's per-stream decisions
 * (bpf/include/l7_h2.h; docs/http2.md says what is enforced).
 *
 * Memory. A connection keeps only what must outlive a message: the
 * parser's struct, the HPACK dynamic table and the stream slots (about
 * 13 KiB with the default limits), allocated in sk_msg (atomic context,
 * GFP_ATOMIC | __GFP_ACCOUNT: charged to the writer's memory cgroup) when
 * the preface is seen, freed by bpf_kmesh_h2_release() from sockops at
 * TCP_CLOSE, at once on a connection error, and at module unload. The
 * transient buffers (the compressed header block, decoded strings, the
 * message text: 48 KiB) are this CPU's, lent for one kfunc call
 * (h2.c). That works because a header block is never left half-read
 * between calls: bpf_kmesh_h2_begin() walks the message's frames first
 * and, when it ends inside a header block (HEADERS + CONTINUATIONs), asks
 * the program to cork it whole, as the HTTP/1.1 path corks a split head;
 * and bpf_kmesh_h2_step() reads one frame at a time and returns after the
 * frame that completes a request's block. At most h2_max_conns
 * connections hold state; past that, the program applies the service's
 * failure_mode.
 *
 * Locking: sk_msg runs with the socket locked (tcp_bpf_sendmsg), and so
 * does sockops at TCP_CLOSE, so a connection's state is used by one
 * caller at a time; the table of connections has its own spinlock.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/errno.h>
#include <linux/filter.h>
#include <linux/hashtable.h>
#include <linux/moduleparam.h>
#include <linux/skmsg.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <net/tcp.h>

#include "kmesh.h"
#include "core/h2_frame.h"
#include "core/h2_reply.h"
#include "core/http1.h"

static_assert(KMESH_H2_STEP_MAX <= KMESH_KFUNC_OUTCOME_MAX);
static_assert(KMESH_H2_DENY_GRPC == KMESH_H2_REPLY_GRPC);
static_assert(KMESH_H2_RST_LEN == KMESH_H2_RST_FRAME_LEN);
static_assert(sizeof(struct kmesh_h2_info) == 32);
static_assert(sizeof(struct kmesh_h2_edit) == 16);
static_assert(sizeof(struct kmesh_h2_edits) == 16 + 16 * KMESH_H2_MAX_EDITS);

/* ---- parameters (read at load, but h2_max_conns: they size memory) ---- */

static unsigned int h2_max_conns = 4096;

/* The one that may change at runtime: it sizes nothing. */
static int kmesh_h2_set_max_conns(const char *text, const struct kernel_param *kp)
{
	unsigned int v;

	if (kstrtouint(text, 0, &v) || v > 1048576) {
		pr_err("invalid %s=%s: expected an integer in [0, 1048576]\n",
		       kp->name, strim((char *)text));
		return -EINVAL;
	}
	WRITE_ONCE(h2_max_conns, v);
	return 0;
}

static const struct kernel_param_ops kmesh_h2_max_conns_ops = {
	.set = kmesh_h2_set_max_conns,
	.get = param_get_uint,
};
module_param_cb(h2_max_conns, &kmesh_h2_max_conns_ops, &h2_max_conns, 0644);
MODULE_PARM_DESC(h2_max_conns, "HTTP/2 connections with per-stream state at once; more are handled by the service's failure_mode [0..1048576]");
static unsigned int h2_max_table_bytes = 4096;
module_param(h2_max_table_bytes, uint, 0444);
MODULE_PARM_DESC(h2_max_table_bytes, "HPACK dynamic table per connection [4096..65536]");
static unsigned int h2_max_header_list = 16384;
module_param(h2_max_header_list, uint, 0444);
MODULE_PARM_DESC(h2_max_header_list, "Decoded header list (RFC 7541 sizes) [1024..1048576]");
static unsigned int h2_max_header_block = 16384;
module_param(h2_max_header_block, uint, 0444);
MODULE_PARM_DESC(h2_max_header_block, "Compressed header block, HEADERS + CONTINUATIONs [1024..1048576]");
static unsigned int h2_max_streams = 100;
module_param(h2_max_streams, uint, 0444);
MODULE_PARM_DESC(h2_max_streams, "Open streams tracked per connection [1..65536]");
static unsigned int h2_max_continuations = 16;
module_param(h2_max_continuations, uint, 0444);
MODULE_PARM_DESC(h2_max_continuations, "CONTINUATION frames per header block [1..1024]");

/* What the module counts (read-only parameters: /sys/module/kmesh/parameters/) */
static atomic_t kmesh_h2_nr_conns = ATOMIC_INIT(0);
static atomic_t kmesh_h2_nr_rx = ATOMIC_INIT(0);
static atomic_long_t kmesh_h2_bytes = ATOMIC_LONG_INIT(0);
static atomic_long_t kmesh_h2_over_cap = ATOMIC_LONG_INIT(0);
static atomic_long_t kmesh_h2_conn_errors = ATOMIC_LONG_INIT(0);

static int kmesh_h2_get_int(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(kp->arg));
}

static int kmesh_h2_get_long(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

static const struct kernel_param_ops kmesh_h2_int_ops = {
	.get = kmesh_h2_get_int,
};

static const struct kernel_param_ops kmesh_h2_long_ops = {
	.get = kmesh_h2_get_long,
};

module_param_cb(h2_conns, &kmesh_h2_int_ops, &kmesh_h2_nr_conns, 0444);
MODULE_PARM_DESC(h2_conns, "HTTP/2 connections holding state now (read-only)");
module_param_cb(h2_watched, &kmesh_h2_int_ops, &kmesh_h2_nr_rx, 0444);
MODULE_PARM_DESC(h2_watched, "Client connections whose server frames are followed now (read-only)");
module_param_cb(h2_state_bytes, &kmesh_h2_long_ops, &kmesh_h2_bytes, 0444);
MODULE_PARM_DESC(h2_state_bytes, "Bytes they hold (read-only)");
module_param_cb(h2_over_cap, &kmesh_h2_long_ops, &kmesh_h2_over_cap, 0444);
MODULE_PARM_DESC(h2_over_cap, "HTTP/2 connections refused state: over h2_max_conns or no memory (read-only)");
module_param_cb(h2_conn_errors, &kmesh_h2_long_ops, &kmesh_h2_conn_errors, 0444);
MODULE_PARM_DESC(h2_conn_errors, "HTTP/2 connections closed for a protocol error (read-only)");

static atomic_t kmesh_h2_last_error = ATOMIC_INIT(0);

static int kmesh_h2_get_reason(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", kmesh_h2_strreason(atomic_read(kp->arg)));
}

static const struct kernel_param_ops kmesh_h2_reason_ops = {
	.get = kmesh_h2_get_reason,
};

module_param_cb(h2_last_error, &kmesh_h2_reason_ops, &kmesh_h2_last_error, 0444);
MODULE_PARM_DESC(h2_last_error, "Why the last HTTP/2 connection closed for a protocol error was (read-only)");

static struct kmesh_h2_limits kmesh_h2_lim;

/* ---- per connection ---- */

#define KMESH_H2_DENIED		64	/* denied stream ids remembered */
#define KMESH_H2_REPLY_MAX	2048

struct kmesh_h2_denied {
	u32 id;
	u32 cut;	/* its first block was cut: cut every later frame */
};

struct kmesh_h2_conn {
	struct hlist_node node;
	const struct sock *sk;
	u32 alloc_len;
	struct kmesh_h2_parser p;
	/* the frame walk, carried from message to message */
	u32 pre_left;		/* preface bytes still to come */
	u32 frame_left;		/* payload bytes of a frame that goes on */
	bool failed;		/* connection error: only release is left */
	/* this message */
	u32 msg_size;
	u32 pos;		/* bytes read */
	u32 blk_off;		/* first frame of the current header block */
	u32 blk_stream;
	u32 tbl_head, tbl_max;	/* HPACK table marks at the block's start */
	struct kmesh_http_req *req;	/* the step's output (BPF memory) */
	u8 *head;
	u32 head_cap;
	bool got;		/* the step found a request */
	u32 late_error;		/* a stream error after its header block */
	struct kmesh_h2_info info;
	/* denied streams (a ring: the oldest forgotten first) */
	struct kmesh_h2_denied denied[KMESH_H2_DENIED];
	u32 denied_next;
	/* this message's edits, ascending */
	struct kmesh_h2_edit edits[KMESH_H2_MAX_EDITS];
	u32 nr_edits;
	bool edits_full;
	/* the reply to the client, until it can be delivered */
	u32 reply_len;
	u32 window_owed;	/* DATA bytes cut since the last reply */
	u8 reply[KMESH_H2_REPLY_MAX];
	u8 mem[] __aligned(8);
};

static DEFINE_HASHTABLE(kmesh_h2_conns, 10);
static DEFINE_SPINLOCK(kmesh_h2_lock);

static struct kmesh_h2_conn *kmesh_h2_find(const struct sock *sk)
{
	struct kmesh_h2_conn *c;

	hash_for_each_possible(kmesh_h2_conns, c, node, (unsigned long)sk)
		if (c->sk == sk)
			return c;
	return NULL;
}

static struct kmesh_h2_conn *kmesh_h2_lookup(const struct sock *sk)
{
	struct kmesh_h2_conn *c;

	spin_lock_bh(&kmesh_h2_lock);
	c = kmesh_h2_find(sk);
	spin_unlock_bh(&kmesh_h2_lock);
	return c;
}


/* ---- the server's frames, followed on the client's receive path ---- */

/*
 * A reply put in the client's receive path is read before anything TCP
 * queued, so it must go in where the server's byte stream is between two
 * frames and the client has read all of it. The client socket's
 * sk_data_ready is wrapped from the handshake on (sockops, kfunc mode,
 * http service ports: bpf_kmesh_h2_watch()), and each in-order arrival
 * moves a frame-length tracker over the bytes TCP queued: rx.next is the
 * sequence number where the next server frame starts. Not an HTTP/2
 * client (the first message says so) or closed: the wrapper is removed.
 */
struct kmesh_h2_rx {
	struct hlist_node node;
	struct sock *sk;		/* held */
	void (*saved_data_ready)(struct sock *sk);
	u32 next;			/* next frame header's first byte */
	u8 hdr[3];			/* its length, as it comes in */
	u8 hdr_have;
	bool lost;			/* bytes went by unseen */
};

static DEFINE_HASHTABLE(kmesh_h2_rxs, 10);

static struct kmesh_h2_rx *kmesh_h2_rx_find(const struct sock *sk)
{
	struct kmesh_h2_rx *rx;

	hash_for_each_possible(kmesh_h2_rxs, rx, node, (unsigned long)sk)
		if (rx->sk == sk)
			return rx;
	return NULL;
}

/* Caller holds kmesh_h2_lock; in softirq or with the socket locked. */
static void kmesh_h2_rx_walk(struct sock *sk, struct kmesh_h2_rx *rx)
{
	u32 rcv_nxt = READ_ONCE(tcp_sk(sk)->rcv_nxt), seq, off, start;
	struct sk_buff *skb;
	bool found;

	while (!rx->lost) {
		seq = rx->next + rx->hdr_have;
		if (!before(seq, rcv_nxt))
			break;
		found = false;
		skb_queue_walk(&sk->sk_receive_queue, skb) {
			start = TCP_SKB_CB(skb)->seq;
			if (before(seq, start) || !before(seq, start + skb->len))
				continue;
			off = seq - start;
			found = true;
			while (rx->hdr_have < 3 && off < skb->len) {
				if (skb_copy_bits(skb, off, &rx->hdr[rx->hdr_have], 1)) {
					found = false;
					break;
				}
				rx->hdr_have++;
				off++;
			}
			break;
		}
		if (!found) {
			/* read before it was seen: the tracker is lost */
			rx->lost = true;
			break;
		}
		if (rx->hdr_have == 3) {
			rx->next += KMESH_H2_FRAME_HEADER_LEN +
				    ((u32)rx->hdr[0] << 16 | (u32)rx->hdr[1] << 8 |
				     rx->hdr[2]);
			rx->hdr_have = 0;
		}
	}
}

static void kmesh_h2_data_ready(struct sock *sk)
{
	void (*next)(struct sock *sk);
	struct kmesh_h2_rx *rx;

	spin_lock_bh(&kmesh_h2_lock);
	rx = kmesh_h2_rx_find(sk);
	if (rx) {
		kmesh_h2_rx_walk(sk, rx);
		next = READ_ONCE(rx->saved_data_ready);
	} else {
		/* unwatched meanwhile: the original is back in place */
		next = READ_ONCE(sk->sk_data_ready);
	}
	spin_unlock_bh(&kmesh_h2_lock);
	if (next != kmesh_h2_data_ready)
		next(sk);
}

/*
 * Unwrap and free @rx (found hashed, the global lock not held). Lock
 * order: a socket's sk_callback_lock is never taken under kmesh_h2_lock
 * (data_ready runs under the former, from a redirect into the socket, and
 * takes the latter). The wrapper is put back first, while @rx is still
 * found, so a data_ready in flight still reaches the original; then @rx
 * is unhashed under the lock every wrapper holds while it uses @rx.
 */
static void kmesh_h2_rx_drop(struct kmesh_h2_rx *rx)
{
	struct sock *sk = rx->sk;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_data_ready == kmesh_h2_data_ready)
		WRITE_ONCE(sk->sk_data_ready, rx->saved_data_ready);
	write_unlock_bh(&sk->sk_callback_lock);
	spin_lock_bh(&kmesh_h2_lock);
	hash_del(&rx->node);
	spin_unlock_bh(&kmesh_h2_lock);
	atomic_dec(&kmesh_h2_nr_rx);
	sock_put(sk);
	kfree(rx);
}

/* Callers hold the socket (its lock, or it is closing): one at a time. */
static void kmesh_h2_unwatch(const struct sock *sk)
{
	struct kmesh_h2_rx *rx;

	spin_lock_bh(&kmesh_h2_lock);
	rx = kmesh_h2_rx_find(sk);
	spin_unlock_bh(&kmesh_h2_lock);
	if (rx)
		kmesh_h2_rx_drop(rx);
}

/* The server's stream is between frames and the client read all of it. */
static bool kmesh_h2_rx_at_boundary(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	struct kmesh_h2_rx *rx;
	bool ok = false;

	spin_lock_bh(&kmesh_h2_lock);
	rx = kmesh_h2_rx_find(sk);
	if (rx) {
		kmesh_h2_rx_walk(sk, rx);
		ok = !rx->lost && !rx->hdr_have &&
		     rx->next == READ_ONCE(tp->rcv_nxt) &&
		     READ_ONCE(tp->copied_seq) == rx->next;
	}
	spin_unlock_bh(&kmesh_h2_lock);
	return ok;
}

static void kmesh_h2_free(struct kmesh_h2_conn *c)
{
	atomic_dec(&kmesh_h2_nr_conns);
	atomic_long_sub(c->alloc_len, &kmesh_h2_bytes);
	kfree(c);
}

/* Unhash and free @sk's state, if any. */
static bool kmesh_h2_drop(const struct sock *sk)
{
	struct kmesh_h2_conn *c;

	spin_lock_bh(&kmesh_h2_lock);
	c = kmesh_h2_find(sk);
	if (c)
		hash_del(&c->node);
	spin_unlock_bh(&kmesh_h2_lock);
	if (c)
		kmesh_h2_free(c);
	return c;
}

static int kmesh_h2_on_event(void *ctx, const struct kmesh_h2_event *ev);
static int kmesh_h2_reset(struct kmesh_h2_conn *c, u32 id);

static struct kmesh_h2_conn *kmesh_h2_new(const struct sock *sk)
{
	u32 state = kmesh_h2_state_size(&kmesh_h2_lim), len;
	struct kmesh_h2_conn *c;

	len = sizeof(*c) + state;
	if (atomic_inc_return(&kmesh_h2_nr_conns) > READ_ONCE(h2_max_conns)) {
		atomic_dec(&kmesh_h2_nr_conns);
		return NULL;
	}
	c = kzalloc(len, GFP_ATOMIC | __GFP_ACCOUNT | __GFP_NOWARN);
	if (!c) {
		atomic_dec(&kmesh_h2_nr_conns);
		return NULL;
	}
	c->sk = sk;
	c->alloc_len = len;
	c->pre_left = KMESH_H2_PREFACE_LEN;
	if (kmesh_h2_init_state(&c->p, KMESH_H2_FROM_CLIENT, &kmesh_h2_lim,
				c->mem, state, kmesh_h2_on_event, c)) {
		atomic_dec(&kmesh_h2_nr_conns);
		kfree(c);
		return NULL;
	}
	/*
	 * The server's SETTINGS_HEADER_TABLE_SIZE is not read (the server's
	 * bytes are not parsed yet): accept any table up to the bound, the
	 * server refuses one it did not allow.
	 */
	kmesh_h2_peer_setting(&c->p, KMESH_H2_SETTINGS_HEADER_TABLE_SIZE,
			      c->p.lim.table_max);
	atomic_long_add(len, &kmesh_h2_bytes);
	spin_lock_bh(&kmesh_h2_lock);
	hash_add(kmesh_h2_conns, &c->node, (unsigned long)sk);
	spin_unlock_bh(&kmesh_h2_lock);
	return c;
}

/* ---- message bytes (the whole scatterlist, not only msg->data) ---- */

static u32 kmesh_msg_copy(struct sk_msg *msg, u32 off, u8 *dst, u32 len)
{
	u32 i = msg->sg.start, pos = 0, done = 0, n, skip;
	struct scatterlist *sge;

	while (i != msg->sg.end && done < len) {
		sge = sk_msg_elem(msg, i);
		if (pos + sge->length > off + done) {
			skip = off + done - pos;
			n = min(sge->length - skip, len - done);
			memcpy(dst + done, (u8 *)sg_virt(sge) + skip, n);
			done += n;
		}
		pos += sge->length;
		sk_msg_iter_var_next(i);
	}
	return done;
}

static u32 kmesh_msg_write(struct sk_msg *msg, u32 off, const u8 *src, u32 len)
{
	u32 i = msg->sg.start, pos = 0, done = 0, n, skip;
	struct scatterlist *sge;

	while (i != msg->sg.end && done < len) {
		sge = sk_msg_elem(msg, i);
		if (pos + sge->length > off + done) {
			skip = off + done - pos;
			n = min(sge->length - skip, len - done);
			memcpy((u8 *)sg_virt(sge) + skip, src + done, n);
			done += n;
		}
		pos += sge->length;
		sk_msg_iter_var_next(i);
	}
	return done;
}

/* Feed message bytes [off, off + len) to the parser. */
static int kmesh_h2_feed(struct kmesh_h2_conn *c, struct sk_msg *msg, u32 off,
			 u32 len)
{
	u32 i = msg->sg.start, pos = 0, end = off + len, a, b;
	struct scatterlist *sge;
	int rc;

	while (i != msg->sg.end && pos < end) {
		sge = sk_msg_elem(msg, i);
		a = max(pos, off);
		b = min(pos + sge->length, end);
		if (a < b) {
			rc = kmesh_h2_parse(&c->p, (u8 *)sg_virt(sge) + (a - pos),
					    b - a);
			if (rc)
				return rc;
		}
		pos += sge->length;
		sk_msg_iter_var_next(i);
	}
	return 0;
}

/* ---- the message's frames ---- */

struct kmesh_h2_fhdr {
	u32 len;
	u32 stream;
	u8 type;
	u8 flags;
};

static bool kmesh_h2_fhdr_at(struct sk_msg *msg, u32 off, struct kmesh_h2_fhdr *h)
{
	u8 b[KMESH_H2_FRAME_HEADER_LEN];

	if (kmesh_msg_copy(msg, off, b, sizeof(b)) != sizeof(b))
		return false;
	h->len = (u32)b[0] << 16 | (u32)b[1] << 8 | b[2];
	h->type = b[3];
	h->flags = b[4];
	h->stream = ((u32)b[5] << 24 | (u32)b[6] << 16 | (u32)b[7] << 8 | b[8]) &
		    0x7fffffff;
	return true;
}

/*
 * Bytes the message lacks to end outside a header block (and outside a
 * frame header), 0 when it does. A block the parser will refuse anyway
 * (over the block limit, too many CONTINUATIONs, a frame over the frame
 * size) is never waited for: the parser then closes the connection.
 */
static u32 kmesh_h2_missing(struct kmesh_h2_conn *c, struct sk_msg *msg)
{
	u32 size = msg->sg.size, pos = 0, blk = 0, conts = 0;
	struct kmesh_h2_fhdr h;
	bool open = false;

	if (c->pre_left) {
		if (size < c->pre_left)
			return c->pre_left - size + KMESH_H2_FRAME_HEADER_LEN;
		pos = c->pre_left;
	}
	if (c->frame_left)
		pos += c->frame_left;
	while (pos < size) {
		if (size - pos < KMESH_H2_FRAME_HEADER_LEN)
			return KMESH_H2_FRAME_HEADER_LEN - (size - pos);
		kmesh_h2_fhdr_at(msg, pos, &h);
		if (h.len > c->p.max_frame)
			return 0;
		if (h.type == KMESH_H2_HEADERS || (open &&
						   h.type == KMESH_H2_CONTINUATION)) {
			if (h.type == KMESH_H2_HEADERS) {
				blk = 0;
				conts = 0;
			} else if (++conts > c->p.lim.max_continuations) {
				return 0;
			}
			blk += h.len;
			if (blk > c->p.lim.max_header_block)
				return 0;
			open = !(h.flags & KMESH_H2_FLAG_END_HEADERS);
			if (h.len > size - pos - KMESH_H2_FRAME_HEADER_LEN)
				return h.len - (size - pos - KMESH_H2_FRAME_HEADER_LEN) +
				       (open ? KMESH_H2_FRAME_HEADER_LEN : 0);
		} else if (open) {
			return 0;	/* the parser refuses it */
		}
		pos += KMESH_H2_FRAME_HEADER_LEN + h.len;
	}
	return open ? KMESH_H2_FRAME_HEADER_LEN : 0;
}

static struct kmesh_h2_denied *kmesh_h2_denied_of(struct kmesh_h2_conn *c,
						   u32 id)
{
	int i;

	for (i = 0; i < KMESH_H2_DENIED; i++)
		if (c->denied[i].id == id && id)
			return &c->denied[i];
	return NULL;
}

/*
 * Hide the frame whose header starts at @off from the server: its type
 * becomes one of the experimental range, which a receiver ignores and
 * discards whole (RFC 9113 5.5), length and payload unchanged. In place:
 * bpf_msg_pop_data() is not used, it corrupts messages and crashes 6.1
 * kernels (a pop at a message's start dereferences NULL; several pops in
 * one message lose the wrong bytes).
 */
#define KMESH_H2_HIDDEN_TYPE	0xf5

static void kmesh_h2_hide(struct sk_msg *msg, u32 off)
{
	u8 t = KMESH_H2_HIDDEN_TYPE;

	kmesh_msg_write(msg, off + 3, &t, 1);
}

/* Add an edit (message order). */
static void kmesh_h2_edit(struct kmesh_h2_conn *c, u32 kind, u32 off, u32 len,
			  u32 id)
{
	if (!len)
		return;
	if (c->nr_edits == KMESH_H2_MAX_EDITS) {
		c->edits_full = true;
		return;
	}
	c->edits[c->nr_edits++] = (struct kmesh_h2_edit) {
		.off = off, .len = len, .kind = kind, .stream_id = id,
	};
}

/* A header block is complete: what the program needs for a request. */
static int kmesh_h2_on_request(struct kmesh_h2_conn *c,
			       const struct kmesh_h2_msg *m, u32 id)
{
	struct kmesh_http1_limits lim = {
		.max_head_bytes = READ_ONCE(kmesh_max_head_bytes),
		.max_headers = READ_ONCE(kmesh_max_headers),
	};
	const struct kmesh_h2_span *auth;
	u32 used = 0, i, cap = c->head_cap;
	u8 *h = c->head;
	static const char grpc[] = "application/grpc";

#define KMESH_PUT(p, n) do {					\
		if ((n) > cap - used)				\
			goto too_large;				\
		memcpy(h + used, (p), (n));			\
		used += (n);					\
	} while (0)
#define KMESH_PUT_SPAN(s) KMESH_PUT(m->text + (s).off, (s).len)

	c->got = true;
	c->info.stream_id = id;
	if (m->flags & KMESH_H2_M_END_STREAM)
		c->info.flags |= KMESH_H2_INFO_F_END_STREAM;
	if (m->content_type.len >= sizeof(grpc) - 1 &&
	    !memcmp(m->text + m->content_type.off, grpc, sizeof(grpc) - 1))
		c->info.flags |= KMESH_H2_INFO_F_GRPC;
	/*
	 * The request as an HTTP/1.1 head, parsed by the HTTP/1.1 core: the
	 * same fields, path rules and spans the evaluator and the route
	 * table read for HTTP/1.1. :authority is the host; a host field
	 * equal to it (the frame parser checked) is not repeated.
	 */
	auth = m->flags & KMESH_H2_M_HAS_AUTHORITY ? &m->authority :
	       m->flags & KMESH_H2_M_HAS_HOST ? &m->host : NULL;
	KMESH_PUT_SPAN(m->method);
	KMESH_PUT(" ", 1);
	KMESH_PUT_SPAN(m->path);
	KMESH_PUT(" HTTP/1.1\r\nhost: ", 17);
	if (auth)
		KMESH_PUT_SPAN(*auth);
	KMESH_PUT("\r\n", 2);
	for (i = 0; i < m->nr_fields && i < KMESH_H2_MAX_FIELDS; i++) {
		const struct kmesh_h2_span *n = &m->fields[i].name;

		if (n->len == 4 && !memcmp(m->text + n->off, "host", 4))
			continue;
		KMESH_PUT_SPAN(*n);
		KMESH_PUT(": ", 2);
		KMESH_PUT_SPAN(m->fields[i].value);
		KMESH_PUT("\r\n", 2);
	}
	KMESH_PUT("\r\n", 2);
#undef KMESH_PUT_SPAN
#undef KMESH_PUT
	memset(c->req, 0, sizeof(*c->req));
	c->info.head_len = used;
	c->info.head_status = kmesh_http1_parse(c->req, h, used, &lim);
	if (c->info.head_status == KMESH_HTTP_OK && !auth)
		c->info.head_status = KMESH_HTTP_E_NO_HOST;
	return 0;
too_large:
	memset(c->req, 0, sizeof(*c->req));
	c->info.head_len = 0;
	c->info.head_status = KMESH_HTTP_E_HEAD_TOO_LARGE;
	return 0;
}

static int kmesh_h2_on_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct kmesh_h2_conn *c = ctx;

	switch (ev->type) {
	case KMESH_H2_EV_HEADERS:
		if (ev->msg->flags & KMESH_H2_M_TRAILERS)
			return 0;
		return kmesh_h2_on_request(c, ev->msg, ev->stream_id);
	case KMESH_H2_EV_STREAM_ERROR:
		if (kmesh_h2_denied_of(c, ev->stream_id))
			return 0;
		if ((c->p.type != KMESH_H2_HEADERS &&
		     c->p.type != KMESH_H2_CONTINUATION) ||
		    ev->stream_id != c->blk_stream) {
			/* its head went to the server: reset both sides */
			c->late_error = ev->stream_id;
			return 0;
		}
		/* refused by RFC 9113 before the server saw it: a bad request */
		memset(c->req, 0, sizeof(*c->req));
		c->got = true;
		c->info.stream_id = ev->stream_id;
		c->info.flags |= KMESH_H2_INFO_F_STREAM_ERROR;
		c->info.reason = ev->reason;
		c->info.head_status = KMESH_HTTP_E_INVAL;
		return 0;
	}
	return 0;
}

static int kmesh_h2_fail(struct kmesh_h2_conn *c, int reason)
{
	atomic_set(&kmesh_h2_last_error, reason);
	pr_info_ratelimited("HTTP/2 connection closed: %s (frame at byte %llu of the client's stream)\n",
			    kmesh_h2_strreason(reason),
			    (unsigned long long)c->p.err_off);
	c->info.status = KMESH_H2_STEP_CLOSE;
	c->info.reason = reason;
	c->failed = true;
	atomic_long_inc(&kmesh_h2_conn_errors);
	kmesh_h2_drop(c->sk);	/* frees @c */
	return KMESH_H2_STEP_CLOSE;
}

/*
 * Read frames from c->pos until a request's header block is complete or
 * the message ends. Scratch attached by the caller.
 */
static int kmesh_h2_walk(struct kmesh_h2_conn *c, struct sk_msg *msg)
{
	u32 size = c->msg_size, n, end;
	struct kmesh_h2_denied *dn;
	struct kmesh_h2_fhdr h;
	int rc;

	if (c->pre_left) {
		n = min(c->pre_left, size - c->pos);
		rc = kmesh_h2_feed(c, msg, c->pos, n);
		if (rc)
			return rc;
		c->pre_left -= n;
		c->pos += n;
	}
	if (c->frame_left && c->pos < size) {
		n = min(c->frame_left, size - c->pos);
		rc = kmesh_h2_feed(c, msg, c->pos, n);
		if (rc)
			return rc;
		/* a hidden frame's rest: its header said all there is */
		c->frame_left -= n;
		c->pos += n;
	}
	while (c->pos < size && !c->got) {
		if (size - c->pos < KMESH_H2_FRAME_HEADER_LEN) {
			/* begin() found nothing to wait for: a refusal comes */
			rc = kmesh_h2_feed(c, msg, c->pos, size - c->pos);
			if (rc)
				return rc;
			return KMESH_H2_E_FRAME_LEN;
		}
		kmesh_h2_fhdr_at(msg, c->pos, &h);
		if (h.type == KMESH_H2_HEADERS && !kmesh_h2_in_block(&c->p)) {
			c->blk_off = c->pos;
			c->blk_stream = h.stream;
			c->tbl_head = c->p.hpack.head;
			c->tbl_max = c->p.hpack.max_size;
		}
		end = c->pos + KMESH_H2_FRAME_HEADER_LEN + h.len;
		n = min(end, size) - c->pos;
		rc = kmesh_h2_feed(c, msg, c->pos, n);
		if (rc)
			return rc;
		dn = h.stream ? kmesh_h2_denied_of(c, h.stream) : NULL;
		if (dn && (h.type == KMESH_H2_HEADERS ||
			   h.type == KMESH_H2_CONTINUATION)) {
			/*
			 * A later block of a denied stream: kept when the
			 * stream was reset toward the server (its decoder
			 * must see every block); cut when the server never
			 * saw the stream, unless it changed the table: then
			 * the two decoders would differ, and the connection
			 * is closed.
			 */
			if (dn->cut && (c->p.hpack.head != c->tbl_head ||
					c->p.hpack.max_size != c->tbl_max))
				return KMESH_H2_E_STREAM_CLOSED;
			if (dn->cut)
				kmesh_h2_hide(msg, c->pos);
		} else if (dn) {
			/* DATA, WINDOW_UPDATE, RST_STREAM, PRIORITY */
			kmesh_h2_hide(msg, c->pos);
			if (h.type == KMESH_H2_DATA)
				c->window_owed += h.len;
		}
		c->frame_left = end - c->pos - n;
		c->pos += n;
		if (c->late_error && !c->frame_left) {
			rc = kmesh_h2_reset(c, c->late_error);
			c->late_error = 0;
			if (rc)
				return rc;
		}
		if (c->edits_full)
			return KMESH_H2_E_TOO_MANY_STREAMS;
	}
	if (kmesh_h2_in_block(&c->p))
		/* begin() let a refused block through: refuse it now */
		return KMESH_H2_E_HEADER_BLOCK_SIZE;
	return 0;
}

/*
 * A stream RFC 9113 refused after its head went to the server (DATA
 * beyond content-length, ...): RST_STREAM to the server after this frame
 * and to the client; its later frames are cut.
 */
static int kmesh_h2_reset(struct kmesh_h2_conn *c, u32 id)
{
	struct kmesh_h2_denied *dn;

	if (c->reply_len + KMESH_H2_RST_LEN > KMESH_H2_REPLY_MAX)
		return KMESH_H2_E_TOO_MANY_STREAMS;
	dn = &c->denied[c->denied_next++ % KMESH_H2_DENIED];
	dn->id = id;
	dn->cut = 0;
	kmesh_h2_edit(c, KMESH_H2_EDIT_RST, c->pos, KMESH_H2_RST_LEN, id);
	c->reply_len += kmesh_h2_frame_rst(c->reply + c->reply_len, id,
					   KMESH_H2_PROTOCOL_ERROR);
	return 0;
}

static bool kmesh_h2_reply_safe(struct sock *sk)
{
	struct sk_psock *psock;
	bool empty = true;

	/* nothing redirected into the client is waiting either */
	rcu_read_lock();
	psock = sk_psock(sk);
	if (psock)
		empty = list_empty(&psock->ingress_msg);
	rcu_read_unlock();
	return empty && kmesh_h2_rx_at_boundary(sk);
}

static struct kmesh_h2_conn *kmesh_h2_of(struct sk_msg_md *md)
{
	struct sk_msg *msg = (struct sk_msg *)md;

	return msg->sk ? kmesh_h2_lookup(msg->sk) : NULL;
}

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_h2_begin - start reading a message of an HTTP/2 client
 * @md: the sk_msg program's context
 *
 * On the socket's first message, checks for the connection preface and
 * takes state (NOT_H2 when the bytes are not the preface; NEED_MORE when
 * they are its beginning). Then says whether the message can be read now:
 * NEED_MORE (with info.need) when it ends inside a header block or a frame
 * header, to be corked whole; nothing is read then.
 *
 * Return: enum kmesh_h2_step_status: DONE (go on with
 * bpf_kmesh_h2_step()), NEED_MORE, NOT_H2, NO_STATE, CLOSE (a closed
 * connection's later message).
 */
__bpf_kfunc int bpf_kmesh_h2_begin(struct sk_msg_md *md)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_h2_conn *c;
	u8 pre[KMESH_H2_PREFACE_LEN];
	u32 n, need;

	if (!msg->sk)
		return -EINVAL;
	c = kmesh_h2_lookup(msg->sk);
	if (!c) {
		n = kmesh_msg_copy(msg, 0, pre, sizeof(pre));
		if (memcmp(pre, KMESH_H2_PREFACE, n)) {
			kmesh_h2_unwatch(msg->sk);
			return KMESH_H2_STEP_NOT_H2;
		}
		if (n < sizeof(pre))
			return KMESH_H2_STEP_NEED_MORE;
		c = kmesh_h2_new(msg->sk);
		if (!c) {
			atomic_long_inc(&kmesh_h2_over_cap);
			return KMESH_H2_STEP_NO_STATE;
		}
	}
	memset(&c->info, 0, sizeof(c->info));
	c->msg_size = msg->sg.size;
	c->pos = 0;
	c->nr_edits = 0;
	c->edits_full = false;
	need = kmesh_h2_missing(c, msg);
	if (need) {
		c->info.status = KMESH_H2_STEP_NEED_MORE;
		c->info.need = need;
		return KMESH_H2_STEP_NEED_MORE;
	}
	return KMESH_H2_STEP_DONE;
}

/**
 * bpf_kmesh_h2_step - read the message up to the next request
 * @md: the sk_msg program's context, after bpf_kmesh_h2_begin() said DONE
 * @req: a struct kmesh_http_req for the request, as bpf_kmesh_http_parse()
 *	 writes it
 * @req__sz: sizeof(struct kmesh_http_req)
 * @head: room for the request as an HTTP/1.1 head (spans of @req point
 *	  into it)
 * @head__sz: its size; at most 65535
 *
 * Return: REQUEST (info says which stream, @req and @head hold it),
 * DONE (the message is read), PAUSE (the edits are nearly full: the
 * program passes what was read, info.pos, and the rest gets another run),
 * CLOSE (a connection error: the state is freed; info.reason), -EINVAL
 * for sizes, -ENOENT without state.
 */
__bpf_kfunc int bpf_kmesh_h2_step(struct sk_msg_md *md, void *req, u32 req__sz,
				  void *head, u32 head__sz)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_h2_conn *c;
	void *scratch;
	u32 len;
	int rc;

	if (req__sz != sizeof(struct kmesh_http_req) || !req || !head ||
	    head__sz > U16_MAX)
		return -EINVAL;
	c = kmesh_h2_of(md);
	if (!c)
		return -ENOENT;
	if (c->msg_size != msg->sg.size)
		return -EINVAL;	/* begin() was not called for this message */
	c->info.flags = 0;
	c->info.stream_id = 0;
	c->info.head_len = 0;
	c->info.head_status = 0;
	c->info.reason = 0;
	if (c->pos >= c->msg_size) {
		c->info.status = KMESH_H2_STEP_DONE;
		return KMESH_H2_STEP_DONE;
	}
	/* room for one more request's edit (an RST) */
	if (c->nr_edits + 1 >= KMESH_H2_MAX_EDITS) {
		c->info.status = KMESH_H2_STEP_PAUSE;
		c->info.pos = c->pos;
		return KMESH_H2_STEP_PAUSE;
	}
	scratch = kmesh_h2_scratch_get(&len);
	if (!scratch)
		return -EBUSY;
	c->req = req;
	c->head = head;
	c->head_cap = head__sz;
	c->got = false;
	rc = kmesh_h2_attach_scratch(&c->p, scratch, len);
	if (!rc)
		rc = kmesh_h2_walk(c, msg);
	kmesh_h2_detach_scratch(&c->p);
	kmesh_h2_scratch_put();
	c->req = NULL;
	c->head = NULL;
	c->info.pos = c->pos;
	if (rc)
		return kmesh_h2_fail(c, rc);
	if (c->got && c->blk_stream == c->info.stream_id &&
	    (c->p.hpack.head != c->tbl_head || c->p.hpack.max_size != c->tbl_max))
		c->info.flags |= KMESH_H2_INFO_F_TABLE_CHANGED;
	c->info.status = c->got ? KMESH_H2_STEP_REQUEST : KMESH_H2_STEP_DONE;
	return c->info.status;
}

/**
 * bpf_kmesh_h2_info - what the last bpf_kmesh_h2_begin()/step() found
 * @md: the sk_msg program's context
 * @info: where to write it
 * @info__sz: sizeof(struct kmesh_h2_info)
 *
 * Return: 0; -EINVAL for the size, -ENOENT without state (after CLOSE the
 * state is gone: the step's return value is all there is).
 */
__bpf_kfunc int bpf_kmesh_h2_info(struct sk_msg_md *md,
				  struct kmesh_h2_info *info, u32 info__sz)
{
	struct kmesh_h2_conn *c;

	if (info__sz != sizeof(*info) || !info)
		return -EINVAL;
	c = kmesh_h2_of(md);
	if (!c)
		return -ENOENT;
	*info = c->info;
	return 0;
}

/**
 * bpf_kmesh_h2_deny - refuse the stream of the request the last step found
 * @md: the sk_msg program's context
 * @stream_id: that request's stream (info.stream_id)
 * @how: the HTTP status the client gets on that stream, maybe with
 *	 KMESH_H2_DENY_GRPC (kmesh_kfunc.h)
 *
 * Its frames are kept from the server: cut from the message when its
 * header block left the HPACK table as it was; else the block stays (the
 * server's decoder must see it) without END_STREAM, followed by an
 * RST_STREAM(CANCEL); its DATA is cut, now and in later messages. The
 * response is queued for bpf_kmesh_h2_edits().
 *
 * Return: 0; -EINVAL (not the last request, unknown @how), -ENOSPC (the
 * reply buffer is full: close the connection), -ENOENT without state.
 */
__bpf_kfunc int bpf_kmesh_h2_deny(struct sk_msg_md *md, u32 stream_id, u32 how)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_h2_denied *dn;
	struct kmesh_h2_conn *c;
	u8 fl;

	if ((how & ~(KMESH_H2_DENY_GRPC | 0xffff)) || (how & 0xffff) < 100 ||
	    (how & 0xffff) > 599)
		return -EINVAL;
	c = kmesh_h2_of(md);
	if (!c)
		return -ENOENT;
	if (!stream_id || stream_id != c->info.stream_id ||
	    c->info.status != KMESH_H2_STEP_REQUEST || c->blk_stream != stream_id)
		return -EINVAL;
	if (c->reply_len + KMESH_H2_REPLY_MAX_LEN > KMESH_H2_REPLY_MAX)
		return -ENOSPC;
	dn = &c->denied[c->denied_next++ % KMESH_H2_DENIED];
	dn->id = stream_id;
	dn->cut = !(c->info.flags & KMESH_H2_INFO_F_TABLE_CHANGED);
	if (dn->cut) {
		struct kmesh_h2_fhdr h;
		u32 off;

		/* HEADERS and its CONTINUATIONs, all in this message */
		for (off = c->blk_off; off < c->pos;
		     off += KMESH_H2_FRAME_HEADER_LEN + h.len) {
			if (!kmesh_h2_fhdr_at(msg, off, &h))
				return -EINVAL;
			kmesh_h2_hide(msg, off);
		}
	} else {
		/* the HEADERS frame's flags: no END_STREAM toward the server */
		kmesh_msg_copy(msg, c->blk_off + 4, &fl, 1);
		fl &= ~KMESH_H2_FLAG_END_STREAM;
		kmesh_msg_write(msg, c->blk_off + 4, &fl, 1);
		kmesh_h2_edit(c, KMESH_H2_EDIT_RST, c->pos, KMESH_H2_RST_LEN,
			      stream_id);
	}
	if (c->edits_full)
		return -ENOSPC;
	c->reply_len += kmesh_h2_reply_refused(c->reply + c->reply_len,
					       stream_id, how);
	return 0;
}

/**
 * bpf_kmesh_h2_edits - what to cut from and add to the message
 * @md: the sk_msg program's context, after the last step
 * @edits: struct kmesh_h2_edits to fill: cuts and RST_STREAMs in
 *	   descending offset order, and the reply's length
 * @edits__sz: sizeof(struct kmesh_h2_edits)
 *
 * The reply (responses of denied streams, then a WINDOW_UPDATE for the
 * DATA bytes cut) is offered only when it is safe to put it in the
 * client's receive path (reply_ready; docs/http2.md, "The reply"); else
 * it waits for a later message.
 *
 * Return: 0; -EINVAL for the size; -ENOENT without state.
 */
__bpf_kfunc int bpf_kmesh_h2_edits(struct sk_msg_md *md, void *edits,
				   u32 edits__sz)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_h2_edits *out = edits;
	struct kmesh_h2_conn *c;
	u32 i;

	if (edits__sz != sizeof(*out) || !out)
		return -EINVAL;
	c = kmesh_h2_of(md);
	if (!c)
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->nr = c->nr_edits;
	for (i = 0; i < c->nr_edits; i++)
		out->e[i] = c->edits[c->nr_edits - 1 - i];
	if (c->window_owed &&
	    c->reply_len + KMESH_H2_RST_FRAME_LEN <= KMESH_H2_REPLY_MAX) {
		c->reply_len += kmesh_h2_frame_window_update(c->reply + c->reply_len,
							     0, c->window_owed);
		c->window_owed = 0;
	}
	out->reply_len = c->reply_len;
	out->reply_ready = c->reply_len && kmesh_h2_reply_safe(msg->sk);
	return 0;
}

/**
 * bpf_kmesh_h2_write - write what bpf_kmesh_h2_edits() made room for
 * @md: the sk_msg program's context
 * @off: where in the message (after bpf_msg_push_data())
 * @what: KMESH_H2_WRITE_RST: 13 bytes were pushed at @off, one byte
 *	  before where the RST_STREAM(CANCEL) of stream @arg goes (6.1
 *	  cannot push at a message's end): that byte is moved back and the
 *	  frame written after it (14 bytes); KMESH_H2_WRITE_REPLY: the same
 *	  for the whole reply, pushed one byte before the message's end (it
 *	  is then forgotten)
 * @arg: the stream id for RST
 *
 * Return: bytes written (the moved byte included); -EINVAL when they do
 * not fit at @off, -ENOENT without state.
 */
__bpf_kfunc int bpf_kmesh_h2_write(struct sk_msg_md *md, u32 off, u32 what,
				   u32 arg)
{
	struct sk_msg *msg = (struct sk_msg *)md;
	struct kmesh_h2_conn *c;
	u8 rst[KMESH_H2_RST_LEN];
	u32 n;
	u8 b;

	c = kmesh_h2_of(md);
	if (!c)
		return -ENOENT;
	if (what == KMESH_H2_WRITE_RST) {
		/* room was made at @off: the byte that was there moved on */
		if (off > msg->sg.size || msg->sg.size - off < sizeof(rst) + 1)
			return -EINVAL;
		kmesh_msg_copy(msg, off + sizeof(rst), &b, 1);
		kmesh_h2_frame_rst(rst, arg, KMESH_H2_CANCEL);
		kmesh_msg_write(msg, off, &b, 1);
		return 1 + kmesh_msg_write(msg, off + 1, rst, sizeof(rst));
	}
	/* the reply goes at the message's end: room made one byte early */
	if (what != KMESH_H2_WRITE_REPLY || !c->reply_len ||
	    off > msg->sg.size || msg->sg.size - off < c->reply_len + 1)
		return -EINVAL;
	kmesh_msg_copy(msg, off + c->reply_len, &b, 1);
	kmesh_msg_write(msg, off, &b, 1);
	n = kmesh_msg_write(msg, off + 1, c->reply, c->reply_len);
	c->reply_len = 0;
	return n + 1;
}

/**
 * bpf_kmesh_h2_watch - follow the server's frames on a client connection
 * @ops: the sockops program's context (ACTIVE_ESTABLISHED of a client of
 *	 an http service port)
 *
 * Wraps the socket's sk_data_ready to follow where the server's frames
 * start (what makes a reply to a refused stream safe to inject). Undone
 * by the first message when it is not HTTP/2, by bpf_kmesh_h2_release(),
 * and at module unload.
 *
 * Return: 0; -EEXIST when watched already; -ENOMEM; -EINVAL for a socket
 * that is not TCP.
 */
__bpf_kfunc int bpf_kmesh_h2_watch(struct bpf_sock_ops *ops)
{
	struct bpf_sock_ops_kern *k = (struct bpf_sock_ops_kern *)ops;
	struct sock *sk = k->sk;
	struct kmesh_h2_rx *rx;

	if (!sk || sk->sk_protocol != IPPROTO_TCP || !sk_fullsock(sk))
		return -EINVAL;
	rx = kzalloc(sizeof(*rx), GFP_ATOMIC | __GFP_ACCOUNT | __GFP_NOWARN);
	if (!rx)
		return -ENOMEM;
	sock_hold(sk);
	rx->sk = sk;
	rx->next = READ_ONCE(tcp_sk(sk)->rcv_nxt);
	spin_lock_bh(&kmesh_h2_lock);
	if (kmesh_h2_rx_find(sk)) {
		spin_unlock_bh(&kmesh_h2_lock);
		sock_put(sk);
		kfree(rx);
		return -EEXIST;
	}
	hash_add(kmesh_h2_rxs, &rx->node, (unsigned long)sk);
	atomic_inc(&kmesh_h2_nr_rx);
	spin_unlock_bh(&kmesh_h2_lock);
	/* not under kmesh_h2_lock: see kmesh_h2_rx_drop() */
	write_lock_bh(&sk->sk_callback_lock);
	WRITE_ONCE(rx->saved_data_ready, sk->sk_data_ready);
	smp_wmb();	/* the wrapper finds the original before it runs */
	WRITE_ONCE(sk->sk_data_ready, kmesh_h2_data_ready);
	write_unlock_bh(&sk->sk_callback_lock);
	return 0;
}

/**
 * bpf_kmesh_h2_release - forget a socket's HTTP/2 state
 * @ops: the sockops program's context (TCP_CLOSE)
 *
 * Return: 1 when there was state, 0 when not.
 */
__bpf_kfunc int bpf_kmesh_h2_release(struct bpf_sock_ops *ops)
{
	struct bpf_sock_ops_kern *k = (struct bpf_sock_ops_kern *)ops;

	if (!k->sk)
		return 0;
	kmesh_h2_unwatch(k->sk);
	return kmesh_h2_drop(k->sk);
}

__bpf_kfunc_end_defs();

static int kmesh_h2_param(const char *name, unsigned int v, unsigned int lo,
			  unsigned int hi)
{
	if (v >= lo && v <= hi)
		return 0;
	pr_err("invalid %s=%u: expected an integer in [%u, %u]\n", name, v, lo,
	       hi);
	return -EINVAL;
}

u32 kmesh_h2_conn_scratch_size(void)
{
	return kmesh_h2_scratch_size(&kmesh_h2_lim);
}

int kmesh_h2_conn_init(void)
{
	if (kmesh_h2_param("h2_max_conns", h2_max_conns, 0, 1048576) ||
	    kmesh_h2_param("h2_max_table_bytes", h2_max_table_bytes, 4096, 65536) ||
	    kmesh_h2_param("h2_max_header_list", h2_max_header_list, 1024, 1048576) ||
	    kmesh_h2_param("h2_max_header_block", h2_max_header_block, 1024, 1048576) ||
	    kmesh_h2_param("h2_max_streams", h2_max_streams, 1, 65536) ||
	    kmesh_h2_param("h2_max_continuations", h2_max_continuations, 1, 1024))
		return -EINVAL;
	kmesh_h2_lim = (struct kmesh_h2_limits) {
		.table_max = h2_max_table_bytes,
		.max_header_list = h2_max_header_list,
		.max_header_block = h2_max_header_block,
		.max_streams = h2_max_streams,
		.max_continuations = h2_max_continuations,
	};
	if (!kmesh_h2_state_size(&kmesh_h2_lim))
		return -EINVAL;
	return 0;
}

void kmesh_h2_conn_exit(void)
{
	struct kmesh_h2_conn *c;
	struct hlist_node *tmp;
	int bkt;

	struct kmesh_h2_rx *rx;

	/* no BPF program can call in any more: the module is going */
	spin_lock_bh(&kmesh_h2_lock);
	hash_for_each_safe(kmesh_h2_conns, bkt, tmp, c, node) {
		hash_del(&c->node);
		kmesh_h2_free(c);
	}
	spin_unlock_bh(&kmesh_h2_lock);
	for (;;) {
		rx = NULL;
		spin_lock_bh(&kmesh_h2_lock);
		for (bkt = 0; bkt < HASH_SIZE(kmesh_h2_rxs) && !rx; bkt++)
			hlist_for_each_entry(rx, &kmesh_h2_rxs[bkt], node)
				break;
		spin_unlock_bh(&kmesh_h2_lock);
		if (!rx)
			break;
		kmesh_h2_rx_drop(rx);
	}
	/* a kmesh_h2_data_ready() that took the old pointer is done */
	synchronize_net();
}
