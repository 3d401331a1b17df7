/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Chunked-body vectors (RFC 9112 7.1): where the body ends (consumed, with
 * DONE or NEED_MORE) or which byte is refused (consumed is its offset).
 * Checked against the core by selftests/unit/test_chunk.c, and fed to the
 * core, the eBPF fallback and the chunk kfunc by the conformance suite.
 */
#ifndef KMESH_CHUNK_VECTORS_H
#define KMESH_CHUNK_VECTORS_H

#include "kmesh_kfunc.h"

struct chunk_vector {
	const char *name;
	const char *body;
	int status;
	__u32 consumed;
};

static const struct chunk_vector chunk_vectors[] = {
	{ "last chunk only", "0\r\n\r\n", KMESH_CHUNK_DONE, 5 },
	{ "next head after the body", "0\r\n\r\nGET / HTTP/1.1\r\n", KMESH_CHUNK_DONE, 5 },
	{ "one chunk", "5\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 15 },
	{ "one chunk, then NEXT", "5\r\nhello\r\n0\r\n\r\nNEXT", KMESH_CHUNK_DONE, 15 },
	{ "hex upper case", "A\r\n0123456789\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 20 },
	{ "hex lower case", "a\r\n0123456789\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 20 },
	{ "leading zeros", "000005\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 20 },
	{ "extensions name=value;name", "5;name=value;x\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 28 },
	{ "BWS before ';'", "5 ;x\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 18 },
	{ "BWS around ';' and '='", "5 ; a = b\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 23 },
	{ "quoted value with ';' and quoted-pair", "5;a=\"x;y\\\"z\"\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 26 },
	{ "quoted value, then another extension", "5;a=\"\";b\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_DONE, 22 },
	{ "extension on the last chunk", "0;q=1\r\n\r\n", KMESH_CHUNK_DONE, 9 },
	{ "trailers", "0\r\nA: b\r\nC: d\r\n\r\n", KMESH_CHUNK_DONE, 17 },
	{ "trailer with a value", "5;a=b\r\nhello\r\n0\r\nT: v\r\n\r\n", KMESH_CHUNK_DONE, 25 },
	{ "data not all there", "5\r\nhel", KMESH_CHUNK_NEED_MORE, 6 },
	{ "one whole chunk, no end yet", "5\r\nhello\r\n", KMESH_CHUNK_NEED_MORE, 10 },
	{ "empty", "", KMESH_CHUNK_NEED_MORE, 0 },
	/* refusals */
	{ "CRLF without a size", "\r\n", KMESH_CHUNK_E_CRLF, 0 },
	{ "size not hex", "x\r\n", KMESH_CHUNK_E_SIZE, 0 },
	{ "negative size", "-1\r\n", KMESH_CHUNK_E_SIZE, 0 },
	{ "SP before the size", " 5\r\nhello\r\n", KMESH_CHUNK_E_SIZE, 0 },
	{ "sign", "+5\r\nhello\r\n", KMESH_CHUNK_E_SIZE, 0 },
	{ "0x prefix", "0x5\r\nhello\r\n", KMESH_CHUNK_E_SIZE, 1 },
	{ "SP after the size", "5 \r\nhello\r\n", KMESH_CHUNK_E_CRLF, 2 },
	{ "bare LF after the size", "5\nhello\r\n", KMESH_CHUNK_E_CRLF, 1 },
	{ "bare CR after the size", "5\rhello\r\n", KMESH_CHUNK_E_CRLF, 2 },
	{ "bare LF after the data", "5\r\nhello\n0\r\n\r\n", KMESH_CHUNK_E_CRLF, 8 },
	{ "data longer than its size", "5\r\nhelloX\r\n", KMESH_CHUNK_E_CRLF, 8 },
	{ "control byte in an extension", "5;a\x01\r\nhello\r\n", KMESH_CHUNK_E_EXT, 3 },
	{ "16 hex digits", "1000000000000000\r\n", KMESH_CHUNK_E_OVERFLOW, 15 },
	{ "16 hex digits, leading 1", "1234567890123456\r\n", KMESH_CHUNK_E_OVERFLOW, 15 },
	{ "trailer starting with SP", "0\r\n A: b\r\n\r\n", KMESH_CHUNK_E_TRAILER, 3 },
	{ "SP before a trailer's colon", "0\r\nA : b\r\n\r\n", KMESH_CHUNK_E_TRAILER, 4 },
	{ "SP in a trailer name", "0\r\nBad Trailer: x\r\n\r\n", KMESH_CHUNK_E_TRAILER, 6 },
	{ "bare LF after a trailer", "0\r\nA: b\n\r\n", KMESH_CHUNK_E_CRLF, 7 },
	{ "bare LF ends the trailers", "0\r\n\n", KMESH_CHUNK_E_CRLF, 3 },
	/* RFC 9112 7.1.1: token [ "=" ( token / quoted-string ) ] (llhttp takes these) */
	{ "extension without a name", "2;\r\nhi\r\n0\r\n\r\n", KMESH_CHUNK_E_EXT, 2 },
	{ "unbalanced quotes", "5;a=\"abc;b=\"def; ghi\r\nhello\r\n0\r\n\r\n", KMESH_CHUNK_E_EXT, 12 },
	{ "quote never closed", "5;a=\"b\r\nhello\r\n", KMESH_CHUNK_E_EXT, 6 },
	{ "'=' without a name", "5;=b\r\nhello\r\n", KMESH_CHUNK_E_EXT, 2 },
	{ "'=' without a value", "5;a=\r\nhello\r\n", KMESH_CHUNK_E_EXT, 4 },
	{ "two tokens in a value", "5;a=b c\r\nhello\r\n", KMESH_CHUNK_E_EXT, 6 },
	{ "two tokens in a name", "5;a b\r\nhello\r\n", KMESH_CHUNK_E_EXT, 4 },
	{ "SP before the CRLF after a value", "5;a=b \r\nhello\r\n", KMESH_CHUNK_E_EXT, 6 },
	{ "non-token name byte", "5;a/b\r\nhello\r\n", KMESH_CHUNK_E_EXT, 3 },
	{ "control byte in a quoted value", "5;a=\"\x01\"\r\nhello\r\n", KMESH_CHUNK_E_EXT, 5 },
	{ "bare LF in an extension", "5;a\nhello\r\n", KMESH_CHUNK_E_CRLF, 3 },
};

#endif /* KMESH_CHUNK_VECTORS_H */
