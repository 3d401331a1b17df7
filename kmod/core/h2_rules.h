/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The HTTP/2 rules kmesh applies, written once (as http_rules.h is for
 * HTTP/1.1): every refusal of the frame parser (h2_frame.c) and of the
 * HPACK decoder (hpack.c) has a reason code here, with its scope (the
 * whole connection, or one stream) and the RFC 9113 section 7 error code
 * a peer would send for it. Included by the cores, host tests, fuzzers
 * and benchmarks; the kfuncs will return these numbers, so they are
 * fixed once released (they move into kmesh_kfunc.h with the kfuncs).
 *
 * Plain C, everything static and const; nothing needs linking.
 */
#ifndef KMESH_H2_RULES_H
#define KMESH_H2_RULES_H

#include "../kmesh_kfunc.h"	/* enum kmesh_h2_reason */

/* RFC 9113 section 7 error codes (RST_STREAM, GOAWAY). */
#define KMESH_H2_NO_ERROR		0x0
#define KMESH_H2_PROTOCOL_ERROR		0x1
#define KMESH_H2_INTERNAL_ERROR		0x2
#define KMESH_H2_FLOW_CONTROL_ERROR	0x3
#define KMESH_H2_SETTINGS_TIMEOUT	0x4
#define KMESH_H2_STREAM_CLOSED		0x5
#define KMESH_H2_FRAME_SIZE_ERROR	0x6
#define KMESH_H2_REFUSED_STREAM		0x7
#define KMESH_H2_CANCEL			0x8
#define KMESH_H2_COMPRESSION_ERROR	0x9
#define KMESH_H2_CONNECT_ERROR		0xa
#define KMESH_H2_ENHANCE_YOUR_CALM	0xb
#define KMESH_H2_INADEQUATE_SECURITY	0xc
#define KMESH_H2_HTTP_1_1_REQUIRED	0xd

/* The client connection preface [3.4]; the eBPF fallback detects it too. */
#define KMESH_H2_PREFACE	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define KMESH_H2_PREFACE_LEN	24

/* A reason's scope and the RFC 9113 code that goes with it. */
struct kmesh_h2_reason_info {
	const char *text;
	unsigned char h2_code;	/* KMESH_H2_*_ERROR */
	unsigned char stream;	/* 1: the stream only; 0: the connection */
};

#define KMESH_H2_R_(text, code, stream) { text, KMESH_H2_##code, stream }
/* every reason has a line here: test_h2_frame.c checks each has a text */
static const struct kmesh_h2_reason_info kmesh_h2_reasons[KMESH_H2_REASON_MAX] = {
	[KMESH_H2_OK] = KMESH_H2_R_("ok", NO_ERROR, 0),
	[KMESH_H2_E_INVAL] = KMESH_H2_R_("bad arguments or state", INTERNAL_ERROR, 0),
	[KMESH_H2_E_PREFACE] = KMESH_H2_R_("not the HTTP/2 connection preface", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_FIRST_NOT_SETTINGS] = KMESH_H2_R_("first frame is not SETTINGS", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_FRAME_SIZE] = KMESH_H2_R_("frame larger than SETTINGS_MAX_FRAME_SIZE", FRAME_SIZE_ERROR, 0),
	[KMESH_H2_E_FRAME_LEN] = KMESH_H2_R_("frame length wrong for its type", FRAME_SIZE_ERROR, 0),
	[KMESH_H2_E_STREAM0] = KMESH_H2_R_("stream frame on stream 0", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_NOT_STREAM0] = KMESH_H2_R_("connection frame on a stream", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_SETTINGS_ACK_LEN] = KMESH_H2_R_("SETTINGS ack with a payload", FRAME_SIZE_ERROR, 0),
	[KMESH_H2_E_SETTINGS_VALUE] = KMESH_H2_R_("SETTINGS value out of range", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_PADDING] = KMESH_H2_R_("padding as long as the payload or longer", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_CONTINUATION_MISSING] = KMESH_H2_R_("frame inside a header block (CONTINUATION expected)", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_CONTINUATION_UNEXPECTED] = KMESH_H2_R_("CONTINUATION without an open header block on its stream", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_CONTINUATION_FLOOD] = KMESH_H2_R_("too many CONTINUATION frames in a header block", ENHANCE_YOUR_CALM, 0),
	[KMESH_H2_E_HEADER_BLOCK_SIZE] = KMESH_H2_R_("compressed header block over the limit", ENHANCE_YOUR_CALM, 0),
	[KMESH_H2_E_STREAM_ID_PARITY] = KMESH_H2_R_("stream id of the wrong parity", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_STREAM_ID_ORDER] = KMESH_H2_R_("new stream id not above the previous ones", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_STREAM_IDLE] = KMESH_H2_R_("frame on an idle stream", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_WINDOW_ZERO_CONN] = KMESH_H2_R_("WINDOW_UPDATE of 0 on the connection", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_PUSH_PROMISE] = KMESH_H2_R_("PUSH_PROMISE (push is not accepted)", PROTOCOL_ERROR, 0),
	[KMESH_H2_E_HPACK_TRUNCATED] = KMESH_H2_R_("HPACK: block ends inside a representation", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_INT] = KMESH_H2_R_("HPACK: integer too large", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_INDEX] = KMESH_H2_R_("HPACK: index 0 or out of range", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_STRING_LEN] = KMESH_H2_R_("HPACK: string longer than the block", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_HUFFMAN] = KMESH_H2_R_("HPACK: bad Huffman padding", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_HUFFMAN_EOS] = KMESH_H2_R_("HPACK: EOS in a Huffman string", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_TABLE_SIZE] = KMESH_H2_R_("HPACK: table size update over the limit", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_UPDATE_POS] = KMESH_H2_R_("HPACK: table size update after a field", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HPACK_UPDATE_MISSING] = KMESH_H2_R_("HPACK: limit lowered but no size update first", COMPRESSION_ERROR, 0),
	[KMESH_H2_E_HEADER_LIST_SIZE] = KMESH_H2_R_("header list over the limit", ENHANCE_YOUR_CALM, 0),
	[KMESH_H2_E_STREAM_CLOSED] = KMESH_H2_R_("frame after END_STREAM", STREAM_CLOSED, 1),
	[KMESH_H2_E_TOO_MANY_STREAMS] = KMESH_H2_R_("more streams than tracked", REFUSED_STREAM, 1),
	[KMESH_H2_E_FRAME_LEN_STREAM] = KMESH_H2_R_("PRIORITY length not 5", FRAME_SIZE_ERROR, 1),
	[KMESH_H2_E_SELF_DEPENDENCY] = KMESH_H2_R_("stream depends on itself", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_WINDOW_ZERO] = KMESH_H2_R_("WINDOW_UPDATE of 0 on a stream", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_NAME_UPPERCASE] = KMESH_H2_R_("uppercase field name", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_NAME_BAD] = KMESH_H2_R_("field name empty or not a token", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_VALUE_BAD] = KMESH_H2_R_("field value with NUL, CR, LF or outer whitespace", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_CONNECTION_HEADER] = KMESH_H2_R_("connection-specific field", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_TE] = KMESH_H2_R_("te other than \"trailers\"", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PSEUDO_AFTER_REGULAR] = KMESH_H2_R_("pseudo-header after a regular field", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PSEUDO_DUP] = KMESH_H2_R_("duplicate pseudo-header", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PSEUDO_UNKNOWN] = KMESH_H2_R_("unknown pseudo-header", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PSEUDO_MISSING] = KMESH_H2_R_("required pseudo-header missing", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PSEUDO_IN_TRAILERS] = KMESH_H2_R_("pseudo-header in trailers", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PATH_EMPTY] = KMESH_H2_R_(":path empty", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_PATH_BAD] = KMESH_H2_R_(":path not origin-form", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_METHOD_BAD] = KMESH_H2_R_(":method not a token", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_STATUS_BAD] = KMESH_H2_R_(":status not three digits", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_CONNECT] = KMESH_H2_R_("CONNECT with :scheme or :path, or without :authority", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_HOST_MISMATCH] = KMESH_H2_R_("host differs from :authority", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_CONTENT_LENGTH] = KMESH_H2_R_("content-length not digits, or repeated", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_CONTENT_LENGTH_DATA] = KMESH_H2_R_("DATA lengths differ from content-length", PROTOCOL_ERROR, 1),
	[KMESH_H2_E_TRAILERS_NO_END] = KMESH_H2_R_("trailers without END_STREAM", PROTOCOL_ERROR, 1),
};
#undef KMESH_H2_R_

_Static_assert(KMESH_H2_REASON_MAX <= 0xff, "a reason fits a __u8");

static inline const char *kmesh_h2_strreason(unsigned int reason)
{
	if (reason >= KMESH_H2_REASON_MAX || !kmesh_h2_reasons[reason].text)
		return "unknown";
	return kmesh_h2_reasons[reason].text;
}

/* 1 when @reason refuses one stream only, 0 for the connection. */
static inline int kmesh_h2_reason_is_stream(unsigned int reason)
{
	return reason < KMESH_H2_REASON_MAX && kmesh_h2_reasons[reason].stream;
}

static inline unsigned int kmesh_h2_reason_code(unsigned int reason)
{
	return reason < KMESH_H2_REASON_MAX ? kmesh_h2_reasons[reason].h2_code :
	       KMESH_H2_INTERNAL_ERROR;
}

#endif /* KMESH_H2_RULES_H */
