// SPDX-License-Identifier: GPL-2.0-only
/*
 * Differential tests of the HTTP/2 core against Debian's libnghttp2:
 *  - HPACK: random header lists (random names, values with every byte
 *    value, never-indexed fields, table size changes between blocks)
 *    encoded by nghttp2's deflater; our decoder must yield the same list
 *    as nghttp2's inflater, field by field, with the same table size and
 *    entry count after every block;
 *  - frames: a real nghttp2 client session (nghttp2_session_client_new)
 *    serializes requests (GET and POST with bodies, several streams,
 *    the server's SETTINGS_HEADER_TABLE_SIZE applied); our client-side
 *    parser, fed the bytes in random pieces, must report the same streams,
 *    headers, body lengths and ends;
 *  - responses: an nghttp2 server session reads those requests and
 *    answers (headers, body, grpc-status trailers); our server-side
 *    parser must report them;
 *  - malformed requests: the same client session sends defective
 *    header lists; the streams nghttp2's server session resets must be
 *    the ones our parser refuses.
 * Seeds are fixed: a failure reproduces.
 */
#include <nghttp2/nghttp2.h>

#include "h2_util.h"
#include "nghttp2_block.h"
#include "tap.h"

static __u64 rng_state = 0x5eed;

static __u32 rnd(void)
{
	__u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (__u32)(z ^ (z >> 31));
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* ---- HPACK ---- */

#define MAXF 24

struct hlist {
	nghttp2_nv nv[MAXF];
	char name[MAXF][48];
	char value[MAXF][300];
	size_t vlen[MAXF];
	int n;
};

static const char *const common_names[] = {
	":method", ":path", ":authority", ":scheme", ":status", "user-agent",
	"content-type", "accept", "cookie", "x-request-id", "grpc-timeout",
	"te", "authorization", "cache-control", "content-length",
};

static void random_list(struct hlist *l, int all_bytes)
{
	int i, k;

	l->n = 1 + rnd() % MAXF;
	for (i = 0; i < l->n; i++) {
		size_t nl, vl;

		if (rnd() % 3) {
			snprintf(l->name[i], sizeof(l->name[i]), "%s",
				 common_names[rnd() % (sizeof(common_names) /
						       sizeof(common_names[0]))]);
		} else {
			nl = 1 + rnd() % 40;
			for (k = 0; k < (int)nl; k++)
				l->name[i][k] = "abcdefghijklmnopqrstuvwxyz0123456789-_"[rnd() % 38];
			l->name[i][nl] = 0;
		}
		vl = rnd() % (rnd() % 8 ? 40 : 290);
		for (k = 0; k < (int)vl; k++)
			l->value[i][k] = all_bytes ? (char)rnd() :
				"abcdefghijklmnop/=.-0123456789 ABC"[rnd() % 34];
		/* repeats make the dynamic table matter */
		if (i && rnd() % 4 == 0) {
			int j = (int)(rnd() % (unsigned)i);

			memcpy(l->name[i], l->name[j], sizeof(l->name[i]));
			memcpy(l->value[i], l->value[j], l->vlen[j]);
			vl = l->vlen[j];
		}
		l->vlen[i] = vl;
		l->nv[i] = (nghttp2_nv){
			.name = (uint8_t *)l->name[i], .namelen = strlen(l->name[i]),
			.value = (uint8_t *)l->value[i], .valuelen = vl,
			.flags = rnd() % 8 == 0 ? NGHTTP2_NV_FLAG_NO_INDEX : 0,
		};
	}
}

struct ours {
	int n, bad;
	const struct hlist *want;
	int never[MAXF];	/* never-indexed, as each decoder saw it */
};

static int check_field(void *ctx, const struct kmesh_hpack_field *f)
{
	struct ours *o = ctx;
	const nghttp2_nv *nv;

	if (o->n >= o->want->n) {
		o->bad++;
		return 0;
	}
	nv = &o->want->nv[o->n++];
	if (f->name_len != nv->namelen || memcmp(f->name, nv->name, nv->namelen) ||
	    f->value_len != nv->valuelen ||
	    memcmp(f->value, nv->value, nv->valuelen))
		o->bad++;
	o->never[o->n - 1] = !!(f->flags & KMESH_HPACK_F_NEVER_INDEXED);
	return 0;
}

struct theirs_want {
	const struct hlist *want;
	int *never;
};

static int theirs_field(void *arg, int i, const nghttp2_nv *nv)
{
	const struct theirs_want *t = arg;
	const nghttp2_nv *w;

	if (i >= t->want->n)
		return -1;
	w = &t->want->nv[i];
	if (nv->namelen != w->namelen || memcmp(nv->name, w->name, w->namelen) ||
	    nv->valuelen != w->valuelen || memcmp(nv->value, w->value, w->valuelen))
		return -1;
	t->never[i] = !!(nv->flags & NGHTTP2_NV_FLAG_NO_INDEX);
	return 0;
}

/* nghttp2's inflater on the same block: the list it yields must be ours. */
static int theirs_decode(nghttp2_hd_inflater *inf, const __u8 *b, size_t n,
			 const struct hlist *want, int *never)
{
	struct theirs_want t = { want, never };

	return nghttp2_block_inflate(inf, b, n, theirs_field, &t);
}

static void test_hpack_diff(int all_bytes, int blocks)
{
	nghttp2_hd_deflater *def;
	nghttp2_hd_inflater *inf;
	struct kmesh_hpack h;
	static __u8 out[1 << 16];
	__u32 table_max = 65536, list_max = 1 << 16;
	void *mem = malloc(kmesh_hpack_mem_size(table_max, list_max));
	int i, mism = 0, theirs_bad = 0, table_bad = 0, nflags = 0, updates = 0;
	int nnever = 0;
	struct hlist *l = malloc(sizeof(*l));
	ssize_t n;

	tap_begin("hpack vs nghttp2: %d random header blocks%s, table size changes, "
		  "decoded alike", blocks, all_bytes ? " with every byte value" : "");
	nghttp2_hd_deflate_new(&def, table_max);
	nghttp2_hd_inflate_new(&inf);
	kmesh_hpack_init(&h, mem, kmesh_hpack_mem_size(table_max, list_max),
			 table_max, list_max);
	for (i = 0; i < blocks; i++) {
		struct ours o = { 0 };
		int rc;

		if (rnd() % 16 == 0) {
			/* the receiver's SETTINGS_HEADER_TABLE_SIZE changes */
			__u32 sz = rnd() % 3 == 0 ? 0 : rnd() % (table_max + 1);

			nghttp2_hd_deflate_change_table_size(def, sz);
			nghttp2_hd_inflate_change_table_size(inf, sz);
			kmesh_hpack_set_limit(&h, sz);
			updates++;
		}
		random_list(l, all_bytes);
		n = nghttp2_hd_deflate_hd(def, out, sizeof(out), l->nv, (size_t)l->n);
		if (n < 0) {
			mism++;
			break;
		}
		o.want = l;
		rc = kmesh_hpack_decode(&h, out, (__u32)n, check_field, &o);
		if (rc || o.bad || o.n != l->n) {
			if (mism++ < 3)
				tap_diag("block %d: rc %d (%s), %d of %d fields, %d differ",
					 i, rc, kmesh_h2_strreason(rc), o.n, l->n, o.bad);
		}
		{
			int never[MAXF], k;

			if (theirs_decode(inf, out, (size_t)n, l, never) != l->n)
				theirs_bad++;
			for (k = 0; k < l->n && k < o.n; k++) {
				nflags += never[k] != o.never[k];
				nnever += never[k];
			}
		}
		if (h.size != nghttp2_hd_inflate_get_dynamic_table_size(inf) ||
		    h.count + 61 != nghttp2_hd_inflate_get_num_table_entries(inf))
			table_bad++;
	}
	EXPECT_EQ(mism, 0);
	EXPECT_EQ(theirs_bad, 0);
	EXPECT_EQ(table_bad, 0);
	EXPECT_EQ(nflags, 0);
	EXPECT(updates > 0);
	EXPECT(nnever > 0);
	tap_diag("%d blocks, %d table size changes, %d never-indexed fields", i,
		 updates, nnever);
	nghttp2_hd_deflate_del(def);
	nghttp2_hd_inflate_del(inf);
	free(mem);
	free(l);
	tap_end();
}

/* Huffman over all 256 byte values: a value of common bytes around one
 * rare byte is shorter Huffman-coded, so nghttp2 codes it so. */
static void test_huffman_all_bytes(void)
{
	nghttp2_hd_deflater *def;
	struct kmesh_hpack h;
	__u32 mem_len = kmesh_hpack_mem_size(4096, 16384);
	void *mem = malloc(mem_len);
	static __u8 out[4096];
	struct hlist *l = calloc(1, sizeof(*l));
	int b, bad = 0, huff = 0;

	tap_begin("hpack vs nghttp2: Huffman strings holding each of the 256 byte values");
	nghttp2_hd_deflate_new(&def, 0);	/* no table: literals only */
	kmesh_hpack_init(&h, mem, mem_len, 4096, 16384);
	for (b = 0; b < 256; b++) {
		struct ours o = { 0 };
		ssize_t n;

		strcpy(l->name[0], "x-v");
		memset(l->value[0], 'e', 30);
		l->value[0][15] = (char)b;
		l->nv[0] = (nghttp2_nv){ (uint8_t *)l->name[0], (uint8_t *)l->value[0],
					 3, 30, 0 };
		l->n = 1;
		n = nghttp2_hd_deflate_hd(def, out, sizeof(out), l->nv, 1);
		/* literal, new name: the value's H bit follows the name
		 * (after the first block's size update to 0) */
		if (n > 7 && out[b ? 5 : 6] & 0x80)
			huff++;
		o.want = l;
		if (n < 0 || kmesh_hpack_decode(&h, out, (__u32)n, check_field, &o) ||
		    o.bad || o.n != 1)
			bad++;
	}
	EXPECT_EQ(bad, 0);
	EXPECT_EQ(huff, 256);
	nghttp2_hd_deflate_del(def);
	free(mem);
	free(l);
	tap_end();
}

/* ---- sessions ---- */

struct wire {
	struct h2buf *buf;
};

static ssize_t to_wire(nghttp2_session *s, const uint8_t *data, size_t len,
		       int flags, void *user)
{
	struct wire *w = user;

	(void)s;
	(void)flags;
	h2b_put(w->buf, data, len);
	return (ssize_t)len;
}

struct body {
	size_t left;
};

static ssize_t body_read(nghttp2_session *s, int32_t id, uint8_t *buf,
			 size_t len, uint32_t *flags, nghttp2_data_source *src,
			 void *user)
{
	struct body *b = src->ptr;
	size_t n = b->left < len ? b->left : len;

	(void)s;
	(void)id;
	(void)user;
	memset(buf, 'b', n);
	b->left -= n;
	if (!b->left)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* Per stream, what our parser saw. */
#define NSTREAMS 64
struct seen {
	char hdr[NSTREAMS][1024];
	__u64 data[NSTREAMS];
	int ended[NSTREAMS], refused[NSTREAMS];
	int other_errors;
};

static int seen_event(void *ctx, const struct kmesh_h2_event *ev)
{
	struct seen *s = ctx;
	__u32 i = ev->stream_id / 2;
	struct h2log l = { 0 };

	if (ev->stream_id && i >= NSTREAMS) {
		s->other_errors++;
		return 0;
	}
	switch (ev->type) {
	case KMESH_H2_EV_HEADERS:
		h2log_event(&l, ev);
		copy_str(s->hdr[i] + strlen(s->hdr[i]),
			 sizeof(s->hdr[i]) - strlen(s->hdr[i]), l.s);
		break;
	case KMESH_H2_EV_DATA:
		s->data[i] += ev->value;
		break;
	case KMESH_H2_EV_END_STREAM:
		s->ended[i]++;
		break;
	case KMESH_H2_EV_STREAM_ERROR:
		s->refused[i]++;
		break;
	}
	return 0;
}

/* Feed @w in random pieces to a fresh parser of @dir. */
static int parse_pieces(const struct h2buf *w, enum kmesh_h2_dir dir,
			struct seen *s, __u32 table_size)
{
	struct kmesh_h2_limits lim = { .table_max = 65536 };
	__u32 mlen = kmesh_h2_mem_size(&lim);
	struct kmesh_h2_parser *p = malloc(sizeof(*p));
	void *mem = aligned_alloc(8, (mlen + 7) & ~7U);
	size_t i, piece;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	kmesh_h2_init(p, dir, &lim, mem, mlen, seen_event, s);
	if (table_size != 4096)
		kmesh_h2_peer_setting(p, KMESH_H2_SETTINGS_HEADER_TABLE_SIZE,
				      table_size);
	for (i = 0; i < w->n && !rc; i += piece) {
		piece = 1 + rnd() % (rnd() % 4 ? 700 : 7);
		if (piece > w->n - i)
			piece = w->n - i;
		rc = kmesh_h2_parse(p, w->b + i, (__u32)piece);
	}
	free(mem);
	free(p);
	return rc;
}

struct req {
	struct hlist l;
	size_t body;
	char expect[1024];
	int defect;	/* 0: none */
};

static const char *const defects[] = {
	NULL,
	":path empty",
	"connection: keep-alive",
	"transfer-encoding: chunked",
	"upgrade: h2c",
	"te: gzip",
	"pseudo-header after a regular field",
	"duplicate :path",
	"no :path",
	"unknown pseudo-header",
	"content-length larger than the body",
	"content-length smaller than the body",
	"value with a leading space",
};
#define NDEFECTS ((int)(sizeof(defects) / sizeof(defects[0])))

static void nv_add(struct hlist *l, const char *name, const char *value)
{
	int i = l->n++;

	snprintf(l->name[i], sizeof(l->name[i]), "%s", name);
	snprintf(l->value[i], sizeof(l->value[i]), "%s", value);
	l->vlen[i] = strlen(l->value[i]);
	l->nv[i] = (nghttp2_nv){ (uint8_t *)l->name[i], (uint8_t *)l->value[i],
				 strlen(l->name[i]), l->vlen[i], 0 };
}

static void make_req(struct req *r, int id, int defect)
{
	char path[64], v[64];
	int k, extra = rnd() % 6;

	memset(r, 0, sizeof(*r));
	r->defect = defect;
	r->body = rnd() % 3 ? 0 : rnd() % 40000;
	snprintf(path, sizeof(path), "/pkg.Svc/M%u?x=%u", rnd() % 50, id);
	if (defect == 6)
		nv_add(&r->l, "x-first", "1");
	nv_add(&r->l, ":method", r->body ? "POST" : "GET");
	nv_add(&r->l, ":scheme", "http");
	if (defect != 8)
		nv_add(&r->l, ":path", defect == 1 ? "" : path);
	if (defect == 7)
		nv_add(&r->l, ":path", "/other");
	nv_add(&r->l, ":authority", "svc.ns.svc.cluster.local");
	if (defect == 9)
		nv_add(&r->l, ":tenant", "a");
	for (k = 0; k < extra; k++) {
		snprintf(v, sizeof(v), "v%u-%u", rnd() % 5, rnd());
		nv_add(&r->l, k % 2 ? "x-trace" : "x-user", v);
	}
	if (r->body && defect != 10 && defect != 11) {
		snprintf(v, sizeof(v), "%zu", r->body);
		nv_add(&r->l, "content-length", v);
	}
	switch (defect) {
	case 2: nv_add(&r->l, "connection", "keep-alive"); break;
	case 3: nv_add(&r->l, "transfer-encoding", "chunked"); break;
	case 4: nv_add(&r->l, "upgrade", "h2c"); break;
	case 5: nv_add(&r->l, "te", "gzip"); break;
	case 10:
		snprintf(v, sizeof(v), "%zu", r->body + 1);
		nv_add(&r->l, "content-length", v);
		break;
	case 11:
		if (!r->body)
			r->body = 10;
		snprintf(v, sizeof(v), "%zu", r->body - 1);
		nv_add(&r->l, "content-length", v);
		break;
	case 12: nv_add(&r->l, "x-pad", " x"); break;
	}
	if (!defect) {
		struct h2log lg = { 0 };

		h2log_add(&lg, "hdr:%d:%s,http,svc.ns.svc.cluster.local,%s", id,
			  r->body ? "POST" : "GET", path);
		if (r->body)
			h2log_add(&lg, ",cl=%zu", r->body);
		for (k = 0; k < r->l.n; k++) {
			if (r->l.name[k][0] == ':')
				continue;
			h2log_add(&lg, ";%s=%s", r->l.name[k], r->l.value[k]);
		}
		h2log_add(&lg, " ");
		copy_str(r->expect, sizeof(r->expect), lg.s);
	}
}

/* The nghttp2 server's view: which streams it reset or refused. */
struct srv {
	struct wire w;		/* first: the send callback's user data */
	int reset[NSTREAMS];
	int requests[NSTREAMS];
	nghttp2_session *s;
};

static int srv_close(nghttp2_session *s, int32_t id, uint32_t code, void *user)
{
	struct srv *v = user;

	(void)s;
	if (code && id / 2 < NSTREAMS)
		v->reset[id / 2] = 1;
	return 0;
}

static int srv_frame(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct srv *v = user;

	(void)s;
	if (f->hd.type == NGHTTP2_HEADERS && f->hd.stream_id / 2 < NSTREAMS &&
	    f->headers.cat == NGHTTP2_HCAT_REQUEST)
		v->requests[f->hd.stream_id / 2] = 1;
	return 0;
}

static int srv_invalid(nghttp2_session *s, const nghttp2_frame *f, int err,
		       void *user)
{
	struct srv *v = user;

	(void)s;
	(void)err;
	if (f->hd.stream_id / 2 < NSTREAMS)
		v->reset[f->hd.stream_id / 2] = 1;
	return 0;
}

static void test_sessions(int rounds, int with_defects)
{
	int round, mism = 0, refused_mism = 0, resp_mism = 0, streams = 0;
	int defects_seen = 0;
	struct seen *seen = malloc(sizeof(*seen));
	struct h2buf *wire_c = malloc(sizeof(*wire_c));
	struct h2buf *wire_s = malloc(sizeof(*wire_s));
	struct req *reqs = malloc(sizeof(*reqs) * 16);

	tap_begin("h2 vs nghttp2 sessions: %d connections of client requests%s "
		  "parsed alike in random pieces", rounds,
		  with_defects ? " with malformed ones refused where nghttp2's server refuses" :
		  ", and the server's responses");
	for (round = 0; round < rounds; round++) {
		nghttp2_session_callbacks *cb;
		nghttp2_session *cli;
		struct wire w = { wire_c };
		struct srv srv = { 0 };
		struct body bodies[16];
		int i, n = 1 + rnd() % 12, id;
		__u32 table = rnd() % 2 ? 4096 : rnd() % 8192;
		/* table size; windows wide enough for every body (no flow control here) */
		__u8 settings[12] = { 0, 1, (__u8)(table >> 24), (__u8)(table >> 16),
				      (__u8)(table >> 8), (__u8)table,
				      0, 4, 0x7f, 0xff, 0xff, 0xff };
		struct h2buf *srv_pre = malloc(sizeof(*srv_pre));
		int rc;

		wire_c->n = 0;
		nghttp2_session_callbacks_new(&cb);
		nghttp2_session_callbacks_set_send_callback(cb, to_wire);
		nghttp2_session_client_new(&cli, cb, &w);
		/* the server's preface: its table size binds the client's encoder */
		srv_pre->n = 0;
		h2b_frame(srv_pre, KMESH_H2_SETTINGS, 0, 0, settings, 12);
		h2b_frame(srv_pre, KMESH_H2_WINDOW_UPDATE, 0, 0, "\x40\x00\x00\x00", 4);
		nghttp2_submit_settings(cli, NGHTTP2_FLAG_NONE, NULL, 0);
		nghttp2_session_mem_recv(cli, srv_pre->b, srv_pre->n);
		for (i = 0; i < n; i++) {
			int defect = with_defects && rnd() % 2 ?
				     1 + (int)(rnd() % (NDEFECTS - 1)) : 0;
			nghttp2_data_provider dp;

			make_req(&reqs[i], 2 * i + 1, defect);
			bodies[i].left = reqs[i].body;
			dp.source.ptr = &bodies[i];
			dp.read_callback = body_read;
			id = nghttp2_submit_request(cli, NULL, reqs[i].l.nv,
						    (size_t)reqs[i].l.n, reqs[i].body ? &dp : NULL,
						    NULL);
			if (id != 2 * i + 1)
				mism++;
		}
		nghttp2_session_send(cli);
		rc = parse_pieces(wire_c, KMESH_H2_FROM_CLIENT, seen, table);
		if (rc) {
			if (mism++ < 3)
				tap_diag("round %d: connection error %s", round,
					 kmesh_h2_strreason(rc));
		}
		for (i = 0; i < n; i++) {
			int ours = seen->refused[i] > 0;

			streams++;
			if (!reqs[i].defect) {
				if (strcmp(seen->hdr[i], reqs[i].expect) ||
				    seen->data[i] != reqs[i].body ||
				    seen->ended[i] != 1 || ours) {
					if (mism++ < 3)
						tap_diag("stream %d: \"%s\" want \"%s\", data %llu/%zu, ended %d",
							 2 * i + 1, seen->hdr[i], reqs[i].expect,
							 (unsigned long long)seen->data[i],
							 reqs[i].body, seen->ended[i]);
				}
			} else if (!ours) {
				if (mism++ < 3)
					tap_diag("stream %d: \"%s\" not refused", 2 * i + 1,
						 defects[reqs[i].defect]);
			}
			defects_seen += reqs[i].defect != 0;
		}

		/* the same bytes into nghttp2's server */
		nghttp2_session_callbacks_set_on_stream_close_callback(cb, srv_close);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_frame);
		nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, srv_invalid);
		wire_s->n = 0;
		srv.w.buf = wire_s;
		nghttp2_session_server_new(&srv.s, cb, &srv);
		{
			/* what srv_pre told the client */
			nghttp2_settings_entry ent[2] = {
				{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, table },
				{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0x7fffffff },
			};

			nghttp2_submit_settings(srv.s, NGHTTP2_FLAG_NONE, ent, 2);
			nghttp2_submit_window_update(srv.s, NGHTTP2_FLAG_NONE, 0, 1 << 30);
			/* sent first, as a server does: the client's ack is for them */
			nghttp2_session_send(srv.s);
		}
		if (nghttp2_session_mem_recv(srv.s, wire_c->b, wire_c->n) < 0)
			refused_mism++;
		/* its resets are final once sent: stream close reports them */
		nghttp2_session_send(srv.s);
		for (i = 0; i < n; i++) {
			if (srv.reset[i] != (seen->refused[i] > 0)) {
				if (refused_mism++ < 3)
					tap_diag("stream %d (%s): nghttp2 %s, kmesh %s", 2 * i + 1,
						 reqs[i].defect ? defects[reqs[i].defect] : "valid",
						 srv.reset[i] ? "reset" : "accepted",
						 seen->refused[i] ? "refused" : "accepted");
			}
		}
		if (!with_defects) {
			/* answer each: status, a body, grpc-status trailers */
			for (i = 0; i < n; i++) {
				nghttp2_nv rh[2] = {
					{ (uint8_t *)":status", (uint8_t *)"200", 7, 3, 0 },
					{ (uint8_t *)"content-type", (uint8_t *)"application/grpc", 12, 16, 0 },
				};
				nghttp2_nv tr[1] = {
					{ (uint8_t *)"grpc-status", (uint8_t *)"7", 11, 1, 0 },
				};

				bodies[i].left = 0;
				nghttp2_submit_headers(srv.s, 0, 2 * i + 1, NULL, rh, 2, NULL);
				nghttp2_submit_trailer(srv.s, 2 * i + 1, tr, 1);
			}
			nghttp2_session_send(srv.s);
			rc = parse_pieces(wire_s, KMESH_H2_FROM_SERVER, seen, 4096);
			for (i = 0; i < n; i++) {
				char want[256];

				snprintf(want, sizeof(want),
					 "hdr:%d:,,,status=200;content-type=application/grpc "
					 "hdr:%d:trailers,,,,grpc=7;grpc-status=7 ",
					 2 * i + 1, 2 * i + 1);
				if (rc || strcmp(seen->hdr[i], want) || seen->ended[i] != 1 ||
				    seen->refused[i]) {
					if (resp_mism++ < 3)
						tap_diag("response %d: rc %d (%s) \"%s\" %zu bytes", 2 * i + 1, rc,
							 kmesh_h2_strreason(rc), seen->hdr[i], wire_s->n);
				}
			}
		}
		nghttp2_session_del(srv.s);
		nghttp2_session_del(cli);
		nghttp2_session_callbacks_del(cb);
		free(srv_pre);
	}
	EXPECT_EQ(mism, 0);
	EXPECT_EQ(refused_mism, 0);
	EXPECT_EQ(resp_mism, 0);
	if (with_defects)
		EXPECT(defects_seen > rounds);
	tap_diag("%d streams, %d malformed", streams, defects_seen);
	free(seen);
	free(wire_c);
	free(wire_s);
	free(reqs);
	tap_end();
}

int main(void)
{
	tap_header();
	test_huffman_all_bytes();
	test_hpack_diff(0, 3000);
	test_hpack_diff(1, 3000);
	test_sessions(200, 0);
	test_sessions(300, 1);
	return tap_finish();
}
