// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HPACK decoder (kmod/core/hpack.c).
 *
 * The input is a sequence of header blocks for one decoder: its first
 * byte picks the table and list bounds, then each block is a length
 * byte and that many bytes (a length byte of 0xff also lowers or raises
 * the encoder's limit, as a SETTINGS_HEADER_TABLE_SIZE would). Besides
 * memory safety (ASan, UBSan, exact-size copies of each block), every
 * input checks that:
 *  - the table stays within its bounds: size <= the current maximum <=
 *    the limit <= table_max, 32 bytes or more per entry, entry text
 *    inside the text buffer;
 *  - every field handed out fits the header list limit, and the list of
 *    a block does too;
 *  - a block that decodes, re-encoded as plain literals (no table), is
 *    decoded by a fresh decoder to the same fields: what the decoder
 *    reports is exactly what the block held;
 *  - a failed block reports a reason of the HPACK set (or the list
 *    limit) with an offset inside the block;
 *  - Debian's libnghttp2 inflater, fed the same blocks and limit changes,
 *    agrees: as long as both decoders accept the sequence, each block
 *    yields the same fields and leaves the same table size and entry
 *    count. (Where one refuses and the other does not, the comparison
 *    stops: their limits differ on purpose, e.g. nghttp2 takes longer
 *    integers and wants a size update after a limit set at start.)
 */
#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "../lib/nghttp2_block.h"
#include "hpack.h"

#define MAX_FIELDS	512

struct fields {
	int n;
	__u32 list, list_max;
	uint8_t *buf;		/* re-encoded block */
	size_t len, cap;
	struct { size_t name, nlen, value, vlen; } f[MAX_FIELDS];
};

static size_t put_int(uint8_t *b, uint8_t prefix, uint32_t v)
{
	uint32_t max = (1U << prefix) - 1;
	size_t n = 0;

	if (v < max) {
		b[n++] = (uint8_t)v;
		return n;
	}
	b[n++] = (uint8_t)max;
	v -= max;
	while (v >= 128) {
		b[n++] = (uint8_t)(v % 128 + 128);
		v /= 128;
	}
	b[n++] = (uint8_t)v;
	return n;
}

/* A raw string literal; returns where its bytes start. */
static size_t put_str(struct fields *fs, const __u8 *s, __u32 len)
{
	size_t at;

	fs->len += put_int(fs->buf + fs->len, 7, len);
	at = fs->len;
	memcpy(fs->buf + fs->len, s, len);
	fs->len += len;
	return at;
}

static int on_field(void *ctx, const struct kmesh_hpack_field *f)
{
	struct fields *fs = ctx;
	size_t need = 1 + 2 * 6 + f->name_len + f->value_len;

	fs->list += f->name_len + f->value_len + KMESH_HPACK_ENTRY_OVERHEAD;
	CHECK(fs->list <= fs->list_max);
	if (fs->n >= MAX_FIELDS)
		return 0;
	if (fs->len + need > fs->cap) {
		fs->cap = (fs->len + need) * 2;
		fs->buf = realloc(fs->buf, fs->cap);
		CHECK(fs->buf);
	}
	fs->buf[fs->len++] = 0;		/* literal without indexing, new name */
	fs->f[fs->n].nlen = f->name_len;
	fs->f[fs->n].name = put_str(fs, f->name, f->name_len);
	fs->f[fs->n].vlen = f->value_len;
	fs->f[fs->n].value = put_str(fs, f->value, f->value_len);
	fs->n++;
	return 0;
}

static void check_table(const struct kmesh_hpack *h)
{
	__u32 i;

	CHECK(h->size <= h->max_size || h->update_due);
	CHECK(h->max_size <= h->table_max && h->limit <= h->table_max);
	CHECK(h->count * KMESH_HPACK_ENTRY_OVERHEAD <= h->size);
	CHECK(h->count < h->ring_cap);
	CHECK(h->start <= h->end && h->end <= h->text_cap);
	for (i = 1; i <= h->count; i++) {
		const struct kmesh_hpack_entry *e =
			&h->ring[(h->head + h->ring_cap - i) % h->ring_cap];

		CHECK(e->off >= h->start &&
		      e->off + e->name_len + e->value_len <= h->end);
	}
}

/* nghttp2's fields checked against ours, in order. */
struct theirs_cmp {
	const struct fields *ours;
	int compare;
};

static int theirs_field(void *arg, int i, const nghttp2_nv *nv)
{
	const struct theirs_cmp *c = arg;
	const struct fields *ours = c->ours;

	if (c->compare && i < ours->n && i < MAX_FIELDS) {
		CHECK(nv->namelen == ours->f[i].nlen &&
		      !memcmp(nv->name, ours->buf + ours->f[i].name, nv->namelen));
		CHECK(nv->valuelen == ours->f[i].vlen &&
		      !memcmp(nv->value, ours->buf + ours->f[i].value, nv->valuelen));
	}
	return 0;
}

/* nghttp2's inflater on the same block; 0 if it accepts, with its fields
 * checked against ours. */
static int theirs(nghttp2_hd_inflater *inf, const uint8_t *b, size_t n,
		  const struct fields *ours, int compare)
{
	struct theirs_cmp c = { ours, compare };
	int got = nghttp2_block_inflate(inf, b, n, theirs_field, &c);

	if (got < 0)
		return -1;
	if (compare)
		CHECK(got == ours->n);
	return 0;
}

struct fcheck {
	const struct fields *want;
	const uint8_t *buf;
	int n;
};

static int recheck(void *ctx, const struct kmesh_hpack_field *f)
{
	struct fcheck *c = ctx;
	const struct fields *w = c->want;

	if (c->n >= w->n)
		return 0;
	CHECK(f->name_len == w->f[c->n].nlen &&
	      !memcmp(f->name, c->buf + w->f[c->n].name, f->name_len));
	CHECK(f->value_len == w->f[c->n].vlen &&
	      !memcmp(f->value, c->buf + w->f[c->n].value, f->value_len));
	c->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const __u32 tables[] = { 0, 64, 256, 4096, 65536 };
	static const __u32 lists[] = { 64, 512, 16384 };
	struct kmesh_hpack h, h2;
	nghttp2_hd_inflater *inf = NULL;
	int agree;
	__u32 table_max, list_max, mem_len;
	void *mem, *mem2;
	size_t off = 1;

	if (!size)
		return 0;
	table_max = tables[data[0] % 5];
	list_max = lists[(data[0] / 5) % 3];
	mem_len = kmesh_hpack_mem_size(table_max, list_max);
	mem = malloc(mem_len);
	mem2 = malloc(mem_len);
	CHECK(mem && mem2);
	CHECK(!kmesh_hpack_init(&h, mem, mem_len, table_max, list_max));
	/* nghttp2 starts at 4096 like us only when the bound allows it */
	agree = table_max >= KMESH_HPACK_DEFAULT_TABLE &&
		!nghttp2_hd_inflate_new(&inf);
	while (off < size) {
		struct fields fs = { .list_max = list_max };
		size_t len = data[off++];
		uint8_t *blk;
		int rc;

		if (len == 0xff && off < size) {
			__u32 limit = (__u32)data[off++] * 257 % (table_max + 1);

			CHECK(!kmesh_hpack_set_limit(&h, limit));
			if (agree && nghttp2_hd_inflate_change_table_size(inf, limit))
				agree = 0;
			continue;
		}
		if (len > size - off)
			len = size - off;
		blk = malloc(len ? len : 1);
		CHECK(blk);
		memcpy(blk, data + off, len);
		off += len;
		rc = kmesh_hpack_decode(&h, blk, (__u32)len, on_field, &fs);
		check_table(&h);
		if (agree) {
			/* compare fields only when we kept them all */
			int cmp = !rc && fs.n < MAX_FIELDS && fs.list <= list_max;

			if (theirs(inf, blk, len, &fs, cmp) || rc) {
				agree = 0;
			} else {
				CHECK(h.size == nghttp2_hd_inflate_get_dynamic_table_size(inf));
				CHECK(h.count + KMESH_HPACK_STATIC_ENTRIES ==
				      nghttp2_hd_inflate_get_num_table_entries(inf));
			}
		}
		if (rc) {
			CHECK((rc >= KMESH_H2_E_HPACK_TRUNCATED &&
			       rc <= KMESH_H2_E_HEADER_LIST_SIZE));
			CHECK(h.err_off < len);
			free(blk);
			free(fs.buf);
			break;
		}
		if (fs.n <= MAX_FIELDS && fs.len) {
			struct fcheck c = { &fs, fs.buf, 0 };

			CHECK(!kmesh_hpack_init(&h2, mem2, mem_len, table_max, list_max));
			CHECK(!kmesh_hpack_decode(&h2, fs.buf, (__u32)fs.len, recheck, &c));
			CHECK(c.n == fs.n);
			CHECK(h2.count == 0);
		}
		free(blk);
		free(fs.buf);
	}
	if (inf)
		nghttp2_hd_inflate_del(inf);
	free(mem);
	free(mem2);
	return 0;
}
