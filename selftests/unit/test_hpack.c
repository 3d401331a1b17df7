// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the HPACK decoder (kmod/core/hpack.c): the examples of
 * RFC 7541 Appendix C as vectors (fields, table size after each block),
 * the Huffman strings of Appendix C, and malformed blocks refused with
 * their reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2_util.h"
#include "hpack.h"
#include "tap.h"

struct field {
	const char *name, *value;
};

#define MAX_GOT 16
struct got {
	int n;
	char name[MAX_GOT][128], value[MAX_GOT][128];
	__u32 flags[MAX_GOT];
};

static int collect(void *ctx, const struct kmesh_hpack_field *f)
{
	struct got *g = ctx;

	if (g->n >= MAX_GOT || f->name_len >= 128 || f->value_len >= 128)
		return KMESH_H2_E_INVAL;
	memcpy(g->name[g->n], f->name, f->name_len);
	g->name[g->n][f->name_len] = 0;
	memcpy(g->value[g->n], f->value, f->value_len);
	g->value[g->n][f->value_len] = 0;
	g->flags[g->n] = f->flags;
	g->n++;
	return 0;
}

static size_t dehex(const char *s, __u8 *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n++] = (__u8)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

struct dec {
	struct kmesh_hpack h;
	void *mem;
};

static void dec_init(struct dec *d, __u32 table_max, __u32 list_max)
{
	__u32 n = kmesh_hpack_mem_size(table_max, list_max);

	d->mem = malloc(n);
	if (kmesh_hpack_init(&d->h, d->mem, n, table_max, list_max))
		abort();
}

static int decode_hex(struct dec *d, const char *hex, struct got *g)
{
	__u8 blk[512];
	size_t n = dehex(hex, blk, sizeof(blk));

	memset(g, 0, sizeof(*g));
	return kmesh_hpack_decode(&d->h, blk, (__u32)n, collect, g);
}

static void expect_fields(const struct got *g, const struct field *want,
			  int nwant)
{
	int i;

	EXPECT_EQ(g->n, nwant);
	for (i = 0; i < nwant && i < g->n; i++) {
		EXPECT_STR_EQ(g->name[i], want[i].name);
		EXPECT_STR_EQ(g->value[i], want[i].value);
	}
}

struct step {
	const char *hex;
	struct field fields[6];
	int nfields;
	__u32 size;	/* table size after it */
	__u32 count;	/* entries after it */
};

static void run_series(const char *name, __u32 table, const struct step *s,
		       int nsteps)
{
	struct dec d;
	struct got g;
	int i;

	tap_begin("hpack: RFC 7541 %s", name);
	dec_init(&d, table, 16384);
	for (i = 0; i < nsteps; i++) {
		EXPECT_EQ(decode_hex(&d, s[i].hex, &g), 0);
		expect_fields(&g, s[i].fields, s[i].nfields);
		EXPECT_EQ(d.h.size, s[i].size);
		EXPECT_EQ(d.h.count, s[i].count);
	}
	free(d.mem);
	tap_end();
}

#define REQ1 { ":method", "GET" }, { ":scheme", "http" }, { ":path", "/" }, \
	     { ":authority", "www.example.com" }
#define REQ3 { ":method", "GET" }, { ":scheme", "https" }, \
	     { ":path", "/index.html" }, { ":authority", "www.example.com" }, \
	     { "custom-key", "custom-value" }
#define DATE1 "Mon, 21 Oct 2013 20:13:21 GMT"
#define DATE2 "Mon, 21 Oct 2013 20:13:22 GMT"
#define COOKIE "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"
#define RESP1(st) { ":status", st }, { "cache-control", "private" }, \
	     { "date", DATE1 }, { "location", "https://www.example.com" }
#define RESP3 { ":status", "200" }, { "cache-control", "private" }, \
	     { "date", DATE2 }, { "location", "https://www.example.com" }, \
	     { "content-encoding", "gzip" }, { "set-cookie", COOKIE }

static void test_c2(void)
{
	static const struct {
		const char *name, *hex;
		struct field f;
		__u32 flags, size;
	} v[] = {
		{ "C.2.1 literal with indexing",
		  "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
		  { "custom-key", "custom-header" }, KMESH_HPACK_F_ADDED, 55 },
		{ "C.2.2 literal without indexing",
		  "040c 2f73 616d 706c 652f 7061 7468",
		  { ":path", "/sample/path" }, 0, 0 },
		{ "C.2.3 literal never indexed",
		  "1008 7061 7373 776f 7264 0673 6563 7265 74",
		  { "password", "secret" }, KMESH_HPACK_F_NEVER_INDEXED, 0 },
		{ "C.2.4 indexed", "82", { ":method", "GET" },
		  KMESH_HPACK_F_INDEXED, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct dec d;
		struct got g;

		tap_begin("hpack: RFC 7541 %s", v[i].name);
		dec_init(&d, 4096, 16384);
		EXPECT_EQ(decode_hex(&d, v[i].hex, &g), 0);
		expect_fields(&g, &v[i].f, 1);
		EXPECT_EQ(g.flags[0], v[i].flags);
		EXPECT_EQ(d.h.size, v[i].size);
		free(d.mem);
		tap_end();
	}
}

static void test_series(void)
{
	static const struct step c3[] = {
		{ "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
		  { REQ1 }, 4, 57, 1 },
		{ "8286 84be 5808 6e6f 2d63 6163 6865",
		  { REQ1, { "cache-control", "no-cache" } }, 5, 110, 2 },
		{ "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
		  { REQ3 }, 5, 164, 3 },
	};
	static const struct step c4[] = {
		{ "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", { REQ1 }, 4, 57, 1 },
		{ "8286 84be 5886 a8eb 1064 9cbf",
		  { REQ1, { "cache-control", "no-cache" } }, 5, 110, 2 },
		{ "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
		  { REQ3 }, 5, 164, 3 },
	};
	static const struct step c5[] = {
		{ "4803 3330 3258 0770 7269 7661 7465 611d"
		  "4d6f 6e2c 2032 3120 4f63 7420 3230 3133"
		  "2032 303a 3133 3a32 3120 474d 546e 1768"
		  "7474 7073 3a2f 2f77 7777 2e65 7861 6d70"
		  "6c65 2e63 6f6d", { RESP1("302") }, 4, 222, 4 },
		{ "4803 3330 37c1 c0bf", { RESP1("307") }, 4, 222, 4 },
		{ "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420"
		  "3230 3133 2032 303a 3133 3a32 3220 474d"
		  "54c0 5a04 677a 6970 7738 666f 6f3d 4153"
		  "444a 4b48 514b 425a 584f 5157 454f 5049"
		  "5541 5851 5745 4f49 553b 206d 6178 2d61"
		  "6765 3d33 3630 303b 2076 6572 7369 6f6e"
		  "3d31", { RESP3 }, 6, 215, 3 },
	};
	static const struct step c6[] = {
		{ "4882 6402 5885 aec3 771a 4b61 96d0 7abe"
		  "9410 54d4 44a8 2005 9504 0b81 66e0 82a6"
		  "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8"
		  "e9ae 82ae 43d3", { RESP1("302") }, 4, 222, 4 },
		{ "4883 640e ffc1 c0bf", { RESP1("307") }, 4, 222, 4 },
		{ "88c1 6196 d07a be94 1054 d444 a820 0595"
		  "040b 8166 e084 a62d 1bff c05a 839b d9ab"
		  "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b"
		  "3960 d5af 2708 7f36 72c1 ab27 0fb5 291f"
		  "9587 3160 65c0 03ed 4ee5 b106 3d50 07",
		  { RESP3 }, 6, 215, 3 },
	};

	run_series("C.3 requests without Huffman", 4096, c3, 3);
	run_series("C.4 requests with Huffman", 4096, c4, 3);
	run_series("C.5 responses without Huffman, 256-byte table", 256, c5, 3);
	run_series("C.6 responses with Huffman, 256-byte table", 256, c6, 3);
}

static void test_huffman_strings(void)
{
	static const struct {
		const char *hex, *want;
	} v[] = {
		{ "f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com" },
		{ "a8eb 1064 9cbf", "no-cache" },
		{ "25a8 49e9 5ba9 7d7f", "custom-key" },
		{ "25a8 49e9 5bb8 e8b4 bf", "custom-value" },
		{ "6402", "302" },
		{ "aec3 771a 4b", "private" },
		{ "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", DATE1 },
		{ "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com" },
		{ "9bd9 ab", "gzip" },
		{ "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1"
		  "ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07", COOKIE },
	};
	__u8 in[128], out[128];
	__u32 n;
	size_t i, len;

	tap_begin("hpack: Huffman strings of RFC 7541 Appendix C");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		len = dehex(v[i].hex, in, sizeof(in));
		n = 0;
		EXPECT_EQ(kmesh_hpack_huffman_decode(in, (__u32)len, out,
						     sizeof(out), &n), 0);
		EXPECT_EQ(n, strlen(v[i].want));
		EXPECT(n == strlen(v[i].want) && !memcmp(out, v[i].want, n));
		/* one byte short of room: refused, never overrun */
		EXPECT_EQ(kmesh_hpack_huffman_decode(in, (__u32)len, out,
						     (__u32)strlen(v[i].want) - 1, &n),
			  KMESH_H2_E_HEADER_LIST_SIZE);
	}
	tap_end();
}

static void test_malformed(void)
{
	static const struct {
		const char *name, *hex;
		int want;
	} v[] = {
		{ "indexed: integer truncated", "ff", KMESH_H2_E_HPACK_TRUNCATED },
		{ "literal: name index truncated", "7f80", KMESH_H2_E_HPACK_TRUNCATED },
		{ "literal: value missing", "41", KMESH_H2_E_HPACK_TRUNCATED },
		{ "integer over 2^31 - 1", "ffffffffff0f", KMESH_H2_E_HPACK_INT },
		{ "integer of 6 continuation bytes", "ff8080808080 01", KMESH_H2_E_HPACK_INT },
		{ "index 0", "80", KMESH_H2_E_HPACK_INDEX },
		{ "index 62 with an empty table", "be", KMESH_H2_E_HPACK_INDEX },
		{ "literal name index 70 out of range", "7f07 0161", KMESH_H2_E_HPACK_INDEX },
		{ "literal with a new name, raw strings", "0003 6162 6301 61", 0 },
		{ "name string longer than the block", "000a 6162", KMESH_H2_E_HPACK_STRING_LEN },
		{ "value string longer than the block", "0001 6105 6162", KMESH_H2_E_HPACK_STRING_LEN },
		/* 'a' is 00011: 0x18 pads with 000 */
		{ "Huffman padding not ones", "0081 1800", KMESH_H2_E_HPACK_HUFFMAN },
		/* "no-cache" then a whole byte of ones: 8 bits of padding */
		{ "Huffman padding over 7 bits", "0087 a8eb 1064 9cbf ff 00",
		  KMESH_H2_E_HPACK_HUFFMAN },
		{ "Huffman EOS", "0084 ffff ffff 00", KMESH_H2_E_HPACK_HUFFMAN_EOS },
		{ "size update over the limit", "3fe2 1f", KMESH_H2_E_HPACK_TABLE_SIZE },
		{ "size update after a field", "8220", KMESH_H2_E_HPACK_UPDATE_POS },
		{ "size updates at the start", "203f e11f 82", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct dec d;
		struct got g;

		tap_begin("hpack: %s -> %s", v[i].name,
			  kmesh_h2_strreason(v[i].want));
		dec_init(&d, 4096, 16384);
		EXPECT_EQ(decode_hex(&d, v[i].hex, &g), v[i].want);
		free(d.mem);
		tap_end();
	}
}

static void test_limits(void)
{
	__u8 blk[512];
	struct dec d;
	struct got g;
	size_t n;

	tap_begin("hpack: header list limit counts name + value + 32 per field");
	dec_init(&d, 4096, 64);
	/* 10 + 22 + 32 = 64 fits exactly */
	n = 0;
	blk[n++] = 0x00;
	n += h2_int(blk + n, 0, 7, 10);
	memcpy(blk + n, "abcdefghij", 10), n += 10;
	n += h2_int(blk + n, 0, 7, 22);
	memset(blk + n, 'v', 22), n += 22;
	memset(&g, 0, sizeof(g));
	EXPECT_EQ(kmesh_hpack_decode(&d.h, blk, (__u32)n, collect, &g), 0);
	/* one more byte of value does not */
	blk[12] = 23;
	memmove(blk + 13 + 1, blk + 13, 22);
	EXPECT_EQ(kmesh_hpack_decode(&d.h, blk, (__u32)n + 1, collect, &g),
		  KMESH_H2_E_HEADER_LIST_SIZE);
	/* two fields of 32 + 2 bytes: the second crosses 64 */
	EXPECT_EQ(decode_hex(&d, "0001 6101 62 0001 6101 62", &g),
		  KMESH_H2_E_HEADER_LIST_SIZE);
	free(d.mem);
	tap_end();

	tap_begin("hpack: a lowered limit requires a size update first (RFC 7541 4.2)");
	dec_init(&d, 4096, 16384);
	EXPECT_EQ(decode_hex(&d, "4001 6101 62", &g), 0);
	EXPECT_EQ(d.h.count, 1);
	EXPECT_EQ(kmesh_hpack_set_limit(&d.h, 0), 0);
	EXPECT_EQ(decode_hex(&d, "82", &g), KMESH_H2_E_HPACK_UPDATE_MISSING);
	EXPECT_EQ(decode_hex(&d, "21 82", &g), KMESH_H2_E_HPACK_TABLE_SIZE);
	EXPECT_EQ(decode_hex(&d, "20 82", &g), 0);
	EXPECT_EQ(d.h.count, 0);
	EXPECT_EQ(kmesh_hpack_set_limit(&d.h, 4097), KMESH_H2_E_INVAL);
	free(d.mem);
	tap_end();

	tap_begin("hpack: an entry larger than the table empties it, is not added");
	dec_init(&d, 64, 16384);
	EXPECT_EQ(decode_hex(&d, "4001 6101 62", &g), 0);	/* a: b, 34 */
	EXPECT_EQ(d.h.size, 34);
	/* 16 + 17 + 32 = 65 > 64 */
	EXPECT_EQ(decode_hex(&d, "4010 6161 6161 6161 6161 6161 6161 6161 6161"
			     "11 6262 6262 6262 6262 6262 6262 6262 6262 62", &g), 0);
	EXPECT_EQ(d.h.size, 0);
	EXPECT_EQ(d.h.count, 0);
	EXPECT_EQ(decode_hex(&d, "be", &g), KMESH_H2_E_HPACK_INDEX);
	free(d.mem);
	tap_end();

	tap_begin("hpack: a name taken from the entry its own insertion evicts");
	dec_init(&d, 64, 16384);
	/* n1: v1 (36), then 7e = index 62 (n1) with value "v2": evicts n1 */
	EXPECT_EQ(decode_hex(&d, "4002 6e31 0276 31", &g), 0);
	EXPECT_EQ(decode_hex(&d, "7e02 7632", &g), 0);
	EXPECT_STR_EQ(g.name[0], "n1");
	EXPECT_STR_EQ(g.value[0], "v2");
	EXPECT_EQ(d.h.count, 1);
	EXPECT_EQ(decode_hex(&d, "be", &g), 0);
	EXPECT_STR_EQ(g.name[0], "n1");
	EXPECT_STR_EQ(g.value[0], "v2");
	free(d.mem);
	tap_end();

	tap_begin("hpack: many insertions wrap the entry text and ring intact");
	dec_init(&d, 256, 16384);
	for (n = 0; n < 1000; n++) {
		char hex[64], name[8], val[16];

		snprintf(name, sizeof(name), "n%03zu", n);
		snprintf(val, sizeof(val), "value-%05zu", n * 7);
		snprintf(hex, sizeof(hex), "4004 %02x%02x%02x%02x 0b",
			 name[0], name[1], name[2], name[3]);
		{
			__u8 b[64];
			size_t k = dehex(hex, b, sizeof(b));

			memcpy(b + k, val, 11);
			memset(&g, 0, sizeof(g));
			if (kmesh_hpack_decode(&d.h, b, (__u32)k + 11, collect, &g))
				break;
		}
		/* the newest entry is index 62, the one before 63 */
		memset(&g, 0, sizeof(g));
		if (decode_hex(&d, n ? "be bf" : "be", &g) || strcmp(g.name[0], name) ||
		    strcmp(g.value[0], val))
			break;
	}
	EXPECT_EQ(n, 1000);
	EXPECT(d.h.size <= 256);
	free(d.mem);
	tap_end();

	tap_begin("hpack: init refuses memory too small or misaligned");
	{
		struct kmesh_hpack h;
		__u32 need = kmesh_hpack_mem_size(4096, 16384);
		char *m = malloc(need + 4);

		EXPECT_EQ(kmesh_hpack_init(&h, m, need - 1, 4096, 16384), KMESH_H2_E_INVAL);
		EXPECT_EQ(kmesh_hpack_init(&h, m + 1, need, 4096, 16384), KMESH_H2_E_INVAL);
		EXPECT_EQ(kmesh_hpack_init(&h, m, need, 4096, 16384), 0);
		EXPECT_EQ(kmesh_hpack_mem_size(KMESH_HPACK_MAX_TABLE + 1, 16), 0);
		free(m);
	}
	tap_end();
}

int main(void)
{
	tap_header();
	test_c2();
	test_series();
	test_huffman_strings();
	test_malformed();
	test_limits();
	return tap_finish();
}
