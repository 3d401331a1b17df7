/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nghttp2's HPACK inflater over one whole header block: the reference the
 * HPACK decoder is compared with in the unit tests and the fuzzer.
 */
#ifndef KMESH_NGHTTP2_BLOCK_H
#define KMESH_NGHTTP2_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <nghttp2/nghttp2.h>

/* Called for field number i of the block; nonzero refuses the block. */
typedef int (*nghttp2_block_field_fn)(void *arg, int i, const nghttp2_nv *nv);

/*
 * Inflate block b[0..n) as the end of a header block; each field goes to
 * field(). Returns the number of fields, or -1 when nghttp2 refuses the
 * block or field() does.
 */
static inline int nghttp2_block_inflate(nghttp2_hd_inflater *inf,
					const uint8_t *b, size_t n,
					nghttp2_block_field_fn field, void *arg)
{
	int got = 0, fl;

	for (;;) {
		nghttp2_nv nv;
		ssize_t r = nghttp2_hd_inflate_hd2(inf, &nv, &fl, b, n, 1);

		if (r < 0)
			return -1;
		b += r;
		n -= (size_t)r;
		if (fl & NGHTTP2_HD_INFLATE_EMIT) {
			if (field(arg, got, &nv))
				return -1;
			got++;
		}
		if (fl & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(inf);
			break;
		}
		if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && !n)
			break;
	}
	return got;
}

#endif /* KMESH_NGHTTP2_BLOCK_H */
