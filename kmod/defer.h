/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Deferred connect: declarations shared by kmod/defer.c (taking a socket
 * over and giving it back, the kfuncs) and kmod/defer_ops.c (the system
 * calls of a taken-over socket). The design is described in defer.c.
 */
#ifndef KMESH_DEFER_H
#define KMESH_DEFER_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/net.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include "kmesh.h"
#include "core/http1.h"

/*
 * Where a taken-over socket is. Written with the socket locked and with
 * kmesh_defer_set_phase(); the lockless readers (poll, getname and the
 * PASS fast paths) use smp_load_acquire(). PASS is final.
 */
enum kmesh_defer_phase {
	KMESH_DEFER_ARMED,	/* kfunc ran; its connect() has not reached us */
	KMESH_DEFER_HEAD,	/* connect() returned 0; gathering the head */
	KMESH_DEFER_ROUTING,	/* the connect hook runs again (socket locked) */
	KMESH_DEFER_CONNECTING,	/* real connect sent; the head waits for it */
	KMESH_DEFER_REPLY,	/* answered by the module; never connects */
	KMESH_DEFER_PASS,	/* an ordinary socket: the inet ops do it all */
};

union kmesh_defer_addr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

/* The request being gathered and routed; freed once it has been sent. */
struct kmesh_defer_head {
	struct kmesh_http1_limits lim;	/* taken at the first write */
	struct kmesh_http_req req;
	struct kmesh_route_verdict verdict;	/* the last match BPF asked for */
	u32 len;			/* bytes in buf */
	u32 cap;			/* room in buf */
	u8 *buf;
	u16 reply_status;		/* bpf_kmesh_deferred_reply() was called */
	bool reply_route_body;		/* ... for a DIRECT route: its body */
	u16 body_len;
	u8 body[KMESH_RT_MAX_BODY_LEN];	/* DIRECT body, copied at match time */
};

/* A response the module gives instead of a backend. */
struct kmesh_defer_reply {
	u32 len;
	u32 off;			/* read so far */
	u8 data[];
};

struct kmesh_defer {
	/*
	 * sock->ops points here from the kfunc until the socket is released,
	 * so every system call on the socket comes through our functions
	 * and container_of() finds this state.
	 */
	struct proto_ops ops;
	const struct proto_ops *base;	/* inet_stream_ops or inet6_stream_ops */
	struct proto *orig_prot;	/* tcp_prot or tcpv6_prot */
	struct socket *sock;
	struct sock *sk;
	union kmesh_defer_addr vip;	/* the address the application dialed */
	int vip_len;
	u8 phase;			/* enum kmesh_defer_phase */
	u8 shut;			/* RCV/SEND_SHUTDOWN held back while CONNECTING */
	bool hooked;			/* sk_state_change is ours */
	bool sent;			/* the head went out whole */
	u8 failovers;			/* connects tried again elsewhere */
	u32 parse_opts;			/* KMESH_HTTP_REQ_OPT_* from the kfunc */
	void (*saved_state_change)(struct sock *sk);
	struct file *flush_file;	/* the reference the flush work holds */
	struct work_struct flush;
	struct kmesh_defer_head *head;	/* HEAD .. CONNECTING */
	struct kmesh_defer_reply *reply;	/* REPLY, kept until release */
};

int kmesh_defer_init(void);
void kmesh_defer_exit(void);

/* defer.c: the life of a taken-over socket (socket locked where noted). */
int kmesh_defer_release(struct socket *sock);
void kmesh_defer_set_phase(struct kmesh_defer *d, u8 phase);
void kmesh_defer_pass(struct kmesh_defer *d);			/* locked */
void kmesh_defer_disarm(struct kmesh_defer *d);			/* locked */
void kmesh_defer_hook(struct kmesh_defer *d);			/* locked */
void kmesh_defer_unhook(struct kmesh_defer *d);			/* locked */
void kmesh_defer_wake(struct sock *sk);
void kmesh_defer_free_head(struct kmesh_defer_head *h);

/* defer_ops.c: our proto_ops entries and the data path. */
int kmesh_defer_connect(struct socket *sock, struct sockaddr *uaddr,
			int addr_len, int flags);
int kmesh_defer_listen(struct socket *sock, int backlog);
int kmesh_defer_getname(struct socket *sock, struct sockaddr *uaddr, int peer);
__poll_t kmesh_defer_poll(struct file *file, struct socket *sock,
			  struct poll_table_struct *wait);
int kmesh_defer_ioctl(struct socket *sock, unsigned int cmd,
		      unsigned long arg);
int kmesh_defer_shutdown(struct socket *sock, int how);
int kmesh_defer_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen);
int kmesh_defer_sendmsg(struct socket *sock, struct msghdr *msg, size_t size);
int kmesh_defer_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
			int flags);
#ifdef KMESH_HAVE_OPS_SENDPAGE
ssize_t kmesh_defer_sendpage(struct socket *sock, struct page *page,
			     int offset, size_t size, int flags);
#endif
int kmesh_defer_send_head(struct kmesh_defer *d, struct kmesh_defer_head *h);
int kmesh_defer_route(struct kmesh_defer *d);			/* locked */

/*
 * The phase, read without the socket lock (poll, getname, the PASS fast
 * paths). The acquire pairs with the release in kmesh_defer_set_phase():
 * whoever sees a phase also sees what was set up for it (d->reply).
 */
static inline u8 kmesh_defer_phase(const struct kmesh_defer *d)
{
	/* Pairs with smp_store_release() in kmesh_defer_set_phase(). */
	return smp_load_acquire(&d->phase);
}

static inline struct kmesh_defer *kmesh_defer_sock(struct socket *sock)
{
	return container_of(sock->ops, struct kmesh_defer, ops);
}

#endif /* KMESH_DEFER_H */
