// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deferred connect: route an HTTP connection on its first request.
 *
 * In kfunc mode the L4 connect program hands a connect to an HTTP service
 * with routes over to us (bpf_kmesh_defer_connect). connect() returns 0
 * without a SYN; what the application writes is kept until the request
 * head parses; then the connect program runs again for the dialed address,
 * matches the head through bpf_kmesh_deferred_route() and picks the
 * endpoint; then we connect for real and send the kept bytes. Policy stays
 * in BPF: the module holds the socket, parses, matches and replays.
 *
 * How a socket is taken over, and why this way:
 *  - sock->ops becomes a per-socket copy of inet(6)_stream_ops (embedded
 *    in struct kmesh_defer) for the rest of the socket's life. Every system
 *    call enters through it, so we can keep the order of bytes (the kept
 *    head before any later write), answer getpeername() and mask poll(),
 *    and container_of() finds our state without sk_user_data, which the
 *    sockhash needs free. The copy's owner is this module: __sock_release()
 *    drops that reference in built-in code after our release returned, so
 *    rmmod is refused while such a socket is open, and no thread can be in
 *    our code when the module goes (each one holds the file).
 *  - sk->sk_prot becomes a copy of tcp_prot/tcpv6_prot that differs only in
 *    .connect, for the one connect() that armed us: __inet_stream_connect()
 *    reads sk_prot->connect after the cgroup hook, so our .connect runs in
 *    place of tcp_v4/v6_connect, puts the original back at once and reports
 *    success. Sockops and the sockhash (which saves the current sk_prot and
 *    rebuilds its IPv6 protos from it) only ever see the original.
 *  - While the head is gathered the socket looks like a TCP_FASTOPEN_CONNECT
 *    socket before its first write: TCP_SYN_SENT with defer_connect set, so
 *    tcp_poll() says EPOLLOUT, a second connect() says EISCONN and close()
 *    needs nothing special. tcp_sendmsg() never sees defer_connect (it would
 *    try fast open): our sendmsg takes the writes.
 *  - The real connect runs in the sendmsg that completes the head, socket
 *    locked, through the original proto's pre_connect (the cgroup hook
 *    again, with the dialed address) and connect (tcp_v6_connect is static).
 *    The kept bytes go out after the handshake through the socket's normal
 *    sendmsg, so they take the sockhash/sk_msg path like any later byte.
 *    That needs process context: sk_state_change, always called with the
 *    socket locked, queues a work item that holds the file while it sends.
 */
#include <linux/file.h>
#include <linux/filter.h>
#include <linux/slab.h>
#include <linux/delay.h>
#include <net/inet6_hashtables.h>
#include <net/inet_connection_sock.h>
#include <net/inet_hashtables.h>
#include <net/inet_sock.h>
#include <net/tcp.h>

#include "defer.h"
#include "core/route.h"

/* An ordinary TCP socket of one family on this kernel, and our proto copy. */
struct kmesh_defer_family {
	const struct proto_ops *ops;
	struct proto *prot;
	struct proto tramp;	/* prot with .connect = kmesh_defer_tramp_connect */
};

static struct kmesh_defer_family kmesh_families[2];	/* IPv4, IPv6 */
static void (*kmesh_default_state_change)(struct sock *sk);
static struct workqueue_struct *kmesh_defer_wq;

static struct kmesh_defer_family *kmesh_family_of(const struct sock *sk)
{
	struct kmesh_defer_family *fam;

	if (sk->sk_family == AF_INET)
		fam = &kmesh_families[0];
	else if (sk->sk_family == AF_INET6)
		fam = &kmesh_families[1];
	else
		return NULL;
	return fam->ops ? fam : NULL;
}

/* Our state if @sock is a taken-over socket. */
static struct kmesh_defer *kmesh_defer_of(struct socket *sock)
{
	const struct proto_ops *ops = sock ? READ_ONCE(sock->ops) : NULL;

	if (!ops || ops->release != kmesh_defer_release)
		return NULL;
	return container_of(ops, struct kmesh_defer, ops);
}

void kmesh_defer_wake(struct sock *sk)
{
	struct socket_wq *wq;

	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_all(&wq->wait);
	rcu_read_unlock();
}

/* Every change wakes the waiters: they wait for the phase, not for data. */
void kmesh_defer_set_phase(struct kmesh_defer *d, u8 phase)
{
	/* Pairs with smp_load_acquire() in kmesh_defer_phase(). */
	smp_store_release(&d->phase, phase);
	kmesh_defer_wake(d->sk);
}

void kmesh_defer_free_head(struct kmesh_defer_head *h)
{
	if (!h)
		return;
	kvfree(h->buf);
	kfree(h);
}

/* From now on the socket is the kernel's alone (the reply stays readable). */
void kmesh_defer_pass(struct kmesh_defer *d)
{
	kmesh_defer_free_head(d->head);
	d->head = NULL;
	kmesh_defer_set_phase(d, KMESH_DEFER_PASS);
}

/* ---- the connect that arms us ---- */

static int kmesh_defer_set_vip(struct kmesh_defer *d, const struct sockaddr *a)
{
	memset(&d->vip, 0, sizeof(d->vip));
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;

		d->vip.v4.sin_family = AF_INET;
		d->vip.v4.sin_port = s->sin_port;
		d->vip.v4.sin_addr = s->sin_addr;
		d->vip_len = sizeof(d->vip.v4);
	} else {
		/* pre_connect checked SIN6_LEN_RFC2133 bytes: no scope id. */
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;

		d->vip.v6.sin6_family = AF_INET6;
		d->vip.v6.sin6_port = s->sin6_port;
		d->vip.v6.sin6_addr = s->sin6_addr;
		d->vip_len = sizeof(d->vip.v6);
	}
	return 0;
}

static bool kmesh_defer_is_vip(const struct kmesh_defer *d,
			       const struct sockaddr *a, int len)
{
	if (a->sa_family != d->vip.sa.sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)a;

		return len >= sizeof(*s) && s->sin_port == d->vip.v4.sin_port &&
		       s->sin_addr.s_addr == d->vip.v4.sin_addr.s_addr;
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;

		return len >= SIN6_LEN_RFC2133 &&
		       s->sin6_port == d->vip.v6.sin6_port &&
		       ipv6_addr_equal(&s->sin6_addr, &d->vip.v6.sin6_addr);
	}
}

/*
 * sk->sk_prot->connect of an armed socket, called by __inet_stream_connect()
 * right after the cgroup hooks, socket locked. Another hook may have
 * rewritten the address after ours (or the kfunc was called from a bind
 * hook): then this is not the connect we were asked to hold.
 */
static int kmesh_defer_tramp_connect(struct sock *sk, struct sockaddr *uaddr,
				     int addr_len)
{
	struct kmesh_defer_family *fam = kmesh_family_of(sk);
	struct kmesh_defer *d = kmesh_defer_of(sk->sk_socket);

	WRITE_ONCE(sk->sk_prot, fam->prot);
	if (!d || d->phase != KMESH_DEFER_ARMED ||
	    !kmesh_defer_is_vip(d, uaddr, addr_len)) {
		if (d && d->phase == KMESH_DEFER_ARMED)
			kmesh_defer_pass(d);
		return fam->prot->connect(sk, uaddr, addr_len);
	}
	kmesh_set_defer_connect(sk, 1);
	inet_sk_set_state(sk, TCP_SYN_SENT);
	kmesh_defer_set_phase(d, KMESH_DEFER_HEAD);
	return 0;
}

static void kmesh_defer_init_ops(struct kmesh_defer *d,
				 const struct proto_ops *base)
{
	d->base = base;
	d->ops = *base;
	d->ops.owner = THIS_MODULE;
	d->ops.release = kmesh_defer_release;
	d->ops.connect = kmesh_defer_connect;
	d->ops.listen = kmesh_defer_listen;
	d->ops.getname = kmesh_defer_getname;
	d->ops.poll = kmesh_defer_poll;
	d->ops.ioctl = kmesh_defer_ioctl;
	d->ops.shutdown = kmesh_defer_shutdown;
	d->ops.setsockopt = kmesh_defer_setsockopt;
	d->ops.sendmsg = kmesh_defer_sendmsg;
	d->ops.recvmsg = kmesh_defer_recvmsg;
#ifdef KMESH_HAVE_OPS_SENDPAGE
	d->ops.sendpage = kmesh_defer_sendpage;
#endif
}

static void kmesh_defer_flush_work(struct work_struct *work);

static bool kmesh_defer_is_tcp(const struct sock *sk)
{
	return sk && sk_fullsock(sk) && sk->sk_type == SOCK_STREAM &&
	       sk->sk_protocol == IPPROTO_TCP &&
	       (sk->sk_family == AF_INET || sk->sk_family == AF_INET6);
}

/* May we hold this connect? 0 or why not. */
static int kmesh_defer_may_arm(struct sock *sk, struct socket *sock,
			       const struct kmesh_defer_family *fam)
{
	const struct tcp_sock *tp = tcp_sk(sk);

	/* Anything but plain TCP (MPTCP, kTLS, a sockhash member...) is not ours. */
	if (!fam || READ_ONCE(sock->ops) != fam->ops ||
	    READ_ONCE(sk->sk_prot) != fam->prot)
		return -EOPNOTSUPP;
	if (sk->sk_state != TCP_CLOSE || sock->state != SS_UNCONNECTED)
		return -EISCONN;
	/* Fast open defers on its own, repair builds connections by hand. */
	if (tp->fastopen_connect || tp->repair || inet_csk(sk)->icsk_ulp_ops)
		return -EOPNOTSUPP;
	return 0;
}

/*
 * Arm @sk, whose connect to @uaddr the cgroup hook is deciding. Called
 * from a BPF program: RCU held, socket locked, nothing may sleep.
 */
static int kmesh_defer_arm(struct sock *sk, const struct sockaddr *uaddr,
			   u32 parse_opts)
{
	struct kmesh_defer_family *fam;
	struct kmesh_defer *d;
	struct socket *sock;
	int err;

	if (!kmesh_defer_is_tcp(sk) || !uaddr || uaddr->sa_family != sk->sk_family)
		return -EINVAL;
	/* Connect hooks run with the socket locked; we rely on it below. */
	sock = sk->sk_socket;
	if (!sock || !sock_owned_by_user_nocheck(sk))
		return -EINVAL;
	d = kmesh_defer_of(sock);
	if (d) {
		/* Connecting again after a later hook refused the first try. */
		if (d->phase != KMESH_DEFER_ARMED)
			return -EBUSY;
		d->parse_opts = parse_opts;
		return kmesh_defer_set_vip(d, uaddr);
	}
	fam = kmesh_family_of(sk);
	err = kmesh_defer_may_arm(sk, sock, fam);
	if (err)
		return err;

	d = kzalloc(sizeof(*d), GFP_ATOMIC | __GFP_NOWARN);
	if (!d)
		return -ENOMEM;
	/* Dropped by __sock_release(), through d->ops.owner. */
	if (!try_module_get(THIS_MODULE)) {
		kfree(d);
		return -ENODEV;
	}
	kmesh_defer_init_ops(d, sock->ops);
	d->parse_opts = parse_opts;
	d->orig_prot = fam->prot;
	d->sock = sock;
	d->sk = sk;
	d->phase = KMESH_DEFER_ARMED;
	INIT_WORK(&d->flush, kmesh_defer_flush_work);
	kmesh_defer_set_vip(d, uaddr);
	WRITE_ONCE(sk->sk_prot, &fam->tramp);
	WRITE_ONCE(sock->ops, &d->ops);
	return 0;
}

/* ---- waiting for the handshake ---- */

/*
 * Reference the file for the flush work: it sends on the socket, sleeping
 * on its wait queue, after the hook returned. A close that already dropped
 * the last reference wins; its release cleans up instead.
 */
static void kmesh_defer_queue_flush(struct kmesh_defer *d)
{
	struct file *file = READ_ONCE(d->sock->file);

	if (!file || !kmesh_get_file_live(file))
		return;
	d->flush_file = file;
	queue_work(kmesh_defer_wq, &d->flush);
}

/*
 * sk_state_change while the real connect is under way. The kernel calls it
 * with the socket locked (softirq with the spinlock, or the owner running
 * the backlog), and we unhook with the socket locked before it is
 * released, so @d is alive here.
 */
static void kmesh_defer_state_change(struct sock *sk)
{
	struct kmesh_defer *d = kmesh_defer_of(sk->sk_socket);
	void (*next)(struct sock *sk);

	if (!d) {
		/* Cannot happen (see above); stay a correct callback anyway. */
		kmesh_default_state_change(sk);
		return;
	}
	next = d->saved_state_change;
	if (!((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))) {
		/* Established, or failed: either way the head's fate is decided. */
		kmesh_defer_unhook(d);
		kmesh_defer_queue_flush(d);
	}
	next(sk);
}

void kmesh_defer_hook(struct kmesh_defer *d)
{
	struct sock *sk = d->sk;

	write_lock_bh(&sk->sk_callback_lock);
	d->saved_state_change = sk->sk_state_change;
	WRITE_ONCE(sk->sk_state_change, kmesh_defer_state_change);
	d->hooked = true;
	write_unlock_bh(&sk->sk_callback_lock);
}

void kmesh_defer_unhook(struct kmesh_defer *d)
{
	struct sock *sk = d->sk;

	if (!d->hooked)
		return;
	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_state_change == kmesh_defer_state_change)
		WRITE_ONCE(sk->sk_state_change, d->saved_state_change);
	d->hooked = false;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * A server on this node files its end of our connection for redirects in
 * sockops (PASSIVE_ESTABLISHED) when it takes the handshake's last ACK.
 * That ACK can still wait in a CPU's backlog when this work runs (the
 * state change that queued us came with the SYN-ACK), and the sk_msg
 * verdict of the first send fixes the connection's path for its whole
 * life (bpf/include/l4_sock.h): sent now, every byte would go through
 * TCP instead of socket to socket. So while the peer is a local socket
 * still in its handshake, wait for it, a bounded time. Nothing is found
 * for a peer on another host: no wait.
 */
#define KMESH_DEFER_PEER_WAIT_US	20000
#define KMESH_DEFER_PEER_POLL_US	50

static bool kmesh_defer_peer_in_handshake(struct sock *sk)
{
	struct inet_hashinfo *hinfo = sock_net(sk)->ipv4.tcp_death_row.hashinfo;
	const struct inet_sock *inet = inet_sk(sk);
	struct sock *peer;
	bool pending;

	rcu_read_lock();
#if IS_ENABLED(CONFIG_IPV6)
	if (sk->sk_family == AF_INET6 && !ipv6_addr_v4mapped(&sk->sk_v6_daddr))
		peer = __inet6_lookup_established(sock_net(sk), hinfo,
						  &sk->sk_v6_rcv_saddr,
						  inet->inet_sport,
						  &sk->sk_v6_daddr,
						  ntohs(inet->inet_dport), 0, 0);
	else
#endif
		peer = __inet_lookup_established(sock_net(sk), hinfo,
						 inet->inet_saddr,
						 inet->inet_sport,
						 inet->inet_daddr,
						 ntohs(inet->inet_dport), 0, 0);
	rcu_read_unlock();
	if (!peer)
		return false;
	/* a request sock, or the child before sockops ran (tcp_rcv_state_process
	 * calls PASSIVE_ESTABLISHED before it sets TCP_ESTABLISHED) */
	pending = (1 << READ_ONCE(peer->sk_state)) &
		  (TCPF_NEW_SYN_RECV | TCPF_SYN_RECV);
	sock_gen_put(peer);
	return pending;
}

static void kmesh_defer_wait_local_peer(struct sock *sk)
{
	unsigned int waited;

	for (waited = 0; waited < KMESH_DEFER_PEER_WAIT_US;
	     waited += KMESH_DEFER_PEER_POLL_US) {
		if (!kmesh_defer_peer_in_handshake(sk))
			return;
		usleep_range(KMESH_DEFER_PEER_POLL_US,
			     2 * KMESH_DEFER_PEER_POLL_US);
	}
}

/*
 * Failover at connect: the real connect failed (refused, timed out,
 * unreachable) before the application saw anything of it (its reads,
 * writes and polls wait while we connect), so try again: the connect hook
 * runs once more and picks another endpoint (it avoids the one this
 * socket just failed on: bpf/include/l4_connect.h). At most
 * connect_failover more attempts. Socket locked. True when the attempt
 * was made: the socket is connecting again, or was answered or failed by
 * kmesh_defer_route() itself.
 */
static bool kmesh_defer_failover(struct kmesh_defer *d)
{
	struct sock *sk = d->sk;
	int err = READ_ONCE(sk->sk_err);

	if (sk->sk_state != TCP_CLOSE || !d->head ||
	    d->failovers >= READ_ONCE(kmesh_connect_failover))
		return false;
	if (err != ECONNREFUSED && err != ETIMEDOUT && err != EHOSTUNREACH &&
	    err != ENETUNREACH)
		return false;
	d->failovers++;
	/* what tcp_done() left (shutdown, timers, queues) undone */
	sk->sk_prot->disconnect(sk, 0);
	WRITE_ONCE(sk->sk_err, 0);
	err = kmesh_defer_route(d);
	if (err) {
		/* the hook refused this attempt: its error is the one to see */
		WRITE_ONCE(sk->sk_err, -err);
		sk_error_report(sk);
	}
	return true;
}

/*
 * Send the kept head once the handshake is done (or give up on it), then
 * let the socket go. Holds the file: the socket and its wait queue stay.
 */
static void kmesh_defer_flush_work(struct work_struct *work)
{
	struct kmesh_defer *d = container_of(work, struct kmesh_defer, flush);
	struct file *file = d->flush_file;
	struct kmesh_defer_head *h = NULL;
	struct sock *sk = d->sk;
	int err = -ENOTCONN;
	u8 shut = 0;

	lock_sock(sk);
	if (d->phase == KMESH_DEFER_CONNECTING && kmesh_defer_failover(d)) {
		release_sock(sk);
		fput(file);
		return;
	}
	/* Ours while we send: a disconnect meanwhile must not free it. */
	if (d->phase == KMESH_DEFER_CONNECTING &&
	    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		h = d->head;
		d->head = NULL;
	}
	release_sock(sk);

	if (h) {
		kmesh_defer_wait_local_peer(sk);
		err = kmesh_defer_send_head(d, h);
	}

	lock_sock(sk);
	if (d->phase == KMESH_DEFER_CONNECTING) {
		d->sent = !err;
		shut = d->shut;
		/*
		 * Connected, but the head could not go (an sk_msg verdict
		 * dropped it, say): whatever the application sends next
		 * would reach the backend without its head. Reset.
		 */
		if (h && err &&
		    ((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
			pr_info_ratelimited("connect to %pISpc reset: the request head could not be sent (%d)\n",
					    &d->vip.sa, err);
			sk->sk_prot->disconnect(sk, 0);
			d->sock->state = SS_UNCONNECTED;
			shut = 0;
		}
		kmesh_defer_pass(d);
	}
	release_sock(sk);
	kmesh_defer_free_head(h);
	if (shut)
		d->base->shutdown(d->sock, shut - 1);
	fput(file);
}

/*
 * Armed, but the connect never reached us (a later hook refused it): put
 * the original proto back before anything can copy ours into a socket
 * that outlives the module (listen() clones children from sk_prot).
 */
void kmesh_defer_disarm(struct kmesh_defer *d)
{
	struct sock *sk = d->sk;

	if (READ_ONCE(sk->sk_prot) == &kmesh_family_of(sk)->tramp)
		WRITE_ONCE(sk->sk_prot, d->orig_prot);
	if (d->phase == KMESH_DEFER_ARMED)
		kmesh_defer_pass(d);
}

/*
 * proto_ops.release: give back what is ours before the inet release runs
 * (it may orphan the socket, after which nobody may call into us).
 */
int kmesh_defer_release(struct socket *sock)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;
	int err;

	if (sk) {
		lock_sock(sk);
		kmesh_defer_unhook(d);
		kmesh_defer_disarm(d);
		release_sock(sk);
	}
	err = d->base->release(sock);
	/*
	 * Nothing can reach @d now: the file is gone (the flush work held it
	 * while it ran), the hook is off, and __sock_release() only clears
	 * sock->ops after we return.
	 */
	kmesh_defer_free_head(d->head);
	kfree(d->reply);
	kfree(d);
	return err;
}

/* ---- kfuncs ---- */

/* The socket whose deferred request the connect hook is routing. */
static struct kmesh_defer *kmesh_defer_routing(struct bpf_sock_addr *ctx)
{
	struct sock *sk = ((struct bpf_sock_addr_kern *)ctx)->sk;
	struct kmesh_defer *d;

	if (!kmesh_defer_is_tcp(sk))
		return ERR_PTR(-EINVAL);
	d = kmesh_defer_of(sk->sk_socket);
	if (!d || d->phase != KMESH_DEFER_ROUTING ||
	    !sock_owned_by_user_nocheck(sk))
		return ERR_PTR(-ESRCH);
	return d;
}

/* Keep what the module needs of a verdict to answer it itself. */
static void kmesh_defer_keep_verdict(struct kmesh_defer_head *h,
				     const u8 *table, u32 table_len,
				     const struct kmesh_route_verdict *v)
{
	h->verdict = *v;
	h->body_len = 0;
	if (v->kind != KMESH_RT_V_DIRECT || v->body_len > sizeof(h->body) ||
	    v->body_off > table_len || v->body_len > table_len - v->body_off)
		return;
	memcpy(h->body, table + v->body_off, v->body_len);
	h->body_len = v->body_len;
}

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_defer_connect - hold this connect until the first request head
 * @ctx: the cgroup/connect4 or connect6 program's context
 * @parse_opts: KMESH_HTTP_REQ_OPT_* for the head (a service's
 *	path_normalization); unknown bits are ignored
 *
 * The connect returns 0 at once without a SYN. The head the application
 * writes is kept; once it parses, the connect hook runs again for the same
 * address, where bpf_kmesh_deferred_route() sees it.
 *
 * Return: 0; -EINVAL when @ctx is not a locked TCP socket being connected;
 * -EOPNOTSUPP for sockets we leave alone (not plain TCP, TCP fast open,
 * repair mode, a ULP); -EISCONN; -EBUSY when this socket was deferred
 * before; -ENOMEM. On any error the connect is the program's to decide.
 */
__bpf_kfunc int bpf_kmesh_defer_connect(struct bpf_sock_addr *ctx,
					u32 parse_opts)
{
	struct bpf_sock_addr_kern *sa = (struct bpf_sock_addr_kern *)ctx;

	return kmesh_defer_arm(sa->sk, sa->uaddr, parse_opts);
}

/**
 * bpf_kmesh_deferred_route - match the deferred request against routes
 * @ctx: the cgroup/connect4 or connect6 program's context
 * @query: table id and random number in, verdict and method out
 *
 * Return: 0 with @query->verdict filled; -ESRCH when this connect is an
 * ordinary one (no deferred request is being routed); -ENOENT when no
 * table has that id; KMESH_KFUNC_ROUTE_ERR(enum kmesh_rt_err) when the
 * matcher refuses the kept request; -EINVAL for a bad @ctx or a NULL
 * @query.
 */
__bpf_kfunc int bpf_kmesh_deferred_route(struct bpf_sock_addr *ctx,
					 struct kmesh_route_query *query)
{
	struct kmesh_defer *d = kmesh_defer_routing(ctx);
	struct kmesh_defer_head *h;
	const void *table;
	u32 len;
	int ret;

	/* 6.1's verifier lets NULL through for an unsized struct pointer. */
	if (!query)
		return -EINVAL;
	if (IS_ERR(d))
		return PTR_ERR(d);
	h = d->head;
	rcu_read_lock();
	table = kmesh_table_get(query->table_id, &len);
	if (!table) {
		ret = -ENOENT;
	} else {
		ret = kmesh_route_match(table, &h->req, h->buf, h->req.head_len,
					query->rand, &query->verdict);
		query->method = h->req.method;
		if (!ret)
			kmesh_defer_keep_verdict(h, table, len, &query->verdict);
		ret = kmesh_kfunc_route_ret(ret);
	}
	rcu_read_unlock();
	return ret;
}

/**
 * bpf_kmesh_deferred_reply - answer the deferred request from the module
 * @ctx: the cgroup/connect4 or connect6 program's context
 * @status: 200..599, or KMESH_DEFER_REPLY_ROUTE for the status (and, for a
 *	DIRECT route, the body) of the last bpf_kmesh_deferred_route() verdict
 *
 * The connect is not made: the application reads an HTTP/1.1 response
 * with "connection: close", then end of file. The program should refuse
 * the connect (return 0) after this call.
 *
 * Return: 0; -ESRCH when no deferred request is being routed; -EINVAL for
 * a status out of range or a route verdict that is neither DENY nor DIRECT.
 */
__bpf_kfunc int bpf_kmesh_deferred_reply(struct bpf_sock_addr *ctx, u32 status)
{
	struct kmesh_defer *d = kmesh_defer_routing(ctx);
	struct kmesh_defer_head *h;
	bool route_body = false;

	if (IS_ERR(d))
		return PTR_ERR(d);
	h = d->head;
	if (status == KMESH_DEFER_REPLY_ROUTE) {
		if (h->verdict.kind != KMESH_RT_V_DENY &&
		    h->verdict.kind != KMESH_RT_V_DIRECT)
			return -EINVAL;
		status = h->verdict.status;
		route_body = h->verdict.kind == KMESH_RT_V_DIRECT;
	}
	if (status < 200 || status > 599)
		return -EINVAL;
	h->reply_status = status;
	h->reply_route_body = route_body;
	return 0;
}

__bpf_kfunc_end_defs();

/* ---- module ---- */

/*
 * Learn what an ordinary TCP socket of @family looks like here (its ops,
 * its proto, its default callbacks) from one of our own: inet6_stream_ops
 * is not exported, and this way IPv6 may be absent or a module.
 */
static void kmesh_defer_learn(int family, struct kmesh_defer_family *fam)
{
	struct socket *sock;
	int err;

	err = sock_create_kern(&init_net, family, SOCK_STREAM, IPPROTO_TCP,
			       &sock);
	if (err) {
		pr_info("no %s TCP sockets here (%d): such connects are not deferred\n",
			family == AF_INET ? "IPv4" : "IPv6", err);
		return;
	}
	fam->prot = sock->sk->sk_prot;
	fam->tramp = *fam->prot;
	fam->tramp.connect = kmesh_defer_tramp_connect;
	if (!kmesh_default_state_change)
		kmesh_default_state_change = sock->sk->sk_state_change;
	fam->ops = sock->ops;
	sock_release(sock);
}

int kmesh_defer_init(void)
{
	/* Unbound: a flush may sleep until the peer's window opens. */
	kmesh_defer_wq = alloc_workqueue("kmesh_defer", WQ_UNBOUND, 0);
	if (!kmesh_defer_wq)
		return -ENOMEM;
	kmesh_defer_learn(AF_INET, &kmesh_families[0]);
	kmesh_defer_learn(AF_INET6, &kmesh_families[1]);
	return 0;
}

void kmesh_defer_exit(void)
{
	/*
	 * Every taken-over socket holds a module reference until released,
	 * and its flush work holds the file: none can be left. Destroying
	 * the queue still waits for a work item's last instructions.
	 */
	destroy_workqueue(kmesh_defer_wq);
}
