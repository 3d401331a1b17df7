// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HTTP/1.1 request-head parser.
 *
 * Besides memory safety (ASan, UBSan, exact-size buffers), every input
 * checks that:
 *  - the result is self-consistent: status in range, spans inside the
 *    buffer, NEED_MORE never consumed more than it was given;
 *  - a head delivered in two or three pieces (and byte by byte for short
 *    inputs) gives the identical result, byte for byte, as delivered
 *    whole, and a verdict on a prefix is already the final one;
 *  - an accepted head passes an independent re-check of the properties
 *    that matter against smuggling (CRLF only, no control bytes, at most
 *    one Host / Content-Length / Transfer-Encoding, never both framings,
 *    token names, trimmed values, header count);
 *  - a resume state scribbled over (as a BPF program could) never makes
 *    the parser read outside the buffer;
 *  - read as a response head, the same bytes give a sane result, the same
 *    whole or in two pieces.
 * Limits and split points derive from the input, so a crash reproduces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http1.h"

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(const uint8_t *d, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *d++) * 0x100000001b3ULL;
	return h;
}

static void pick_limits(struct kmesh_http1_limits *lim, uint64_t *rng,
			size_t size)
{
	memset(lim, 0, sizeof(*lim));
	switch (rng_next(rng) % 5) {
	case 0:			/* defaults */
		break;
	case 1:			/* limits that bite inside this input */
		lim->max_head_bytes = 1 + rng_next(rng) % (size + 16);
		lim->max_line_bytes = 1 + rng_next(rng) % (size + 16);
		lim->max_headers = 1 + rng_next(rng) % KMESH_HTTP_MAX_HEADERS;
		break;
	case 2:
		lim->opts = KMESH_HTTP1_OPT_LAX_TARGET;
		break;
	case 3:			/* path_normalization: escaped_slashes_literal */
		lim->opts = KMESH_HTTP1_OPT_PATH_ESCAPED_SLASHES;
		break;
	default:		/* largest, and clamped */
		lim->max_head_bytes = 0xffffffff;
		lim->max_line_bytes = 0xffffffff;
		lim->max_headers = 0xffffffff;
		break;
	}
}

/* One call with an exact-size copy: ASan flags any read past @n. */
static int parse_copy(struct kmesh_http_req *r, const uint8_t *d, size_t n,
		      const struct kmesh_http1_limits *lim)
{
	uint8_t *b = malloc(n ? n : 1);
	int rc;

	CHECK(b);
	memcpy(b, d, n);
	rc = kmesh_http1_parse(r, b, n, lim);
	free(b);
	return rc;
}

static void check_span(struct kmesh_http_span s, size_t end)
{
	CHECK((size_t)s.off + s.len <= end);
}

static bool is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_is(const uint8_t *d, struct kmesh_http_span s,
		    const char *lc)
{
	size_t i;

	if (s.len != strlen(lc))
		return false;
	for (i = 0; i < s.len; i++)
		if ((d[s.off + i] | (d[s.off + i] >= 'A' &&
				     d[s.off + i] <= 'Z' ? 0x20 : 0)) != lc[i])
			return false;
	return true;
}

/* Split on commas, trim SP/HTAB: only the last element is "chunked". */
static bool te_ok(const uint8_t *d, struct kmesh_http_span va)
{
	size_t i = va.off, end = va.off + va.len, s, e;
	int elems = 0;
	bool last = false;

	while (i <= end) {
		for (s = i; i < end && d[i] != ','; i++)
			;
		for (e = i; s < e && (d[s] == ' ' || d[s] == '\t'); s++)
			;
		while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t'))
			e--;
		if (last || e == s)
			return false;	/* chunked before the end, or empty */
		last = name_is(d, (struct kmesh_http_span){ s, e - s },
			       "chunked");
		elems++;
		i++;
	}
	return elems && last;
}

/* Independent re-check of an accepted head. */
static void oracle(const struct kmesh_http_req *r, const uint8_t *d)
{
	size_t n = r->head_len, i, crlf = 0, lead = 0;
	int host = 0, cl = 0, te = 0;
	uint64_t v = 0;

	CHECK(n >= 4 && !memcmp(d + n - 4, "\r\n\r\n", 4));
	for (i = 0; i < n; i++) {
		if (d[i] == '\r') {
			CHECK(i + 1 < n && d[i + 1] == '\n');
			crlf++;
		} else if (d[i] == '\n') {
			CHECK(i > 0 && d[i - 1] == '\r');
		} else {
			CHECK(d[i] == '\t' || (d[i] >= 0x20 && d[i] != 0x7f));
		}
	}
	while (lead * 2 + 1 < n && d[lead * 2] == '\r')
		lead++;
	/* request line, headers, empty line */
	CHECK(r->nr_headers == crlf - lead - 2);
	CHECK(r->version == KMESH_HTTP_V_10 || r->version == KMESH_HTTP_V_11);
	CHECK(r->method != KMESH_HTTP_M_NONE);
	CHECK(r->target_form != KMESH_HTTP_FORM_NONE);
	CHECK(r->method_tok.off == lead * 2);
	CHECK(d[r->method_tok.off + r->method_tok.len] == ' ');
	CHECK(d[r->target.off - 1] == ' ' &&
	      d[r->target.off + r->target.len] == ' ');

	for (i = 0; i < r->nr_headers; i++) {
		struct kmesh_http_span nm = r->hdrs[i].name;
		struct kmesh_http_span va = r->hdrs[i].value;
		size_t j;

		CHECK(nm.len > 0 && d[nm.off + nm.len] == ':');
		CHECK(d[nm.off - 1] == '\n');
		for (j = 0; j < nm.len; j++)
			CHECK(is_tchar(d[nm.off + j]));
		CHECK(va.off > nm.off + nm.len);
		if (va.len) {
			CHECK(d[va.off] != ' ' && d[va.off] != '\t');
			CHECK(d[va.off + va.len - 1] != ' ' &&
			      d[va.off + va.len - 1] != '\t');
		}
		if (name_is(d, nm, "host"))
			host++;
		if (name_is(d, nm, "transfer-encoding")) {
			te++;
			CHECK(te_ok(d, va));
		}
		if (name_is(d, nm, "content-length")) {
			cl++;
			CHECK(va.len > 0);
			for (j = 0, v = 0; j < va.len; j++) {
				CHECK(d[va.off + j] >= '0' &&
				      d[va.off + j] <= '9');
				v = v * 10 + (d[va.off + j] - '0');
			}
			CHECK(v == r->content_length);
		}
	}
	CHECK(host <= 1 && cl <= 1 && te <= 1 && !(cl && te));
	CHECK(!!(r->flags & KMESH_HTTP_F_HAS_HOST) == host);
	CHECK(!!(r->flags & KMESH_HTTP_F_HAS_CL) == cl);
	CHECK(!!(r->flags & KMESH_HTTP_F_CHUNKED) == te);
	CHECK(!te || r->version == KMESH_HTTP_V_11);
	CHECK(host || r->version == KMESH_HTTP_V_10);
	CHECK(cl || r->content_length == 0);
}

static void check_result(const struct kmesh_http_req *r, int rc,
			 const uint8_t *d, size_t n)
{
	size_t end = rc == KMESH_HTTP_OK ? r->head_len : n;
	unsigned int i;

	CHECK(rc >= 0 && rc < KMESH_HTTP_STATUS_MAX);
	CHECK(rc != KMESH_HTTP_E_INVAL);	/* only from misuse */
	CHECK(r->status == rc);
	CHECK(r->consumed <= n);
	CHECK(r->nr_headers <= KMESH_HTTP_MAX_HEADERS);
	if (rc == KMESH_HTTP_NEED_MORE)
		CHECK(r->consumed <= r->scan && r->scan <= n);
	else if (rc != KMESH_HTTP_OK)
		CHECK(r->err_off <= n);
	check_span(r->method_tok, end);
	check_span(r->target, end);
	check_span(r->path, end);
	check_span(r->query, end);
	check_span(r->host, end);
	for (i = 0; i < r->nr_headers; i++) {
		check_span(r->hdrs[i].name, end);
		check_span(r->hdrs[i].value, end);
	}
	if (rc == KMESH_HTTP_OK) {
		CHECK(r->consumed == r->head_len && r->head_len <= n);
		oracle(r, d);
	}
}

/* Deliver d[0..size) in pieces ending at @cuts, then whole. */
static void check_pieces(const uint8_t *d, size_t size, const size_t *cuts,
			 int ncuts, const struct kmesh_http1_limits *lim,
			 const struct kmesh_http_req *whole, int rc)
{
	struct kmesh_http_req part;
	int i, rc1 = KMESH_HTTP_NEED_MORE;

	kmesh_http1_init(&part);
	for (i = 0; i < ncuts && rc1 == KMESH_HTTP_NEED_MORE; i++) {
		rc1 = parse_copy(&part, d, cuts[i], lim);
		check_result(&part, rc1, d, cuts[i]);
		if (rc1 != KMESH_HTTP_NEED_MORE)
			/* a verdict on a prefix must already be the final one */
			CHECK(rc1 == rc && !memcmp(&part, whole, sizeof(part)));
	}
	rc1 = parse_copy(&part, d, size, lim);
	CHECK(rc1 == rc);
	CHECK(!memcmp(&part, whole, sizeof(part)));
}

/* Scribble over a half-done req as a BPF program might; must stay safe. */
static void check_corrupted(const uint8_t *d, size_t size, size_t cut,
			    const struct kmesh_http1_limits *lim, uint64_t *rng)
{
	struct kmesh_http_req r;
	uint8_t *p = (uint8_t *)&r;
	int i, rc;

	kmesh_http1_init(&r);
	parse_copy(&r, d, cut, lim);
	for (i = 0; i < 4; i++) {
		uint64_t x = rng_next(rng);

		/* mostly the fields the parser reads back */
		p[x % (x & 0x100 ? sizeof(r) : 56)] = x >> 16;
	}
	rc = parse_copy(&r, d, size, lim);
	CHECK(rc >= 0 && rc < KMESH_HTTP_STATUS_MAX);
}

/*
 * The same bytes as a response head (kmesh_http1_parse_response(), what
 * the eBPF fallback is checked against): a verdict in range, spans and
 * offsets inside the buffer, a status code of three digits, no field kept,
 * and a split into two pieces gives the result of the whole.
 */
static void check_response(const uint8_t *d, size_t size, size_t cut,
			   const struct kmesh_http1_limits *lim)
{
	struct kmesh_http_req whole, split;
	uint8_t *b = malloc(size ? size : 1);
	int rc;

	CHECK(b);
	memcpy(b, d, size);
	kmesh_http1_init(&whole);
	rc = kmesh_http1_parse_response(&whole, b, size, lim);
	CHECK(rc >= 0 && rc < KMESH_HTTP_STATUS_MAX);
	CHECK(!whole.nr_headers);
	if (rc == KMESH_HTTP_OK) {
		CHECK(whole.head_len <= size);
		CHECK(whole.port <= 999);	/* three digits */
		CHECK(!((whole.flags & KMESH_HTTP_F_HAS_CL) &&
			(whole.flags & KMESH_HTTP_F_CHUNKED)));
	} else if (rc != KMESH_HTTP_NEED_MORE) {
		CHECK(whole.err_off <= size);
	}
	kmesh_http1_init(&split);
	if (kmesh_http1_parse_response(&split, b, cut, lim) ==
	    KMESH_HTTP_NEED_MORE) {
		CHECK(kmesh_http1_parse_response(&split, b, size, lim) == rc);
		CHECK(!memcmp(&split, &whole, sizeof(split)));
	} else {
		CHECK(split.status == rc);
	}
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	struct kmesh_http1_limits lim;
	struct kmesh_http_req whole, again;
	uint64_t rng = fnv1a(d, size);
	size_t cuts[2], k;
	int rc;

	pick_limits(&lim, &rng, size);
	kmesh_http1_init(&whole);
	rc = parse_copy(&whole, d, size, &lim);
	check_result(&whole, rc, d, size);

	/* the same buffer again changes nothing */
	again = whole;
	CHECK(parse_copy(&again, d, size, &lim) == rc);
	CHECK(!memcmp(&again, &whole, sizeof(again)));

	cuts[0] = rng_next(&rng) % (size + 1);
	check_pieces(d, size, cuts, 1, &lim, &whole, rc);
	cuts[0] = rng_next(&rng) % (size + 1);
	cuts[1] = cuts[0] + rng_next(&rng) % (size - cuts[0] + 1);
	check_pieces(d, size, cuts, 2, &lim, &whole, rc);

	if (size <= 128) {
		kmesh_http1_init(&again);
		for (k = 0; k <= size; k++)
			if (parse_copy(&again, d, k, &lim) !=
			    KMESH_HTTP_NEED_MORE)
				break;
		CHECK(parse_copy(&again, d, size, &lim) == rc);
		CHECK(!memcmp(&again, &whole, sizeof(again)));
	}

	check_corrupted(d, size, rng_next(&rng) % (size + 1), &lim, &rng);
	check_response(d, size, rng_next(&rng) % (size + 1), &lim);
	return 0;
}
