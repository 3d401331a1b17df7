// SPDX-License-Identifier: GPL-2.0-only
/*
 * Deferred connect: the system calls of a taken-over socket (defer.c says
 * how a socket gets here). Each entry checks the phase; once the socket is
 * PASS it goes straight to the inet ops it was created with.
 *
 * What an application sees:
 *  - HEAD: writes are kept and reported as written; reads wait (or EAGAIN)
 *    for the request to be routed; poll says writable; getpeername() gives
 *    the dialed address; shutdown() fails with ENOTCONN and ends the
 *    deferral (a request without its head cannot be routed).
 *  - The write that completes the head routes and connects. It reports the
 *    bytes up to the end of the head; a blocking one then waits for the
 *    handshake and sends the rest of its buffer too, as a connected socket
 *    would. A bad head fails it with EBADMSG, one over the limits with
 *    EMSGSIZE; a connect the hook refuses with the hook's errno (these end
 *    the socket: later writes EPIPE, reads end of file).
 *  - CONNECTING: writes wait (EAGAIN when non-blocking) and poll hides
 *    EPOLLOUT until the kept head is sent, so nothing overtakes it; a failed
 *    connect shows as on any socket (EPOLLERR, ECONNREFUSED on the next
 *    call). shutdown() is applied after the head went out.
 *  - REPLY: reads return the module's HTTP response, then end of file;
 *    writes are accepted and dropped, as a server that answered early
 *    drains the rest of a request.
 */
#include <linux/highmem.h>
#include <linux/sockios.h>
#include <linux/uio.h>
#include <net/inet_sock.h>
#include <net/tcp.h>
#include <asm/ioctls.h>

#include "defer.h"
#include "core/reply.h"

/* ---- failing, answering ---- */

/*
 * End the socket with @err for the caller: closed both ways, so later
 * writes get EPIPE and reads end of file. Socket locked.
 */
static int kmesh_defer_fail(struct kmesh_defer *d, int err)
{
	struct sock *sk = d->sk;

	kmesh_set_defer_connect(sk, 0);
	if (sk->sk_state != TCP_CLOSE)
		tcp_set_state(sk, TCP_CLOSE);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	sock_set_flag(sk, SOCK_DONE);
	kmesh_defer_pass(d);
	sk->sk_state_change(sk);
	return err;
}

#define KMESH_REPLY_HEAD_MAX	192

/*
 * The response to @h: the route's body for DIRECT, else "<status>
 * <phrase>\n"; rendered as every reply kmesh writes (core/reply.c).
 */
static struct kmesh_defer_reply *kmesh_defer_render(const struct kmesh_defer_head *h)
{
	unsigned int status = h->reply_status;
	struct kmesh_defer_reply *r;
	u32 flags = KMESH_REPLY_F_CLOSE;
	char text[48];
	const u8 *body;
	u32 body_len, size;

	if (h->reply_route_body) {
		body = h->body;
		body_len = h->body_len;
	} else {
		body_len = kmesh_http_reply_default_body(text, sizeof(text),
							 status);
		body = text;
	}
	if (h->req.method == KMESH_HTTP_M_HEAD)
		flags |= KMESH_REPLY_F_NO_BODY;
	size = KMESH_REPLY_HEAD_MAX + body_len;
	r = kmalloc(struct_size(r, data, size), GFP_KERNEL);
	if (!r)
		return NULL;
	r->len = kmesh_http_reply((char *)r->data, size, status, body,
				  body_len, flags, NULL);
	r->off = 0;
	if (!r->len) {
		kfree(r);
		return NULL;
	}
	return r;
}

/* BPF asked us to answer: the socket never connects. Socket locked. */
static int kmesh_defer_reply(struct kmesh_defer *d)
{
	struct kmesh_defer_reply *r = kmesh_defer_render(d->head);

	if (!r)
		return kmesh_defer_fail(d, -ENOMEM);
	d->reply = r;
	kmesh_defer_free_head(d->head);
	d->head = NULL;
	/* A second connect() keeps saying EISCONN, as while deferred. */
	kmesh_set_defer_connect(d->sk, 1);
	kmesh_defer_set_phase(d, KMESH_DEFER_REPLY);
	d->sk->sk_data_ready(d->sk);
	return 0;
}

/* ---- the head ---- */

static struct kmesh_defer_head *kmesh_defer_head_get(struct kmesh_defer *d)
{
	struct kmesh_defer_head *h = d->head;

	if (h)
		return h;
	h = kzalloc(sizeof(*h), GFP_KERNEL_ACCOUNT);
	if (!h)
		return NULL;
	/* The same limits for every call on this head, as the parser wants. */
	h->lim.max_head_bytes = READ_ONCE(kmesh_max_head_bytes);
	h->lim.max_headers = READ_ONCE(kmesh_max_headers);
	if (d->parse_opts & KMESH_HTTP_REQ_OPT_ESCAPED_SLASHES)
		h->lim.opts = KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES;
	d->head = h;
	return h;
}

/* Room for @need bytes, at most one past the head limit. */
static int kmesh_defer_head_grow(struct kmesh_defer_head *h, u32 need)
{
	u32 cap;
	u8 *buf;

	if (need <= h->cap)
		return 0;
	cap = max3(need, 2 * h->cap, 512U);
	cap = min(cap, h->lim.max_head_bytes + 1);
	/* Charged to the writer's memory cgroup, like socket buffers. */
	buf = kvmalloc(cap, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (h->len)
		memcpy(buf, h->buf, h->len);
	kvfree(h->buf);
	h->buf = buf;
	h->cap = cap;
	return 0;
}

static int kmesh_defer_bad_head(struct kmesh_defer *d, int status)
{
	const struct kmesh_http_req *req = &d->head->req;
	int err = -EBADMSG;

	if (status == KMESH_HTTP_E_HEAD_TOO_LARGE ||
	    status == KMESH_HTTP_E_LINE_TOO_LONG ||
	    status == KMESH_HTTP_E_TOO_MANY_HEADERS)
		err = -EMSGSIZE;
	pr_info_ratelimited("connect to %pISpc dropped: request head rejected: %s (byte %u)\n",
			    &d->vip.sa, kmesh_http1_strstatus(status),
			    req->err_off);
	return kmesh_defer_fail(d, err);
}

/*
 * The head is complete: run the connect hook again for the dialed address
 * (BPF routes it), then connect for real. Socket locked. Also the
 * failover's next attempt (defer.c).
 */
int kmesh_defer_route(struct kmesh_defer *d)
{
	union kmesh_defer_addr addr = d->vip;
	struct sock *sk = d->sk;
	int err = 0;

	kmesh_defer_set_phase(d, KMESH_DEFER_ROUTING);
	if (d->orig_prot->pre_connect)
		err = d->orig_prot->pre_connect(sk, &addr.sa, d->vip_len);
	if (d->head->reply_status)
		return kmesh_defer_reply(d);
	if (err)
		return kmesh_defer_fail(d, err);

	/* Before the SYN: on loopback the answer may come at release_sock. */
	kmesh_defer_hook(d);
	kmesh_defer_set_phase(d, KMESH_DEFER_CONNECTING);
	kmesh_set_defer_connect(sk, 0);
	err = d->orig_prot->connect(sk, &addr.sa, d->vip_len);
	if (err) {
		kmesh_defer_unhook(d);
		return kmesh_defer_fail(d, err);
	}
	return 0;
}

/*
 * Keep what @msg adds to the head. Returns the bytes taken (up to the end
 * of the head once it is complete) or an error. Socket locked.
 */
static int kmesh_defer_gather(struct kmesh_defer *d, struct msghdr *msg,
			      size_t size)
{
	struct kmesh_defer_head *h;
	size_t want, got, extra;
	int status, err;

	if (!size)
		return 0;
	/* No urgent data in a head; zero copy wants a completion we never give. */
	if ((msg->msg_flags & MSG_OOB) ||
	    ((msg->msg_flags & MSG_ZEROCOPY) && sock_flag(d->sk, SOCK_ZEROCOPY)))
		return -EOPNOTSUPP;
	h = kmesh_defer_head_get(d);
	if (!h)
		return -ENOMEM;
	/* One byte past the limit lets the parser say "too large". */
	want = min_t(size_t, size, h->lim.max_head_bytes + 1 - h->len);
	if (!want)
		return kmesh_defer_bad_head(d, KMESH_HTTP_E_HEAD_TOO_LARGE);
	err = kmesh_defer_head_grow(h, h->len + want);
	if (err)
		return err;
	got = copy_from_iter(h->buf + h->len, want, &msg->msg_iter);
	if (!got)
		return -EFAULT;
	h->len += got;

	status = kmesh_http1_parse(&h->req, h->buf, h->len, &h->lim);
	if (status == KMESH_HTTP_NEED_MORE)
		return got;
	if (status != KMESH_HTTP_OK)
		return kmesh_defer_bad_head(d, status);
	/* Bytes after the head are the body: sent normally, once connected. */
	extra = h->len - h->req.head_len;
	iov_iter_revert(&msg->msg_iter, extra);
	h->len = h->req.head_len;
	err = kmesh_defer_route(d);
	return err ? err : got - extra;
}

#define KMESH_DEFER_IN(phases, phase)	((phases) & (1U << (phase)))

/*
 * Wait, socket locked, while the socket stays in one of @phases (a mask of
 * BIT(KMESH_DEFER_*)). 0, or -EAGAIN (timeout, non-blocking) or the
 * signal's errno with the phase unchanged.
 */
static int kmesh_defer_wait(struct kmesh_defer *d, unsigned int phases,
			    long timeo)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = d->sk;
	int err = 0;

	add_wait_queue(sk_sleep(sk), &wait);
	while (KMESH_DEFER_IN(phases, d->phase)) {
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		sk_wait_event(sk, &timeo,
			      !KMESH_DEFER_IN(phases, READ_ONCE(d->phase)), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	return err;
}

/*
 * A write while (or right after) the real connect is under way: wait for
 * the kept head to be sent, then send what is left of @msg. @taken: bytes
 * of @msg this call already kept. Called locked, returns unlocked.
 */
static int kmesh_defer_send_after(struct kmesh_defer *d, struct msghdr *msg,
				  int taken)
{
	struct sock *sk = d->sk;
	bool failed;
	int err, n;

	err = kmesh_defer_wait(d, BIT(KMESH_DEFER_CONNECTING),
			       sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT));
	if (err) {
		/* Still connecting: what we took goes out later all the same. */
		release_sock(sk);
		return taken ? taken : err;
	}
	/* Our own write's connect failed: report it as connect() would. */
	failed = taken && !d->sent;
	if (failed)
		err = sock_error(sk) ? : -EPIPE;
	release_sock(sk);
	if (failed)
		return err;
	if (!msg_data_left(msg))
		return taken;
	n = d->base->sendmsg(d->sock, msg, msg_data_left(msg));
	if (!taken)
		return n;
	return n > 0 ? taken + n : taken;
}

/* 0 once all of the head is sent, else the error that stopped it. */
int kmesh_defer_send_head(struct kmesh_defer *d, struct kmesh_defer_head *h)
{
	struct kvec kv = { .iov_base = h->buf, .iov_len = h->len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int n;

	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &kv, 1, h->len);
	while (msg_data_left(&msg)) {
		/* Through the socket's own path: sockhash and sk_msg included. */
		n = d->base->sendmsg(d->sock, &msg, msg_data_left(&msg));
		/* SO_SNDTIMEO ran out: order matters more, keep going. */
		if (n == -EAGAIN)
			continue;
		if (n <= 0)
			return n ? n : -EPIPE;
	}
	return 0;
}

/* ---- proto_ops ---- */

int kmesh_defer_sendmsg(struct socket *sock, struct msghdr *msg, size_t size)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;
	int ret;

	if (kmesh_defer_phase(d) == KMESH_DEFER_PASS)
		return d->base->sendmsg(sock, msg, size);
	lock_sock(sk);
	switch (d->phase) {
	case KMESH_DEFER_HEAD:
		ret = kmesh_defer_gather(d, msg, size);
		if (ret > 0 && d->phase == KMESH_DEFER_REPLY) {
			/* Answered: the rest of this write is dropped too. */
			ret += msg_data_left(msg);
			iov_iter_advance(&msg->msg_iter, msg_data_left(msg));
		}
		if (ret <= 0 || d->phase != KMESH_DEFER_CONNECTING)
			break;
		if (msg->msg_flags & MSG_DONTWAIT) {
			/* The rest waits for EPOLLOUT, like after EAGAIN. */
			break;
		}
		/* Blocking: return once the request is out, as when connected. */
		return kmesh_defer_send_after(d, msg, ret);
	case KMESH_DEFER_CONNECTING:
		return kmesh_defer_send_after(d, msg, 0);
	case KMESH_DEFER_REPLY:
		/* Answered already: drain the rest of the request. */
		iov_iter_advance(&msg->msg_iter, size);
		ret = size;
		break;
	default:
		release_sock(sk);
		return d->base->sendmsg(sock, msg, size);
	}
	release_sock(sk);
	return ret;
}

#ifdef KMESH_HAVE_OPS_SENDPAGE
/* sendfile() and splice(): the page is copied like any other write. */
ssize_t kmesh_defer_sendpage(struct socket *sock, struct page *page,
			     int offset, size_t size, int flags)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct bio_vec bv = {
		.bv_page = page, .bv_offset = offset, .bv_len = size,
	};
	struct msghdr msg = { .msg_flags = flags & ~MSG_SENDPAGE_NOTLAST };

	if (kmesh_defer_phase(d) == KMESH_DEFER_PASS)
		return d->base->sendpage(sock, page, offset, size, flags);
	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, &bv, 1, size);
	return kmesh_defer_sendmsg(sock, &msg, size);
}
#endif

static int kmesh_defer_read_reply(struct kmesh_defer *d, struct msghdr *msg,
				  size_t size, int flags)
{
	struct kmesh_defer_reply *r = d->reply;
	size_t n = min_t(size_t, size, r->len - r->off);

	/* MSG_TRUNC on TCP: consume without copying. */
	if (!(flags & MSG_TRUNC) &&
	    copy_to_iter(r->data + r->off, n, &msg->msg_iter) != n)
		return -EFAULT;
	if (!(flags & MSG_PEEK))
		WRITE_ONCE(r->off, r->off + n);
	return n;
}

int kmesh_defer_recvmsg(struct socket *sock, struct msghdr *msg, size_t size,
			int flags)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;
	int err;

	if (kmesh_defer_phase(d) == KMESH_DEFER_PASS ||
	    (flags & MSG_ERRQUEUE))
		return d->base->recvmsg(sock, msg, size, flags);
	lock_sock(sk);
	/*
	 * Nothing can arrive before the request is routed and its head sent;
	 * a failed connect meanwhile may still be tried on another endpoint
	 * (kmesh_defer_failover()), which the application must not see.
	 */
	err = kmesh_defer_wait(d, BIT(KMESH_DEFER_HEAD) | BIT(KMESH_DEFER_ROUTING) |
			       BIT(KMESH_DEFER_CONNECTING),
			       sock_rcvtimeo(sk, flags & MSG_DONTWAIT));
	if (err || d->phase == KMESH_DEFER_REPLY) {
		if (!err)
			err = kmesh_defer_read_reply(d, msg, size, flags);
		release_sock(sk);
		return err;
	}
	release_sock(sk);
	return d->base->recvmsg(sock, msg, size, flags);
}

__poll_t kmesh_defer_poll(struct file *file, struct socket *sock,
			  struct poll_table_struct *wait)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	__poll_t mask = d->base->poll(file, sock, wait);
	struct kmesh_defer_reply *r;

	switch (kmesh_defer_phase(d)) {
	case KMESH_DEFER_ROUTING:	/* also between two attempts of a failover */
	case KMESH_DEFER_CONNECTING:
		/*
		 * Writable once the kept head is out, not when TCP is; and no
		 * error or hangup of a failed connect that another endpoint
		 * may still replace (the phase change wakes the pollers).
		 */
		return mask & ~(EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND | EPOLLIN |
				EPOLLRDNORM | EPOLLERR | EPOLLHUP | EPOLLRDHUP);
	case KMESH_DEFER_REPLY:
		r = d->reply;
		mask = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
		if (READ_ONCE(r->off) >= r->len)
			mask |= EPOLLRDHUP;
		return mask;
	default:
		return mask;
	}
}

int kmesh_defer_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	u8 phase = kmesh_defer_phase(d);

	/* Connected, as far as the application knows: to what it dialed. */
	if (peer && phase != KMESH_DEFER_ARMED && phase != KMESH_DEFER_PASS) {
		memcpy(uaddr, &d->vip, d->vip_len);
		return d->vip_len;
	}
	return d->base->getname(sock, uaddr, peer);
}

int kmesh_defer_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct kmesh_defer_reply *r;

	if (cmd == SIOCINQ &&
	    kmesh_defer_phase(d) == KMESH_DEFER_REPLY) {
		r = d->reply;
		return put_user((int)(r->len - READ_ONCE(r->off)),
				(int __user *)arg);
	}
	return d->base->ioctl(sock, cmd, arg);
}

/* Stop deferring: the socket goes on as the kernel would have it. Locked. */
static void kmesh_defer_abandon(struct kmesh_defer *d)
{
	struct sock *sk = d->sk;

	switch (d->phase) {
	case KMESH_DEFER_HEAD:
	case KMESH_DEFER_REPLY:
		/* Never connected: an unconnected socket, as before connect(). */
		kmesh_set_defer_connect(sk, 0);
		inet_sk_set_state(sk, TCP_CLOSE);
		break;
	case KMESH_DEFER_CONNECTING:
		kmesh_defer_unhook(d);
		break;
	default:
		return;
	}
	kmesh_defer_pass(d);
}

/* connect(AF_UNSPEC) disconnects: whatever we hold is dropped. */
int kmesh_defer_connect(struct socket *sock, struct sockaddr *uaddr,
			int addr_len, int flags)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;

	if (uaddr && addr_len >= (int)sizeof(uaddr->sa_family) &&
	    uaddr->sa_family == AF_UNSPEC &&
	    kmesh_defer_phase(d) != KMESH_DEFER_PASS) {
		lock_sock(sk);
		kmesh_defer_abandon(d);
		release_sock(sk);
	}
	return d->base->connect(sock, uaddr, addr_len, flags);
}

/* An armed socket that never connected may still become a listener. */
int kmesh_defer_listen(struct socket *sock, int backlog)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;

	if (kmesh_defer_phase(d) == KMESH_DEFER_ARMED) {
		lock_sock(sk);
		kmesh_defer_disarm(d);
		release_sock(sk);
	}
	return d->base->listen(sock, backlog);
}

int kmesh_defer_shutdown(struct socket *sock, int how)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);
	struct sock *sk = sock->sk;

	/* Same check and mapping as inet_shutdown(): 0..2 -> 1..3. */
	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	if (kmesh_defer_phase(d) == KMESH_DEFER_PASS)
		return d->base->shutdown(sock, how);
	lock_sock(sk);
	switch (d->phase) {
	case KMESH_DEFER_CONNECTING:
		/* A FIN now would overtake the kept head: after it, then. */
	case KMESH_DEFER_REPLY:
		d->shut |= how + 1;
		release_sock(sk);
		return 0;
	case KMESH_DEFER_HEAD:
		/* No complete head, no route: give up; inet says ENOTCONN. */
		kmesh_defer_abandon(d);
		break;
	default:
		break;
	}
	release_sock(sk);
	return d->base->shutdown(sock, how);
}

int kmesh_defer_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct kmesh_defer *d = kmesh_defer_sock(sock);

	/*
	 * A ULP takes sk_prot (and kTLS sock->ops) over and keeps the socket
	 * out of the sockhash; on a routed HTTP connection it has no use.
	 */
	if (level == SOL_TCP && optname == TCP_ULP)
		return -EOPNOTSUPP;
	return d->base->setsockopt(sock, level, optname, optval, optlen);
}
