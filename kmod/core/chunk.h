/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Chunked body scanner (RFC 9112 7.1): finds where a chunked request or
 * response body ends, so that a proxy-less policy can tell the next
 * message head from body bytes. Chunk data is skipped by count and never
 * read; size lines, extensions and trailers are read and checked.
 *
 * Incremental: feed the body's bytes in any number of pieces, in order;
 * the state carries over. Each call returns an enum kmesh_chunk_status
 * (also left in st->status) and sets st->consumed:
 *  - NEED_MORE: all @len bytes belong to the body, which goes on;
 *  - DONE: the body ends after st->consumed bytes (the final CRLF of the
 *    last chunk or of the trailers included); bytes after it are not read;
 *  - an error: st->consumed is the offset of the offending byte.
 * DONE and errors are final: later calls return them again, consuming
 * nothing. Because every decision is made in byte order, feeding a body
 * in pieces gives exactly the result of feeding it whole.
 *
 * Strictness (where backends disagree, a disagreement is a smuggling
 * vector, so refuse):
 *  - chunk-size: 1 to 15 hex digits (no sign, no "0x", no leading
 *    whitespace; 15 digits keep sizes below 2^60);
 *  - after the digits: CRLF, or extensions exactly as RFC 9112 7.1.1
 *    writes them, *( BWS ";" BWS token [ BWS "=" BWS ( token /
 *    quoted-string ) ] ): no empty name ("2;"), no unbalanced quote, no
 *    whitespace before the CRLF; the whole size line at most
 *    KMESH_CHUNK_MAX_LINE bytes;
 *  - chunk data must be followed by exactly CRLF;
 *  - trailer lines are "token ':' value" with no whitespace before the
 *    colon and no control bytes; all trailers at most
 *    KMESH_CHUNK_MAX_TRAILERS bytes;
 *  - line ends are CRLF; a bare CR or LF anywhere is an error.
 *
 * The grammar is kmesh_chunk_step() in http_rules.h, shared with the eBPF
 * fallback (bpf/include/l7_chunk.h).
 *
 * @st may live in memory a BPF program can write: each call works on a
 * private copy, checks it, and writes the result back at the end.
 */
#ifndef KMESH_CHUNK_H
#define KMESH_CHUNK_H

#include "core.h"
#include "../kmesh_kfunc.h"

void kmesh_chunk_init(struct kmesh_chunk_state *st);
int kmesh_chunk_scan(struct kmesh_chunk_state *st, const __u8 *buf,
		     __u32 len);
const char *kmesh_chunk_strstatus(int status);

#endif /* KMESH_CHUNK_H */
