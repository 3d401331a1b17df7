// SPDX-License-Identifier: GPL-2.0-only
/*
 * Accepted sockets of the inbound check (bpf/include/inbound_skb.h) get
 * the module's proto_ops before accept() returns to the application, one
 * of two ways:
 *  - an fexit program on inet_accept calls bpf_kmesh_inbound_accepted()
 *    for each (kernels with BPF trampolines: Debian's);
 *  - the door (cgroup_skb/ingress), on a SYN to a listener, calls
 *    bpf_kmesh_inbound_listener() where it may call kfuncs (the common
 *    kfunc hook): the listener's own ops become ours, and do_accept()
 *    copies a listener's ops (and takes their owner's reference) into
 *    every socket it accepts.
 *
 * Why. The check is a sockmap stream parser. When bytes arrive while the
 * application holds the socket lock (its own send or receive), the TCP
 * receive path leaves them in sk_receive_queue and the strparser queues
 * its work item (strp_data_ready: "owned by user"). A read that comes
 * before that work ran, or a reader woken with nothing parsed yet, gets
 * -EAGAIN from tcp_bpf_recvmsg_parser() even on a *blocking* socket (Linux
 * 6.1: the pre-accept check at its entry and the end of its wait). A
 * blocking server takes that for an error and drops the connection: its
 * client gets no response, or a reset. The same holds for bytes that came
 * before accept(): the strparser cannot read a socket without a struct
 * socket, so they wait for the first read, which returns -EAGAIN.
 *
 * What we do:
 *  - sock->ops becomes a copy of inet(6)_stream_ops whose recvmsg, for a
 *    blocking read that got -EAGAIN before its SO_RCVTIMEO ran out, waits
 *    for the strparser's work (flush_work) and reads again: the
 *    application sees bytes, EOF or a real error, never that -EAGAIN. The
 *    copy's owner is this module (a reference per socket, dropped by
 *    __sock_release() after our release), as in defer.c.
 *  - Bytes already received are parsed at once (kmesh_inbound_kick), so
 *    they are checked before the application asks.
 */
#include <linux/skmsg.h>
#include <linux/sched/signal.h>
#include <net/inet_common.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "kmesh.h"

/* An ordinary TCP socket's ops of one family, and our copy of them. */
struct kmesh_inbound_family {
	const struct proto_ops *base;
	struct proto_ops ops;
};

static struct kmesh_inbound_family kmesh_in_families[2];	/* IPv4, IPv6 */

static struct kmesh_inbound_family *kmesh_in_family(int family)
{
	struct kmesh_inbound_family *fam;

	if (family == AF_INET)
		fam = &kmesh_in_families[0];
	else if (family == AF_INET6)
		fam = &kmesh_in_families[1];
	else
		return NULL;
	return fam->base ? fam : NULL;
}

/* Let the strparser's queued work (if any) finish. */
static void kmesh_inbound_flush(struct sock *sk)
{
	struct sk_psock *psock = sk_psock_get(sk);

	if (!psock)
		return;
	/* a psock without a parser never initialised the work */
	if (READ_ONCE(psock->strp.work.func))
		flush_work(&psock->strp.work);
	sk_psock_put(sk, psock);
}

static int kmesh_inbound_recvmsg(struct socket *sock, struct msghdr *msg,
				 size_t size, int flags)
{
	struct kmesh_inbound_family *fam = kmesh_in_family(sock->sk->sk_family);
	struct sock *sk = sock->sk;
	long timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	unsigned long deadline = jiffies + timeo;
	unsigned int rounds = 0;
	int ret;

	for (;;) {
		ret = fam->base->recvmsg(sock, msg, size, flags);
		if (ret != -EAGAIN || !timeo)
			return ret;
		if (timeo != MAX_SCHEDULE_TIMEOUT && time_after_eq(jiffies, deadline))
			return ret;
		if (signal_pending(current))
			return sock_intr_errno(timeo);
		kmesh_inbound_flush(sk);
		/* the work could not parse yet (memory): do not spin */
		if (++rounds > 1)
			schedule_timeout_interruptible(1);
	}
}

/*
 * Hand bytes received before accept() to the stream parser, in process
 * context right after accept(): run the socket's data_ready as the TCP
 * receive path does (BH off, bh_lock_sock, not owned by a user), so the
 * strparser reads them now instead of queueing its work; if a user holds
 * the socket, its work item does it.
 */
static void kmesh_inbound_kick(struct sock *sk)
{
	struct sk_psock *psock;
	bool done = false;

	if (skb_queue_empty_lockless(&sk->sk_receive_queue))
		return;
	psock = sk_psock_get(sk);
	if (!psock)
		return;
	if (READ_ONCE(psock->strp.work.func) &&
	    READ_ONCE(psock->progs.stream_parser)) {
		local_bh_disable();
		bh_lock_sock(sk);
		if (!sock_owned_by_user(sk)) {
			sk->sk_data_ready(sk);
			done = true;
		}
		bh_unlock_sock(sk);
		local_bh_enable();
		if (!done)
			strp_check_rcv(&psock->strp);
	}
	sk_psock_put(sk, psock);
}

/* A listener's accept: the new socket has our ops already (do_accept). */
static int kmesh_inbound_accept(struct socket *sock, struct socket *newsock,
				KMESH_ACCEPT_ARGS)
{
	struct kmesh_inbound_family *fam = kmesh_in_family(sock->sk->sk_family);
	int err = fam->base->accept(sock, newsock, KMESH_ACCEPT_PASS);

	if (!err && newsock->sk)
		kmesh_inbound_kick(newsock->sk);
	return err;
}

__bpf_kfunc_start_defs();

/**
 * bpf_kmesh_inbound_accepted - take over an accepted socket of the check
 * @sock: the socket inet_accept() just filled (fexit program's argument)
 *
 * Only a connected TCP socket with an ordinary inet(6) stream ops and a
 * sockmap stream parser is taken; calling it twice is harmless.
 *
 * Return: 0 (taken, or already ours), -EINVAL (not such a socket),
 * -ENOENT (no stream parser on it), -EBUSY (not in process context).
 */
__bpf_kfunc int bpf_kmesh_inbound_accepted(struct socket *sock)
{
	struct kmesh_inbound_family *fam;
	struct sk_psock *psock;
	struct sock *sk;
	bool parser;

	if (!in_task())
		return -EBUSY;
	if (!sock)
		return -EINVAL;
	sk = READ_ONCE(sock->sk);
	if (!sk || !sk_fullsock(sk) || sk->sk_type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP || sk->sk_socket != sock)
		return -EINVAL;
	fam = kmesh_in_family(sk->sk_family);
	if (!fam)
		return -EINVAL;
	psock = sk_psock_get(sk);
	if (!psock)
		return -ENOENT;
	parser = READ_ONCE(psock->strp.work.func) &&
		 READ_ONCE(psock->progs.stream_parser);
	if (parser && cmpxchg(&sock->ops, fam->base,
				      (const struct proto_ops *)&fam->ops) == fam->base)
		__module_get(THIS_MODULE);	/* put by __sock_release() */
	sk_psock_put(sk, psock);
	if (parser)
		kmesh_inbound_kick(sk);
	return parser ? 0 : -ENOENT;
}

/**
 * bpf_kmesh_inbound_listener - give a listener the module's proto_ops
 * @ctx: a cgroup_skb program's packet (a SYN) whose socket is the listener
 *
 * Every socket the listener accepts from then on inherits them (see the
 * top of this file). Only an open TCP listener with an ordinary inet(6)
 * stream ops is taken; calling it again is harmless.
 *
 * Return: 0 (taken, or already ours), -EINVAL (not such a socket),
 * -EBUSY (its owner holds it, or it is being closed: try on a later SYN).
 */
__bpf_kfunc int bpf_kmesh_inbound_listener(struct __sk_buff *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx;
	struct kmesh_inbound_family *fam;
	struct socket *sock;
	struct file *file;
	struct sock *sk;
	int ret = -EBUSY;

	sk = skb ? skb->sk : NULL;
	if (!sk || !sk_fullsock(sk) || sk->sk_type != SOCK_STREAM ||
	    sk->sk_protocol != IPPROTO_TCP)
		return -EINVAL;
	fam = kmesh_in_family(sk->sk_family);
	if (!fam)
		return -EINVAL;
	rcu_read_lock();
	sock = READ_ONCE(sk->sk_socket);
	file = sock ? READ_ONCE(sock->file) : NULL;
	/* a live file: __sock_release() cannot have read the ops yet */
	if (!file || !kmesh_get_file_live(file)) {
		rcu_read_unlock();
		return -EBUSY;
	}
	rcu_read_unlock();
	if (READ_ONCE(sock->ops) == &fam->ops) {
		ret = 0;
	} else if (READ_ONCE(sk->sk_state) == TCP_LISTEN &&
		   cmpxchg(&sock->ops, fam->base,
			   (const struct proto_ops *)&fam->ops) == fam->base) {
		__module_get(THIS_MODULE);	/* put by __sock_release() */
		ret = 0;
	} else if (READ_ONCE(sock->ops) != fam->base) {
		ret = -EINVAL;
	}
	fput(file);
	return ret;
}

__bpf_kfunc_end_defs();

/* Learn an ordinary TCP socket's ops of @family from one of our own (as
 * defer.c: inet6_stream_ops is not exported, IPv6 may be a module). */
static void kmesh_inbound_learn(int family, struct kmesh_inbound_family *fam)
{
	struct socket *sock;

	if (sock_create_kern(&init_net, family, SOCK_STREAM, IPPROTO_TCP, &sock))
		return;
	fam->ops = *sock->ops;
	fam->ops.owner = THIS_MODULE;
	fam->ops.recvmsg = kmesh_inbound_recvmsg;
	fam->ops.accept = kmesh_inbound_accept;
	fam->base = sock->ops;
	sock_release(sock);
}

void kmesh_inbound_init(void)
{
	kmesh_inbound_learn(AF_INET, &kmesh_in_families[0]);
	kmesh_inbound_learn(AF_INET6, &kmesh_in_families[1]);
}
