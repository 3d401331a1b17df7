// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the chunked-body scanner (kmod/core/chunk.c): where a
 * body ends, what it refuses, and that feeding it in any pieces gives the
 * result of feeding it whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "chunk_vectors.h"
#include "tap.h"

static int scan_whole(const char *b, size_t n, __u32 *consumed)
{
	struct kmesh_chunk_state st;
	int rc;

	kmesh_chunk_init(&st);
	rc = kmesh_chunk_scan(&st, (const __u8 *)b, (__u32)n);
	*consumed = st.consumed;
	return rc;
}

/* Fed in pieces of 1..@maxp bytes; total consumed up to the result. */
static int scan_split(const char *b, size_t n, unsigned int seed, size_t maxp,
		      __u32 *consumed)
{
	struct kmesh_chunk_state st;
	size_t off = 0, piece;
	int rc = KMESH_CHUNK_NEED_MORE;

	kmesh_chunk_init(&st);
	*consumed = 0;
	while (off < n) {
		seed = seed * 1103515245 + 12345;
		piece = 1 + (seed >> 16) % maxp;
		if (piece > n - off)
			piece = n - off;
		rc = kmesh_chunk_scan(&st, (const __u8 *)b + off, (__u32)piece);
		*consumed += st.consumed;
		if (rc != KMESH_CHUNK_NEED_MORE)
			return rc;
		off += piece;
	}
	return rc;
}

static void test_vectors(void)
{
	__u32 c1, c2;
	size_t i;
	int rc;

	tap_begin("chunk: known bodies end where RFC 9112 says, refusals are named");
	for (i = 0; i < sizeof(chunk_vectors) / sizeof(chunk_vectors[0]); i++) {
		size_t n = strlen(chunk_vectors[i].body);

		rc = scan_whole(chunk_vectors[i].body, n, &c1);
		if (!EXPECT_EQ(rc, chunk_vectors[i].status) ||
		    !EXPECT_EQ(c1, chunk_vectors[i].consumed))
			tap_diag("vector %zu: %s", i, kmesh_chunk_strstatus(rc));
		rc = scan_split(chunk_vectors[i].body, n, (unsigned int)i, 1, &c2);
		if (!EXPECT_EQ(rc, chunk_vectors[i].status))
			tap_diag("vector %zu byte by byte", i);
		if (rc == KMESH_CHUNK_DONE || rc == KMESH_CHUNK_NEED_MORE)
			EXPECT_EQ(c2, chunk_vectors[i].consumed);
	}
	tap_end();
}

static void test_final(void)
{
	struct kmesh_chunk_state st;

	tap_begin("chunk: DONE and errors are final; a fresh state is all zero");
	memset(&st, 0, sizeof(st));
	EXPECT_EQ(kmesh_chunk_scan(&st, (const __u8 *)"0\r\n\r\n", 5), KMESH_CHUNK_DONE);
	EXPECT_EQ(kmesh_chunk_scan(&st, (const __u8 *)"5\r\n", 3), KMESH_CHUNK_DONE);
	EXPECT_EQ(st.consumed, 0);
	kmesh_chunk_init(&st);
	EXPECT_EQ(kmesh_chunk_scan(&st, (const __u8 *)"z", 1), KMESH_CHUNK_E_SIZE);
	EXPECT_EQ(kmesh_chunk_scan(&st, (const __u8 *)"0\r\n\r\n", 5), KMESH_CHUNK_E_SIZE);
	EXPECT_EQ(kmesh_chunk_scan(NULL, (const __u8 *)"0", 1), KMESH_CHUNK_E_INVAL);
	kmesh_chunk_init(&st);
	st.state = 200;		/* corrupted by whoever holds it */
	EXPECT_EQ(kmesh_chunk_scan(&st, (const __u8 *)"0", 1), KMESH_CHUNK_E_INVAL);
	tap_end();
}

/* A valid body of random chunks, extensions and trailers; its length. */
static size_t gen_body(char *b, size_t cap, unsigned int *seed)
{
	size_t n = 0, k, sz;
	int chunks, t;

	*seed = *seed * 1103515245 + 12345;
	chunks = (int)((*seed >> 16) % 6);
	while (chunks--) {
		*seed = *seed * 1103515245 + 12345;
		sz = 1 + (*seed >> 16) % 200;
		n += (size_t)snprintf(b + n, cap - n, "%zx%s\r\n", sz,
				      (*seed & 1) ? ";e=1" : "");
		for (k = 0; k < sz; k++)
			b[n++] = (char)('a' + k % 26);
		b[n++] = '\r';
		b[n++] = '\n';
	}
	n += (size_t)snprintf(b + n, cap - n, "0\r\n");
	for (t = (int)(*seed >> 28) % 3; t > 0; t--)
		n += (size_t)snprintf(b + n, cap - n, "X-T%d: v\r\n", t);
	n += (size_t)snprintf(b + n, cap - n, "\r\n");
	return n;
}

static void test_random(void)
{
	static char b[8192];
	unsigned int seed = 7, done = 0, i, mism = 0;
	__u32 c1, c2;
	size_t n, pos;
	int r1, r2;

	tap_begin("chunk: 3000 generated bodies end exactly; mutations give the same result split or whole");
	for (i = 0; i < 3000; i++) {
		n = gen_body(b, sizeof(b) - 64, &seed);
		memcpy(b + n, "NEXT", 4);
		r1 = scan_whole(b, n + 4, &c1);
		if (r1 == KMESH_CHUNK_DONE && c1 == n)
			done++;
		if (i % 2) {
			/* mutate one byte: whatever the verdict, it must not
			 * depend on how the bytes were delivered */
			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % n;
			b[pos] = "\r\n;: 0fz\t"[(seed >> 20) % 9];
			r1 = scan_whole(b, n + 4, &c1);
		}
		r2 = scan_split(b, n + 4, i, 17, &c2);
		if (r1 != r2 || (r1 == KMESH_CHUNK_DONE && c1 != c2)) {
			if (mism++ < 3)
				tap_diag("body %u: whole %d/%u split %d/%u", i, r1, c1,
					 r2, c2);
		}
	}
	EXPECT_EQ(done, 3000);
	EXPECT_EQ(mism, 0);
	tap_end();
}

int main(void)
{
	tap_header();
	test_vectors();
	test_final();
	test_random();
	return tap_finish();
}
