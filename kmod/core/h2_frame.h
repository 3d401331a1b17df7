/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HTTP/2 frame parser (RFC 9113) for one direction of a cleartext (h2c,
 * prior knowledge) connection: what the client sends (connection preface,
 * requests) or what the server sends (responses).
 *
 * Incremental: feed the direction's bytes in order, in any pieces;
 * kmesh_h2_parse() keeps the state and reports what it finds through an
 * event callback, frame by frame. Every decision is made in byte order
 * and events are reported when their frame is complete, so any split of
 * the same bytes gives the same events and the same verdict.
 *
 * Header blocks (HEADERS and its CONTINUATIONs) are gathered up to
 * max_header_block bytes, then HPACK-decoded (hpack.c) and checked as one
 * message: the request's pseudo-headers (method, scheme, authority, path)
 * or the response's :status, the fields a router needs (host,
 * content-type, content-length, grpc-status) and up to
 * KMESH_H2_MAX_FIELDS regular fields, copied into the parser's memory.
 *
 * Refusals are enum kmesh_h2_reason (h2_rules.h). A connection error is
 * final: kmesh_h2_parse() returns it and every later call returns it
 * again. A stream error is reported as a KMESH_H2_EV_STREAM_ERROR event
 * and the connection goes on; the stream is then "refused": its frames
 * are still reported (the data plane drops them), never checked again.
 *
 * What is checked (RFC 9113 section in brackets):
 *  - the client preface [3.4] and SETTINGS first [3.4];
 *  - frame size against SETTINGS_MAX_FRAME_SIZE, fixed lengths of
 *    SETTINGS, PING, GOAWAY, RST_STREAM, WINDOW_UPDATE, PRIORITY [4.2, 6];
 *  - stream 0 for stream frames and the converse [6];
 *  - padding not shorter than the payload [6.1, 6.2];
 *  - CONTINUATION right after its HEADERS, on its stream, nothing in
 *    between, at most max_continuations of them [6.10];
 *  - client stream ids odd and increasing; frames on idle streams;
 *    frames after END_STREAM [5.1, 5.1.1];
 *  - SETTINGS values [6.5.2]; WINDOW_UPDATE of 0 [6.9];
 *  - fields [8.2, 8.3]: names lowercase tokens, values without NUL, CR,
 *    LF or outer whitespace; no connection-specific field (connection,
 *    keep-alive, proxy-connection, transfer-encoding, upgrade); te only
 *    "trailers"; pseudo-headers first, each once, only those of the
 *    direction, none in trailers; :method a token; :path non-empty,
 *    origin-form or "*" for OPTIONS; CONNECT with :authority and without
 *    :scheme and :path; host equal to :authority when both are there;
 *    one content-length of digits, equal to the sum of DATA lengths at
 *    END_STREAM (requests; a response may answer HEAD: there only "not
 *    more than" is checked); trailers end the stream.
 * Not checked: flow control windows (kmesh forwards, it does not
 * buffer), PRIORITY semantics, padding contents (RFC 9113 lets a
 * receiver ignore them). PUSH_PROMISE is refused: kmesh's peers run
 * without push (SETTINGS_ENABLE_PUSH 0 in gRPC and nghttp2 clients).
 */
#ifndef KMESH_H2_FRAME_H
#define KMESH_H2_FRAME_H

#include "core.h"
#include "h2_rules.h"
#include "hpack.h"

#define KMESH_H2_FRAME_HEADER_LEN 9

/* Frame types [6] and flags. */
#define KMESH_H2_DATA		0x0
#define KMESH_H2_HEADERS	0x1
#define KMESH_H2_PRIORITY	0x2
#define KMESH_H2_RST_STREAM	0x3
#define KMESH_H2_SETTINGS	0x4
#define KMESH_H2_PUSH_PROMISE	0x5
#define KMESH_H2_PING		0x6
#define KMESH_H2_GOAWAY		0x7
#define KMESH_H2_WINDOW_UPDATE	0x8
#define KMESH_H2_CONTINUATION	0x9

#define KMESH_H2_FLAG_END_STREAM	0x01
#define KMESH_H2_FLAG_ACK		0x01
#define KMESH_H2_FLAG_END_HEADERS	0x04
#define KMESH_H2_FLAG_PADDED		0x08
#define KMESH_H2_FLAG_PRIORITY		0x20

/* SETTINGS identifiers [6.5.2]. */
#define KMESH_H2_SETTINGS_HEADER_TABLE_SIZE	0x1
#define KMESH_H2_SETTINGS_ENABLE_PUSH		0x2
#define KMESH_H2_SETTINGS_MAX_CONCURRENT_STREAMS 0x3
#define KMESH_H2_SETTINGS_INITIAL_WINDOW_SIZE	0x4
#define KMESH_H2_SETTINGS_MAX_FRAME_SIZE	0x5
#define KMESH_H2_SETTINGS_MAX_HEADER_LIST_SIZE	0x6

#define KMESH_H2_MIN_FRAME_SIZE		16384
#define KMESH_H2_MAX_FRAME_SIZE		16777215

/* Defaults of struct kmesh_h2_limits' zero fields. */
#define KMESH_H2_DEFAULT_HEADER_LIST	16384
#define KMESH_H2_DEFAULT_STREAMS	100
#define KMESH_H2_DEFAULT_CONTINUATIONS	16
#define KMESH_H2_MAX_STREAMS		65536

enum kmesh_h2_dir {
	KMESH_H2_FROM_CLIENT = 0,	/* preface, requests */
	KMESH_H2_FROM_SERVER = 1,	/* responses */
};

struct kmesh_h2_limits {
	/* largest frame the receiver may ever allow (its SETTINGS) */
	__u32 max_frame_size;		/* 0: 16384 */
	__u32 table_max;		/* HPACK table bound; 0: 4096 */
	__u32 max_header_list;		/* decoded, RFC 7541 4.1 sizes; 0: 16384 */
	__u32 max_header_block;		/* compressed; 0: max_header_list */
	__u32 max_streams;		/* open streams tracked; 0: 100 */
	__u32 max_continuations;	/* per header block; 0: 16 */
};

/* Bytes [off, off + len) of kmesh_h2_msg.text. */
struct kmesh_h2_span {
	__u32 off;
	__u32 len;
};

#define KMESH_H2_MAX_FIELDS	32

/* kmesh_h2_msg.flags */
#define KMESH_H2_M_TRAILERS		(1U << 0)	/* a second block */
#define KMESH_H2_M_INFORMATIONAL	(1U << 1)	/* :status 1xx */
#define KMESH_H2_M_HAS_CL		(1U << 2)
#define KMESH_H2_M_HAS_GRPC_STATUS	(1U << 3)
#define KMESH_H2_M_FIELDS_TRUNCATED	(1U << 4)	/* more than fields[] holds */
#define KMESH_H2_M_END_STREAM		(1U << 5)
#define KMESH_H2_M_CONNECT		(1U << 6)
#define KMESH_H2_M_HAS_AUTHORITY	(1U << 7)
#define KMESH_H2_M_HAS_HOST		(1U << 8)
#define KMESH_H2_M_HAS_TE		(1U << 9)	/* te: trailers */

/* One header block as the router sees it; valid during its event. */
struct kmesh_h2_msg {
	const __u8 *text;	/* every field's name and value, copied */
	__u32 flags;		/* KMESH_H2_M_* */
	__u16 status;		/* :status */
	__u16 grpc_status;	/* with HAS_GRPC_STATUS */
	__u64 content_length;	/* with HAS_CL */
	struct kmesh_h2_span method, scheme, authority, path;
	struct kmesh_h2_span host, content_type;
	__u32 nr_fields;	/* regular fields, in order */
	struct {
		struct kmesh_h2_span name, value;
	} fields[KMESH_H2_MAX_FIELDS];
};

enum kmesh_h2_event_type {
	KMESH_H2_EV_SETTINGS = 1,	/* one per setting: id, value */
	KMESH_H2_EV_SETTINGS_ACK,
	KMESH_H2_EV_HEADERS,		/* msg; opens the stream if first */
	KMESH_H2_EV_DATA,		/* value: bytes without padding */
	KMESH_H2_EV_END_STREAM,		/* this direction of it is done */
	KMESH_H2_EV_RST_STREAM,		/* value: error code */
	KMESH_H2_EV_GOAWAY,		/* id: last stream id, value: code */
	KMESH_H2_EV_PING,		/* flags: ACK */
	KMESH_H2_EV_WINDOW_UPDATE,	/* value: increment */
	KMESH_H2_EV_PRIORITY,		/* id: dependency */
	KMESH_H2_EV_STREAM_ERROR,	/* reason: refuse this stream */
};

struct kmesh_h2_event {
	__u8 type;		/* enum kmesh_h2_event_type */
	__u8 reason;		/* STREAM_ERROR: enum kmesh_h2_reason */
	__u8 flags;		/* the frame's flags */
	__u32 stream_id;
	__u32 id;
	__u32 value;
	const struct kmesh_h2_msg *msg;	/* HEADERS */
};

/* 0 to go on; anything else stops kmesh_h2_parse(), which returns it. */
typedef int (*kmesh_h2_event_fn)(void *ctx, const struct kmesh_h2_event *ev);

/* kmesh_h2_stream.flags */
#define KMESH_H2_S_OPEN		(1U << 0)	/* first block complete */
#define KMESH_H2_S_FINAL	(1U << 1)	/* response: final status seen */
#define KMESH_H2_S_HAS_CL	(1U << 2)
#define KMESH_H2_S_REFUSED	(1U << 3)	/* a stream error was reported */

struct kmesh_h2_stream {
	__u32 id;
	__u32 flags;		/* KMESH_H2_S_* */
	__u64 content_length;
	__u64 data_len;
};

struct kmesh_h2_parser {
	struct kmesh_hpack hpack;
	struct kmesh_h2_limits lim;
	struct kmesh_h2_msg msg;
	kmesh_h2_event_fn cb;
	void *ctx;
	__u8 *block;		/* compressed header block being gathered */
	__u8 *text;		/* kmesh_h2_msg.text */
	struct kmesh_h2_stream *streams;
	__u64 offset;		/* bytes consumed so far */
	__u64 frame_off;	/* where the current frame started */
	__u64 err_off;		/* with a connection error: its frame */
	__u32 max_frame;	/* the receiver's SETTINGS_MAX_FRAME_SIZE */
	__u32 nr_streams;
	__u32 last_stream_id;	/* highest stream opened (client side) */
	__u32 text_len;
	/* current frame */
	__u32 len, stream_id, left, need, pad, data;
	__u32 data_len;		/* DATA: bytes without padding */
	__u8 type, fflags, phase, hdr_len;
	__u8 hdr[KMESH_H2_FRAME_HEADER_LEN];
	__u8 fixed[8];
	__u8 fixed_len;
	/* header block */
	__u8 in_block, block_end_stream, block_refused, regular_seen;
	__u8 pseudo_seen, dir, state;
	int reason;		/* the final verdict, once in error */
	__u32 block_stream, block_len, continuations;
	__u32 sem_reason;	/* first field error of the block */
};

/* Bytes of memory kmesh_h2_init() needs (0: limits out of range). */
__u32 kmesh_h2_mem_size(const struct kmesh_h2_limits *lim);

/*
 * Set up @p for direction @dir with @lim (NULL: defaults) in @mem (8-byte
 * aligned, kmesh_h2_mem_size() bytes). Returns 0 or KMESH_H2_E_INVAL.
 */
int kmesh_h2_init(struct kmesh_h2_parser *p, enum kmesh_h2_dir dir,
		  const struct kmesh_h2_limits *lim, void *mem, __u32 mem_len,
		  kmesh_h2_event_fn cb, void *ctx);

/*
 * The same memory in two parts, for a parser kept per connection whose
 * transient buffers are lent per call: the state (HPACK table, stream
 * slots; kmesh_h2_state_size()) lives as long as the parser; the scratch
 * (decoded strings, the compressed block being gathered, the message
 * text; kmesh_h2_scratch_size()) is attached before kmesh_h2_parse() and
 * may be detached and reused after it, unless kmesh_h2_in_block() says a
 * header block is partly gathered (then it holds that block's bytes).
 * kmesh_h2_mem_size() is their sum (each part 8-byte aligned).
 */
__u32 kmesh_h2_state_size(const struct kmesh_h2_limits *lim);
__u32 kmesh_h2_scratch_size(const struct kmesh_h2_limits *lim);
int kmesh_h2_init_state(struct kmesh_h2_parser *p, enum kmesh_h2_dir dir,
			const struct kmesh_h2_limits *lim, void *mem,
			__u32 mem_len, kmesh_h2_event_fn cb, void *ctx);
int kmesh_h2_attach_scratch(struct kmesh_h2_parser *p, void *mem,
			    __u32 mem_len);
void kmesh_h2_detach_scratch(struct kmesh_h2_parser *p);
int kmesh_h2_in_block(const struct kmesh_h2_parser *p);

/*
 * Feed the next @len bytes. Returns 0 (all consumed, go on), a
 * connection error (enum kmesh_h2_reason; final, p->err_off), or what the
 * callback returned to stop.
 */
int kmesh_h2_parse(struct kmesh_h2_parser *p, const __u8 *buf, __u32 len);

/*
 * A setting the other direction's SETTINGS announced (and the peer
 * acknowledged) that binds this direction: HEADER_TABLE_SIZE for the
 * HPACK decoder, MAX_FRAME_SIZE for frame lengths. Values above this
 * parser's limits are clamped and KMESH_H2_E_SETTINGS_VALUE returned: the
 * data plane then lowers the setting it forwards, or closes.
 */
int kmesh_h2_peer_setting(struct kmesh_h2_parser *p, __u16 id, __u32 value);

#endif /* KMESH_H2_FRAME_H */
