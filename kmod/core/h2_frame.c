// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP/2 frame parser; the contract is in h2_frame.h.
 */
#include "h2_frame.h"
#include "http_rules.h"

enum {
	PH_PREFACE = 0,
	PH_HEADER,	/* frame header: hdr[0..9) */
	PH_PREFIX,	/* fixed fields of the payload: fixed[0..need) */
	PH_BODY,	/* data, a block fragment, or bytes skipped */
	PH_PAD,		/* padding, skipped */
	PH_ERROR,
};

/* a frame type no frame has: its payload is skipped */
#define H2_SKIP		0xff

/* what kind of block is being gathered */
enum { BLK_REQUEST, BLK_RESPONSE, BLK_TRAILERS };

#define ALIGN8(x)	(((x) + 7U) & ~7U)

static void h2_limits(struct kmesh_h2_limits *out,
		      const struct kmesh_h2_limits *in)
{
	if (in)
		*out = *in;
	else
		memset(out, 0, sizeof(*out));
	if (!out->max_frame_size)
		out->max_frame_size = KMESH_H2_MIN_FRAME_SIZE;
	if (!out->table_max)
		out->table_max = KMESH_HPACK_DEFAULT_TABLE;
	if (!out->max_header_list)
		out->max_header_list = KMESH_H2_DEFAULT_HEADER_LIST;
	if (!out->max_header_block)
		out->max_header_block = out->max_header_list;
	if (!out->max_streams)
		out->max_streams = KMESH_H2_DEFAULT_STREAMS;
	if (!out->max_continuations)
		out->max_continuations = KMESH_H2_DEFAULT_CONTINUATIONS;
}

static int h2_limits_ok(const struct kmesh_h2_limits *l)
{
	return l->max_frame_size >= KMESH_H2_MIN_FRAME_SIZE &&
	       l->max_frame_size <= KMESH_H2_MAX_FRAME_SIZE &&
	       l->table_max <= KMESH_HPACK_MAX_TABLE &&
	       l->max_header_list <= KMESH_HPACK_MAX_LIST &&
	       l->max_header_block <= KMESH_HPACK_MAX_LIST &&
	       l->max_streams <= KMESH_H2_MAX_STREAMS;
}

__u32 kmesh_h2_mem_size(const struct kmesh_h2_limits *in)
{
	__u32 st = kmesh_h2_state_size(in), sc = kmesh_h2_scratch_size(in);

	return st && sc ? ALIGN8(st) + sc : 0;
}

__u32 kmesh_h2_state_size(const struct kmesh_h2_limits *in)
{
	struct kmesh_h2_limits l;

	h2_limits(&l, in);
	if (!h2_limits_ok(&l))
		return 0;
	return ALIGN8(kmesh_hpack_table_size(l.table_max)) +
	       l.max_streams * (__u32)sizeof(struct kmesh_h2_stream);
}

__u32 kmesh_h2_scratch_size(const struct kmesh_h2_limits *in)
{
	struct kmesh_h2_limits l;

	h2_limits(&l, in);
	if (!h2_limits_ok(&l))
		return 0;
	return ALIGN8(l.max_header_list) + ALIGN8(l.max_header_block) +
	       ALIGN8(l.max_header_list);
}

int kmesh_h2_init_state(struct kmesh_h2_parser *p, enum kmesh_h2_dir dir,
			const struct kmesh_h2_limits *lim, void *mem,
			__u32 mem_len, kmesh_h2_event_fn cb, void *ctx)
{
	__u32 need, tbl;
	__u8 *m = mem;

	if (!p || !mem || ((unsigned long)mem & 7) ||
	    (dir != KMESH_H2_FROM_CLIENT && dir != KMESH_H2_FROM_SERVER))
		return KMESH_H2_E_INVAL;
	memset(p, 0, sizeof(*p));
	h2_limits(&p->lim, lim);
	need = kmesh_h2_state_size(&p->lim);
	if (!need || mem_len < need)
		return KMESH_H2_E_INVAL;
	tbl = ALIGN8(kmesh_hpack_table_size(p->lim.table_max));
	if (kmesh_hpack_init_table(&p->hpack, m, tbl, p->lim.table_max,
				   p->lim.max_header_list))
		return KMESH_H2_E_INVAL;
	m += tbl;
	p->streams = (struct kmesh_h2_stream *)m;
	p->dir = dir;
	p->cb = cb;
	p->ctx = ctx;
	p->max_frame = KMESH_H2_MIN_FRAME_SIZE;
	p->phase = dir == KMESH_H2_FROM_CLIENT ? PH_PREFACE : PH_HEADER;
	return 0;
}

int kmesh_h2_in_block(const struct kmesh_h2_parser *p)
{
	return p->in_block || ((p->type == KMESH_H2_HEADERS ||
				p->type == KMESH_H2_CONTINUATION) &&
			       p->phase != PH_HEADER && p->phase != PH_PREFACE &&
			       p->phase != PH_ERROR);
}

int kmesh_h2_attach_scratch(struct kmesh_h2_parser *p, void *mem,
			    __u32 mem_len)
{
	__u8 *m = mem;

	if (!p || !mem || ((unsigned long)mem & 7) || kmesh_h2_in_block(p) ||
	    mem_len < kmesh_h2_scratch_size(&p->lim))
		return KMESH_H2_E_INVAL;
	kmesh_hpack_set_scratch(&p->hpack, m);
	m += ALIGN8(p->lim.max_header_list);
	p->block = m;
	m += ALIGN8(p->lim.max_header_block);
	p->text = m;
	return 0;
}

void kmesh_h2_detach_scratch(struct kmesh_h2_parser *p)
{
	kmesh_hpack_set_scratch(&p->hpack, 0);
	p->block = 0;
	p->text = 0;
	p->msg.text = 0;
}

int kmesh_h2_init(struct kmesh_h2_parser *p, enum kmesh_h2_dir dir,
		  const struct kmesh_h2_limits *lim, void *mem, __u32 mem_len,
		  kmesh_h2_event_fn cb, void *ctx)
{
	__u32 need, st;
	int rc;

	if (!p || !mem)
		return KMESH_H2_E_INVAL;
	need = kmesh_h2_mem_size(lim);
	if (!need || mem_len < need)
		return KMESH_H2_E_INVAL;
	rc = kmesh_h2_init_state(p, dir, lim, mem, mem_len, cb, ctx);
	if (rc)
		return rc;
	st = kmesh_h2_state_size(&p->lim);
	st = ALIGN8(st);
	return kmesh_h2_attach_scratch(p, (__u8 *)mem + st, mem_len - st);
}

int kmesh_h2_peer_setting(struct kmesh_h2_parser *p, __u16 id, __u32 value)
{
	if (!p || p->phase == PH_ERROR)
		return KMESH_H2_E_INVAL;
	switch (id) {
	case KMESH_H2_SETTINGS_HEADER_TABLE_SIZE:
		if (value > p->lim.table_max) {
			kmesh_hpack_set_limit(&p->hpack, p->lim.table_max);
			return KMESH_H2_E_SETTINGS_VALUE;
		}
		return kmesh_hpack_set_limit(&p->hpack, value);
	case KMESH_H2_SETTINGS_MAX_FRAME_SIZE:
		if (value < KMESH_H2_MIN_FRAME_SIZE)
			return KMESH_H2_E_SETTINGS_VALUE;
		if (value > p->lim.max_frame_size) {
			p->max_frame = p->lim.max_frame_size;
			return KMESH_H2_E_SETTINGS_VALUE;
		}
		p->max_frame = value;
		return 0;
	}
	return 0;
}

/* ---- streams ---- */

static struct kmesh_h2_stream *h2_find(struct kmesh_h2_parser *p, __u32 id)
{
	__u32 i;

	for (i = 0; i < p->nr_streams; i++)
		if (p->streams[i].id == id)
			return &p->streams[i];
	return NULL;
}

static void h2_forget(struct kmesh_h2_parser *p, struct kmesh_h2_stream *st)
{
	*st = p->streams[--p->nr_streams];
}

static struct kmesh_h2_stream *h2_track(struct kmesh_h2_parser *p, __u32 id)
{
	struct kmesh_h2_stream *st;

	if (p->nr_streams >= p->lim.max_streams)
		return NULL;
	st = &p->streams[p->nr_streams++];
	memset(st, 0, sizeof(*st));
	st->id = id;
	return st;
}

static int h2_event(struct kmesh_h2_parser *p, __u8 type, __u32 stream_id,
		    __u32 id, __u32 value)
{
	struct kmesh_h2_event ev = {
		.type = type, .flags = p->fflags, .stream_id = stream_id,
		.id = id, .value = value,
	};

	if (type == KMESH_H2_EV_HEADERS)
		ev.msg = &p->msg;
	return p->cb ? p->cb(p->ctx, &ev) : 0;
}

static int h2_stream_error(struct kmesh_h2_parser *p, __u32 stream_id,
			   __u8 reason)
{
	struct kmesh_h2_stream *st = h2_find(p, stream_id);
	struct kmesh_h2_event ev = {
		.type = KMESH_H2_EV_STREAM_ERROR, .reason = reason,
		.flags = p->fflags, .stream_id = stream_id,
	};

	if (st)
		st->flags |= KMESH_H2_S_REFUSED;
	return p->cb ? p->cb(p->ctx, &ev) : 0;
}

/* ---- fields (RFC 9113 8.2, 8.3) ---- */

static int h2_lower_eq(const __u8 *a, __u32 alen, const char *b)
{
	__u32 i;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++) {
		__u8 c = a[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (__u8)b[i])
			return 0;
	}
	return 1;
}

static int h2_name_is(const struct kmesh_hpack_field *f, const char *n)
{
	return f->name_len == strlen(n) && !memcmp(f->name, n, f->name_len);
}

static int h2_check_name(const __u8 *n, __u32 len, __u32 from)
{
	__u32 i;

	if (len <= from)
		return KMESH_H2_E_NAME_BAD;
	for (i = from; i < len; i++) {
		if (n[i] >= 'A' && n[i] <= 'Z')
			return KMESH_H2_E_NAME_UPPERCASE;
		if (!(kmesh_http_cls[n[i]] & KMESH_C_TCHAR))
			return KMESH_H2_E_NAME_BAD;
	}
	return 0;
}

static int h2_check_value(const __u8 *v, __u32 len)
{
	__u32 i;

	if (len && (kmesh_http_ows(v[0]) || kmesh_http_ows(v[len - 1])))
		return KMESH_H2_E_VALUE_BAD;
	for (i = 0; i < len; i++)
		if (!v[i] || v[i] == '\r' || v[i] == '\n')
			return KMESH_H2_E_VALUE_BAD;
	return 0;
}

static int h2_digits(const __u8 *v, __u32 len, __u64 max, __u64 *out)
{
	__u64 n = 0;
	__u32 i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		if (n > (max - (v[i] - '0')) / 10)
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

/* Copy bytes into the message text (sized for the whole list). */
static struct kmesh_h2_span h2_keep(struct kmesh_h2_parser *p, const __u8 *b,
				    __u32 len)
{
	struct kmesh_h2_span s = { p->text_len, len };

	memcpy(p->text + p->text_len, b, len);
	p->text_len += len;
	return s;
}

#define PS_METHOD	(1U << 0)
#define PS_SCHEME	(1U << 1)
#define PS_AUTHORITY	(1U << 2)
#define PS_PATH		(1U << 3)
#define PS_STATUS	(1U << 4)

static int h2_pseudo(struct kmesh_h2_parser *p, const struct kmesh_hpack_field *f,
		     int kind)
{
	struct kmesh_h2_msg *m = &p->msg;
	struct kmesh_h2_span *span = NULL;
	__u32 bit = 0;
	__u64 n;
	int rc;

	if (kind == BLK_TRAILERS)
		return KMESH_H2_E_PSEUDO_IN_TRAILERS;
	if (p->regular_seen)
		return KMESH_H2_E_PSEUDO_AFTER_REGULAR;
	if (kind == BLK_REQUEST) {
		if (h2_name_is(f, ":method")) {
			bit = PS_METHOD;
			span = &m->method;
		} else if (h2_name_is(f, ":scheme")) {
			bit = PS_SCHEME;
			span = &m->scheme;
		} else if (h2_name_is(f, ":authority")) {
			bit = PS_AUTHORITY;
			span = &m->authority;
		} else if (h2_name_is(f, ":path")) {
			bit = PS_PATH;
			span = &m->path;
		}
	} else if (h2_name_is(f, ":status")) {
		bit = PS_STATUS;
	}
	if (!bit)
		return KMESH_H2_E_PSEUDO_UNKNOWN;
	if (p->pseudo_seen & bit)
		return KMESH_H2_E_PSEUDO_DUP;
	p->pseudo_seen |= bit;
	rc = h2_check_value(f->value, f->value_len);
	if (rc)
		return rc;
	switch (bit) {
	case PS_METHOD:
		if (!f->value_len)
			return KMESH_H2_E_METHOD_BAD;
		for (n = 0; n < f->value_len; n++)
			if (!(kmesh_http_cls[f->value[n]] & KMESH_C_TCHAR))
				return KMESH_H2_E_METHOD_BAD;
		break;
	case PS_PATH:
		if (!f->value_len)
			return KMESH_H2_E_PATH_EMPTY;
		break;
	case PS_AUTHORITY:
		m->flags |= KMESH_H2_M_HAS_AUTHORITY;
		break;
	case PS_STATUS:
		if (f->value_len != 3 || h2_digits(f->value, 3, 999, &n) ||
		    n < 100)
			return KMESH_H2_E_STATUS_BAD;
		m->status = (__u16)n;
		if (n < 200)
			m->flags |= KMESH_H2_M_INFORMATIONAL;
		break;
	}
	if (span)
		*span = h2_keep(p, f->value, f->value_len);
	return 0;
}

static int h2_regular(struct kmesh_h2_parser *p,
		      const struct kmesh_hpack_field *f, int kind)
{
	struct kmesh_h2_msg *m = &p->msg;
	struct kmesh_h2_span name, value;
	__u64 n;
	int rc;

	p->regular_seen = 1;
	rc = h2_check_name(f->name, f->name_len, 0);
	if (!rc)
		rc = h2_check_value(f->value, f->value_len);
	if (rc)
		return rc;
	if (h2_name_is(f, "connection") || h2_name_is(f, "keep-alive") ||
	    h2_name_is(f, "proxy-connection") ||
	    h2_name_is(f, "transfer-encoding") || h2_name_is(f, "upgrade"))
		return KMESH_H2_E_CONNECTION_HEADER;
	name = h2_keep(p, f->name, f->name_len);
	value = h2_keep(p, f->value, f->value_len);
	if (h2_name_is(f, "te")) {
		if (!h2_lower_eq(f->value, f->value_len, "trailers"))
			return KMESH_H2_E_TE;
		m->flags |= KMESH_H2_M_HAS_TE;
	} else if (h2_name_is(f, "content-length") && kind != BLK_TRAILERS) {
		if (m->flags & KMESH_H2_M_HAS_CL ||
		    h2_digits(f->value, f->value_len, 0x7fffffffffffffffULL, &n))
			return KMESH_H2_E_CONTENT_LENGTH;
		m->flags |= KMESH_H2_M_HAS_CL;
		m->content_length = n;
	} else if (h2_name_is(f, "host")) {
		m->flags |= KMESH_H2_M_HAS_HOST;
		m->host = value;
	} else if (h2_name_is(f, "content-type")) {
		m->content_type = value;
	} else if (h2_name_is(f, "grpc-status") && p->dir == KMESH_H2_FROM_SERVER) {
		if (!h2_digits(f->value, f->value_len, 0xffff, &n)) {
			m->flags |= KMESH_H2_M_HAS_GRPC_STATUS;
			m->grpc_status = (__u16)n;
		}
	}
	if (m->nr_fields < KMESH_H2_MAX_FIELDS) {
		m->fields[m->nr_fields].name = name;
		m->fields[m->nr_fields].value = value;
		m->nr_fields++;
	} else {
		m->flags |= KMESH_H2_M_FIELDS_TRUNCATED;
	}
	return 0;
}

struct h2_block_ctx {
	struct kmesh_h2_parser *p;
	int kind;
};

/* HPACK's per-field callback: a field error marks the stream, never stops. */
static int h2_on_field(void *ctx, const struct kmesh_hpack_field *f)
{
	struct h2_block_ctx *b = ctx;
	struct kmesh_h2_parser *p = b->p;
	int rc;

	if (p->sem_reason)
		return 0;	/* keep decoding: the table must stay in step */
	if (f->name_len && f->name[0] == ':')
		rc = h2_pseudo(p, f, b->kind);
	else
		rc = h2_regular(p, f, b->kind);
	p->sem_reason = rc;
	return 0;
}

static int h2_span_ieq(const struct kmesh_h2_msg *m, struct kmesh_h2_span a,
		       struct kmesh_h2_span b)
{
	__u32 i;

	if (a.len != b.len)
		return 0;
	for (i = 0; i < a.len; i++) {
		__u8 x = m->text[a.off + i], y = m->text[b.off + i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

static int h2_span_is(const struct kmesh_h2_msg *m, struct kmesh_h2_span s,
		      const char *v)
{
	return s.len == strlen(v) && !memcmp(m->text + s.off, v, s.len);
}

/* The message as a whole (8.3.1, 8.3.2, 8.1). */
static int h2_check_msg(struct kmesh_h2_parser *p, int kind, int end_stream)
{
	struct kmesh_h2_msg *m = &p->msg;
	__u32 ps = p->pseudo_seen;

	if (kind == BLK_TRAILERS)
		return end_stream ? 0 : KMESH_H2_E_TRAILERS_NO_END;
	if (kind == BLK_RESPONSE) {
		if (!(ps & PS_STATUS))
			return KMESH_H2_E_PSEUDO_MISSING;
		if (m->flags & KMESH_H2_M_INFORMATIONAL && end_stream)
			return KMESH_H2_E_STATUS_BAD;
		return 0;
	}
	if (!(ps & PS_METHOD))
		return KMESH_H2_E_PSEUDO_MISSING;
	if (h2_span_is(m, m->method, "CONNECT")) {
		m->flags |= KMESH_H2_M_CONNECT;
		if (ps & (PS_SCHEME | PS_PATH) || !(ps & PS_AUTHORITY))
			return KMESH_H2_E_CONNECT;
	} else {
		if ((ps & (PS_SCHEME | PS_PATH)) != (PS_SCHEME | PS_PATH))
			return KMESH_H2_E_PSEUDO_MISSING;
		if (p->text[m->path.off] != '/' &&
		    !(h2_span_is(m, m->path, "*") &&
		      h2_span_is(m, m->method, "OPTIONS")))
			return KMESH_H2_E_PATH_BAD;
	}
	if (ps & PS_AUTHORITY && m->flags & KMESH_H2_M_HAS_HOST &&
	    !h2_span_ieq(m, m->authority, m->host))
		return KMESH_H2_E_HOST_MISMATCH;
	return 0;
}

/* END_STREAM of a tracked stream: content-length, then the event. */
static int h2_end_stream(struct kmesh_h2_parser *p, struct kmesh_h2_stream *st)
{
	__u32 id = st->id;
	int rc = 0;

	if (!(st->flags & KMESH_H2_S_REFUSED) && st->flags & KMESH_H2_S_HAS_CL &&
	    p->dir == KMESH_H2_FROM_CLIENT && st->data_len != st->content_length)
		rc = h2_stream_error(p, id, KMESH_H2_E_CONTENT_LENGTH_DATA);
	h2_forget(p, st);
	return rc ? rc : h2_event(p, KMESH_H2_EV_END_STREAM, id, 0, 0);
}

static int h2_block_done(struct kmesh_h2_parser *p)
{
	struct kmesh_h2_stream *st = h2_find(p, p->block_stream);
	int end = p->block_end_stream, rc, kind;
	struct h2_block_ctx b = { p, 0 };

	if (p->dir == KMESH_H2_FROM_CLIENT)
		kind = st && st->flags & KMESH_H2_S_OPEN ? BLK_TRAILERS :
		       BLK_REQUEST;
	else
		kind = st && st->flags & KMESH_H2_S_FINAL ? BLK_TRAILERS :
		       BLK_RESPONSE;
	b.kind = kind;
	memset(&p->msg, 0, sizeof(p->msg));
	p->msg.text = p->text;
	p->text_len = 0;
	p->regular_seen = 0;
	p->pseudo_seen = 0;
	p->in_block = 0;
	if (st && st->flags & KMESH_H2_S_REFUSED)
		p->sem_reason = p->sem_reason ? p->sem_reason : KMESH_H2_E_STREAM_CLOSED;
	rc = kmesh_hpack_decode(&p->hpack, p->block, p->block_len, h2_on_field,
				&b);
	if (rc)
		return rc;	/* connection error */
	if (!p->sem_reason)
		p->sem_reason = h2_check_msg(p, kind, end);
	if (kind == BLK_TRAILERS)
		p->msg.flags |= KMESH_H2_M_TRAILERS;
	if (end)
		p->msg.flags |= KMESH_H2_M_END_STREAM;

	if (!st && !(p->block_refused)) {
		st = h2_track(p, p->block_stream);
		if (!st)
			return h2_stream_error(p, p->block_stream,
					       KMESH_H2_E_TOO_MANY_STREAMS);
	}
	if (p->sem_reason) {
		if (st && st->flags & KMESH_H2_S_REFUSED) {
			/* already reported; frames are only passed on */
		} else {
			if (st)
				st->flags |= KMESH_H2_S_OPEN | KMESH_H2_S_FINAL;
			rc = h2_stream_error(p, p->block_stream, p->sem_reason);
			if (rc)
				return rc;
		}
		if (st && end)
			return h2_end_stream(p, st);
		return 0;
	}
	st->flags |= KMESH_H2_S_OPEN;
	if (kind != BLK_TRAILERS) {
		if (!(p->msg.flags & KMESH_H2_M_INFORMATIONAL))
			st->flags |= KMESH_H2_S_FINAL;
		if (p->msg.flags & KMESH_H2_M_HAS_CL) {
			st->flags |= KMESH_H2_S_HAS_CL;
			st->content_length = p->msg.content_length;
		}
	}
	rc = h2_event(p, KMESH_H2_EV_HEADERS, p->block_stream, 0, 0);
	if (rc)
		return rc;
	return end ? h2_end_stream(p, st) : 0;
}

/* ---- frames ---- */

static __u32 h2_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

/* The client's side opens odd streams in order; idle ones take nothing. */
static int h2_idle(const struct kmesh_h2_parser *p, __u32 id)
{
	return p->dir == KMESH_H2_FROM_CLIENT && id > p->last_stream_id;
}

static int h2_frame_begin(struct kmesh_h2_parser *p)
{
	__u32 len = (__u32)p->hdr[0] << 16 | (__u32)p->hdr[1] << 8 | p->hdr[2];
	__u32 id = h2_be32(p->hdr + 5) & 0x7fffffff;
	__u8 type = p->hdr[3], fl = p->hdr[4];

	p->len = len;
	p->type = type;
	p->fflags = fl;
	p->stream_id = id;
	p->left = len;
	p->need = 0;
	p->pad = 0;
	p->data = 0;
	p->data_len = 0;
	p->fixed_len = 0;
	if (len > p->max_frame)
		return KMESH_H2_E_FRAME_SIZE;
	if (!p->state) {	/* SETTINGS comes first (3.4) */
		if (type != KMESH_H2_SETTINGS || fl & KMESH_H2_FLAG_ACK)
			return KMESH_H2_E_FIRST_NOT_SETTINGS;
		p->state = 1;
	}
	if (p->in_block) {
		if (type != KMESH_H2_CONTINUATION || id != p->block_stream)
			return KMESH_H2_E_CONTINUATION_MISSING;
		if (++p->continuations > p->lim.max_continuations)
			return KMESH_H2_E_CONTINUATION_FLOOD;
		return 0;
	}
	switch (type) {
	case KMESH_H2_DATA:
		if (!id)
			return KMESH_H2_E_STREAM0;
		if (h2_idle(p, id))
			return KMESH_H2_E_STREAM_IDLE;
		if (fl & KMESH_H2_FLAG_PADDED) {
			if (!len)
				return KMESH_H2_E_FRAME_LEN;
			p->need = 1;
		}
		return 0;
	case KMESH_H2_HEADERS:
		if (!id)
			return KMESH_H2_E_STREAM0;
		p->need = (fl & KMESH_H2_FLAG_PADDED ? 1 : 0) +
			  (fl & KMESH_H2_FLAG_PRIORITY ? 5 : 0);
		if (len < p->need)
			return KMESH_H2_E_FRAME_LEN;
		if (!(id & 1))
			return KMESH_H2_E_STREAM_ID_PARITY;
		p->block_stream = id;
		p->block_len = 0;
		p->continuations = 0;
		p->block_end_stream = fl & KMESH_H2_FLAG_END_STREAM;
		p->block_refused = 0;
		p->sem_reason = 0;
		if (!h2_find(p, id) && p->dir == KMESH_H2_FROM_CLIENT) {
			if (id > p->last_stream_id) {
				p->last_stream_id = id;
			} else {
				/* closed: decoded for HPACK's sake only */
				p->block_refused = 1;
				p->sem_reason = KMESH_H2_E_STREAM_CLOSED;
			}
		}
		return 0;
	case KMESH_H2_PRIORITY:
		if (!id)
			return KMESH_H2_E_STREAM0;
		if (len != 5) {
			p->type = H2_SKIP;	/* payload skipped unread */
			return h2_stream_error(p, id, KMESH_H2_E_FRAME_LEN_STREAM);
		}
		p->need = 5;
		return 0;
	case KMESH_H2_RST_STREAM:
		if (!id)
			return KMESH_H2_E_STREAM0;
		if (len != 4)
			return KMESH_H2_E_FRAME_LEN;
		if (h2_idle(p, id))
			return KMESH_H2_E_STREAM_IDLE;
		p->need = 4;
		return 0;
	case KMESH_H2_SETTINGS:
		if (id)
			return KMESH_H2_E_NOT_STREAM0;
		if (fl & KMESH_H2_FLAG_ACK) {
			if (len)
				return KMESH_H2_E_SETTINGS_ACK_LEN;
			return h2_event(p, KMESH_H2_EV_SETTINGS_ACK, 0, 0, 0);
		}
		if (len % 6)
			return KMESH_H2_E_FRAME_LEN;
		p->need = len ? 6 : 0;
		return 0;
	case KMESH_H2_PUSH_PROMISE:
		return KMESH_H2_E_PUSH_PROMISE;
	case KMESH_H2_PING:
		if (id)
			return KMESH_H2_E_NOT_STREAM0;
		if (len != 8)
			return KMESH_H2_E_FRAME_LEN;
		p->need = 8;
		return 0;
	case KMESH_H2_GOAWAY:
		if (id)
			return KMESH_H2_E_NOT_STREAM0;
		if (len < 8)
			return KMESH_H2_E_FRAME_LEN;
		p->need = 8;
		return 0;
	case KMESH_H2_WINDOW_UPDATE:
		if (len != 4)
			return KMESH_H2_E_FRAME_LEN;
		if (id && h2_idle(p, id))
			return KMESH_H2_E_STREAM_IDLE;
		p->need = 4;
		return 0;
	case KMESH_H2_CONTINUATION:
		return KMESH_H2_E_CONTINUATION_UNEXPECTED;
	}
	return 0;	/* unknown types are skipped (4.1, 5.5) */
}

static int h2_setting(struct kmesh_h2_parser *p)
{
	__u16 id = (__u16)(p->fixed[0] << 8 | p->fixed[1]);
	__u32 v = h2_be32(p->fixed + 2);

	switch (id) {
	case KMESH_H2_SETTINGS_ENABLE_PUSH:
		/* a server never enables push (RFC 9113 6.5.2) */
		if (v > 1 || (v && p->dir == KMESH_H2_FROM_SERVER))
			return KMESH_H2_E_SETTINGS_VALUE;
		break;
	case KMESH_H2_SETTINGS_INITIAL_WINDOW_SIZE:
		if (v > 0x7fffffff)
			return KMESH_H2_E_SETTINGS_VALUE;
		break;
	case KMESH_H2_SETTINGS_MAX_FRAME_SIZE:
		if (v < KMESH_H2_MIN_FRAME_SIZE || v > KMESH_H2_MAX_FRAME_SIZE)
			return KMESH_H2_E_SETTINGS_VALUE;
		break;
	}
	return h2_event(p, KMESH_H2_EV_SETTINGS, 0, id, v);
}

/* The fixed fields are in: act on them, say what comes next. */
static int h2_prefix_done(struct kmesh_h2_parser *p)
{
	__u32 v, id = p->stream_id;
	int rc;

	switch (p->type) {
	case KMESH_H2_DATA:
	case KMESH_H2_HEADERS:
	case KMESH_H2_CONTINUATION:
		if (p->fflags & KMESH_H2_FLAG_PADDED &&
		    p->type != KMESH_H2_CONTINUATION)
			p->pad = p->fixed[0];
		if (p->pad > p->left)
			return KMESH_H2_E_PADDING;
		p->data = p->left - p->pad;
		p->data_len = p->data;
		if (p->type == KMESH_H2_DATA)
			return 0;
		if (p->type == KMESH_H2_HEADERS &&
		    p->fflags & KMESH_H2_FLAG_PRIORITY) {
			v = h2_be32(p->fixed + p->fixed_len - 5) & 0x7fffffff;
			if (v == id && !p->sem_reason)
				p->sem_reason = KMESH_H2_E_SELF_DEPENDENCY;
		}
		if (p->data > p->lim.max_header_block - p->block_len)
			return KMESH_H2_E_HEADER_BLOCK_SIZE;
		return 0;
	case KMESH_H2_PRIORITY:
		v = h2_be32(p->fixed) & 0x7fffffff;
		if (v == id)
			return h2_stream_error(p, id, KMESH_H2_E_SELF_DEPENDENCY);
		return h2_event(p, KMESH_H2_EV_PRIORITY, id, v, 0);
	case KMESH_H2_RST_STREAM: {
		struct kmesh_h2_stream *st = h2_find(p, id);

		if (st)
			h2_forget(p, st);
		return h2_event(p, KMESH_H2_EV_RST_STREAM, id, 0,
				h2_be32(p->fixed));
	}
	case KMESH_H2_SETTINGS:
		if (p->fixed_len < 6)	/* empty, or an ack */
			return 0;
		rc = h2_setting(p);
		if (!rc && p->left) {
			p->need = 6;
			p->fixed_len = 0;
		}
		return rc;
	case KMESH_H2_PING:
		return h2_event(p, KMESH_H2_EV_PING, 0, 0, 0);
	case KMESH_H2_GOAWAY:
		return h2_event(p, KMESH_H2_EV_GOAWAY, 0,
				h2_be32(p->fixed) & 0x7fffffff,
				h2_be32(p->fixed + 4));
	case KMESH_H2_WINDOW_UPDATE:
		v = h2_be32(p->fixed) & 0x7fffffff;
		if (!v)
			return id ? h2_stream_error(p, id, KMESH_H2_E_WINDOW_ZERO) :
			       KMESH_H2_E_WINDOW_ZERO_CONN;
		return h2_event(p, KMESH_H2_EV_WINDOW_UPDATE, id, 0, v);
	}
	return 0;
}

static int h2_frame_end(struct kmesh_h2_parser *p)
{
	struct kmesh_h2_stream *st;
	__u32 id = p->stream_id, n;
	int rc;

	switch (p->type) {
	case KMESH_H2_DATA:
		n = p->data_len;
		st = h2_find(p, id);
		if (!st)
			return h2_stream_error(p, id, KMESH_H2_E_STREAM_CLOSED);
		st->data_len += n;
		rc = h2_event(p, KMESH_H2_EV_DATA, id, 0, n);
		if (rc)
			return rc;
		if (!(st->flags & KMESH_H2_S_REFUSED)) {
			if (!(st->flags & KMESH_H2_S_FINAL) ||
			    (st->flags & KMESH_H2_S_HAS_CL &&
			     st->data_len > st->content_length)) {
				rc = h2_stream_error(p, id,
					st->flags & KMESH_H2_S_FINAL ?
					KMESH_H2_E_CONTENT_LENGTH_DATA :
					KMESH_H2_E_PSEUDO_MISSING);
				if (rc)
					return rc;
			}
		}
		if (p->fflags & KMESH_H2_FLAG_END_STREAM)
			return h2_end_stream(p, st);
		return 0;
	case KMESH_H2_HEADERS:
	case KMESH_H2_CONTINUATION:
		if (p->fflags & KMESH_H2_FLAG_END_HEADERS)
			return h2_block_done(p);
		p->in_block = 1;
		return 0;
	}
	return 0;
}

/* Where the frame goes after its fixed fields (or straight away). */
static int h2_after_prefix(struct kmesh_h2_parser *p)
{
	int rc = h2_prefix_done(p);

	if (rc)
		return rc;
	if (p->type == KMESH_H2_SETTINGS && p->left) {
		p->phase = PH_PREFIX;
		return 0;
	}
	if (p->type != KMESH_H2_DATA && p->type != KMESH_H2_HEADERS &&
	    p->type != KMESH_H2_CONTINUATION)
		p->data = p->left;	/* GOAWAY debug data, unknown types */
	p->phase = PH_BODY;
	return 0;
}

static int h2_step_frame(struct kmesh_h2_parser *p)
{
	if (p->phase == PH_BODY && !p->data)
		p->phase = PH_PAD;
	if (p->phase == PH_PAD && !p->pad) {
		p->phase = PH_HEADER;
		p->hdr_len = 0;
		return h2_frame_end(p);
	}
	return 0;
}

int kmesh_h2_parse(struct kmesh_h2_parser *p, const __u8 *buf, __u32 len)
{
	__u32 i = 0, n;
	int rc = 0;

	if (!p || !p->block || (!buf && len))
		return KMESH_H2_E_INVAL;
	if (p->phase == PH_ERROR)
		return p->reason;
	while (i < len) {
		switch (p->phase) {
		case PH_PREFACE:
			if (buf[i] != (__u8)KMESH_H2_PREFACE[p->hdr_len]) {
				p->frame_off = p->offset + i;
				rc = KMESH_H2_E_PREFACE;
				goto fail;
			}
			i++;
			if (++p->hdr_len == KMESH_H2_PREFACE_LEN) {
				p->hdr_len = 0;
				p->phase = PH_HEADER;
			}
			continue;
		case PH_HEADER:
			if (!p->hdr_len)
				p->frame_off = p->offset + i;
			n = KMESH_H2_FRAME_HEADER_LEN - p->hdr_len;
			if (n > len - i)
				n = len - i;
			memcpy(p->hdr + p->hdr_len, buf + i, n);
			p->hdr_len += n;
			i += n;
			if (p->hdr_len < KMESH_H2_FRAME_HEADER_LEN)
				continue;
			rc = h2_frame_begin(p);
			if (rc)
				goto fail;
			p->phase = PH_PREFIX;
			if (!p->need)
				rc = h2_after_prefix(p);
			break;
		case PH_PREFIX:
			n = p->need - p->fixed_len;
			if (n > len - i)
				n = len - i;
			memcpy(p->fixed + p->fixed_len, buf + i, n);
			p->fixed_len += n;
			p->left -= n;
			i += n;
			if (p->fixed_len < p->need)
				continue;
			rc = h2_after_prefix(p);
			break;
		case PH_BODY:
			n = p->data;
			if (n > len - i)
				n = len - i;
			if (p->type == KMESH_H2_HEADERS ||
			    p->type == KMESH_H2_CONTINUATION) {
				memcpy(p->block + p->block_len, buf + i, n);
				p->block_len += n;
			}
			p->data -= n;
			p->left -= n;
			i += n;
			break;
		case PH_PAD:
			n = p->pad;
			if (n > len - i)
				n = len - i;
			p->pad -= n;
			p->left -= n;
			i += n;
			break;
		default:
			rc = KMESH_H2_E_INVAL;
			goto fail;
		}
		if (rc)
			goto fail;
		rc = h2_step_frame(p);
		if (rc)
			goto fail;
	}
	p->offset += len;
	return 0;
fail:
	p->offset += i;
	p->err_off = p->frame_off;
	p->reason = rc;
	p->phase = PH_ERROR;
	return rc;
}
