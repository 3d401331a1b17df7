// SPDX-License-Identifier: GPL-2.0-only
/*
 * HPACK decoder (RFC 7541); the contract is in hpack.h.
 */
#include "hpack.h"

/* ---- static table (RFC 7541 Appendix A) ---- */

struct kmesh_hpack_static {
	const char *name;
	const char *value;
	__u8 name_len;
	__u8 value_len;
};

#define S_(n, v)	{ n, v, sizeof(n) - 1, sizeof(v) - 1 }
static const struct kmesh_hpack_static hpack_static[KMESH_HPACK_STATIC_ENTRIES] = {
	S_(":authority", ""), S_(":method", "GET"), S_(":method", "POST"),
	S_(":path", "/"), S_(":path", "/index.html"), S_(":scheme", "http"),
	S_(":scheme", "https"), S_(":status", "200"), S_(":status", "204"),
	S_(":status", "206"), S_(":status", "304"), S_(":status", "400"),
	S_(":status", "404"), S_(":status", "500"), S_("accept-charset", ""),
	S_("accept-encoding", "gzip, deflate"), S_("accept-language", ""),
	S_("accept-ranges", ""), S_("accept", ""),
	S_("access-control-allow-origin", ""), S_("age", ""), S_("allow", ""),
	S_("authorization", ""), S_("cache-control", ""),
	S_("content-disposition", ""), S_("content-encoding", ""),
	S_("content-language", ""), S_("content-length", ""),
	S_("content-location", ""), S_("content-range", ""),
	S_("content-type", ""), S_("cookie", ""), S_("date", ""), S_("etag", ""),
	S_("expect", ""), S_("expires", ""), S_("from", ""), S_("host", ""),
	S_("if-match", ""), S_("if-modified-since", ""), S_("if-none-match", ""),
	S_("if-range", ""), S_("if-unmodified-since", ""),
	S_("last-modified", ""), S_("link", ""), S_("location", ""),
	S_("max-forwards", ""), S_("proxy-authenticate", ""),
	S_("proxy-authorization", ""), S_("range", ""), S_("referer", ""),
	S_("refresh", ""), S_("retry-after", ""), S_("server", ""),
	S_("set-cookie", ""), S_("strict-transport-security", ""),
	S_("transfer-encoding", ""), S_("user-agent", ""), S_("vary", ""),
	S_("via", ""), S_("www-authenticate", ""),
};
#undef S_

/* ---- Huffman code (RFC 7541 Appendix B) ---- */

/*
 * The code of Appendix B is canonical: codes of one length are
 * consecutive and ascend with the symbol, and each length's first code
 * follows the previous length's last. So the table is fully given by
 * how many codes each length has and the symbols in code order, which is
 * what is written here. Appendix C's strings (test_hpack.c) and nghttp2's
 * encoder over all 256 byte values (test_h2_nghttp2.c) check it.
 */
#define HUFF_MIN_BITS	5
#define HUFF_MAX_BITS	30
#define HUFF_EOS	256

static const __u8 huff_count[HUFF_MAX_BITS + 1] = {
	0, 0, 0, 0, 0, 10, 26, 32, 6, 0, 5, 3, 2, 6, 2, 3, 0, 0, 0, 3, 8, 13,
	26, 29, 12, 4, 15, 19, 29, 0, 4,
};

static const __u16 huff_sym[257] = {
	48, 49, 50, 97, 99, 101, 105, 111, 115, 116, 32, 37, 45, 46, 47, 51, 52, 53,
	54, 55, 56, 57, 61, 65, 95, 98, 100, 102, 103, 104, 108, 109, 110, 112, 114,
	117, 58, 66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82,
	83, 84, 85, 86, 87, 89, 106, 107, 113, 118, 119, 120, 121, 122, 38, 42, 44,
	59, 88, 90, 33, 34, 40, 41, 63, 39, 43, 124, 35, 62, 0, 36, 64, 91, 93, 126,
	94, 125, 60, 96, 123, 92, 195, 208, 128, 130, 131, 162, 184, 194, 224, 226,
	153, 161, 167, 172, 176, 177, 179, 209, 216, 217, 227, 229, 230, 129, 132,
	133, 134, 136, 146, 154, 156, 160, 163, 164, 169, 170, 173, 178, 181, 185,
	186, 187, 189, 190, 196, 198, 228, 232, 233, 1, 135, 137, 138, 139, 140,
	141, 143, 147, 149, 150, 151, 152, 155, 157, 158, 165, 166, 168, 174, 175,
	180, 182, 183, 188, 191, 197, 231, 239, 9, 142, 144, 145, 148, 159, 171,
	206, 215, 225, 236, 237, 199, 207, 234, 235, 192, 193, 200, 201, 202, 205,
	210, 213, 218, 219, 238, 240, 242, 243, 255, 203, 204, 211, 212, 214, 221,
	222, 223, 241, 244, 245, 246, 247, 248, 250, 251, 252, 253, 254, 2, 3, 4, 5,
	6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29,
	30, 31, 127, 220, 249, 10, 13, 22, 256,
};

/*
 * Canonical walk over a 64-bit window: the next bits sit at the top of
 * @acc. For each length from the shortest, the window's first @len bits
 * are a code of that length when they fall in [first, first + count).
 */
int kmesh_hpack_huffman_decode(const __u8 *src, __u32 len, __u8 *dst,
			       __u32 cap, __u32 *out_len)
{
	__u64 acc = 0;
	__u32 i = 0, o = 0, nbits = 0;

	for (;;) {
		__u32 first = 0, idx = 0, bits, code, cnt;
		int found = 0;

		while (nbits <= 56 && i < len) {
			acc |= (__u64)src[i++] << (56 - nbits);
			nbits += 8;
		}
		if (!nbits)
			break;
		for (bits = HUFF_MIN_BITS; bits <= HUFF_MAX_BITS; bits++) {
			if (bits > nbits)
				break;
			code = (__u32)(acc >> (64 - bits));
			cnt = huff_count[bits];
			if (code - first < cnt) {
				found = 1;
				break;
			}
			idx += cnt;
			first = (first + cnt) << 1;
		}
		if (!found) {
			/*
			 * Out of bits (input is exhausted: the window is
			 * refilled to > 56 bits otherwise). What is left is
			 * padding: at most 7 bits, all ones (5.2).
			 */
			if (nbits > 7 ||
			    (acc >> (64 - nbits)) != (1ULL << nbits) - 1)
				return KMESH_H2_E_HPACK_HUFFMAN;
			break;
		}
		code = huff_sym[idx + code - first];
		if (code == HUFF_EOS)
			return KMESH_H2_E_HPACK_HUFFMAN_EOS;
		if (o >= cap)
			return KMESH_H2_E_HEADER_LIST_SIZE;
		dst[o++] = (__u8)code;
		acc <<= bits;
		nbits -= bits;
	}
	*out_len = o;
	return 0;
}

/* ---- memory ---- */

static __u32 hpack_ring_cap(__u32 table_max)
{
	return table_max / KMESH_HPACK_ENTRY_OVERHEAD + 1;
}

__u32 kmesh_hpack_table_size(__u32 table_max)
{
	if (table_max > KMESH_HPACK_MAX_TABLE)
		return 0;
	return hpack_ring_cap(table_max) * sizeof(struct kmesh_hpack_entry) +
	       2 * table_max;
}

__u32 kmesh_hpack_mem_size(__u32 table_max, __u32 list_max)
{
	if (table_max > KMESH_HPACK_MAX_TABLE || list_max > KMESH_HPACK_MAX_LIST)
		return 0;
	return kmesh_hpack_table_size(table_max) + list_max;
}

int kmesh_hpack_init_table(struct kmesh_hpack *h, void *mem, __u32 mem_len,
			   __u32 table_max, __u32 list_max)
{
	__u32 need = kmesh_hpack_table_size(table_max);
	__u8 *p = mem;

	if (!h || !mem || !list_max || list_max > KMESH_HPACK_MAX_LIST ||
	    table_max > KMESH_HPACK_MAX_TABLE || mem_len < need ||
	    ((unsigned long)mem & 3))
		return KMESH_H2_E_INVAL;
	memset(h, 0, sizeof(*h));
	h->ring_cap = hpack_ring_cap(table_max);
	h->ring = (struct kmesh_hpack_entry *)p;
	p += h->ring_cap * sizeof(struct kmesh_hpack_entry);
	h->text = p;
	h->text_cap = 2 * table_max;
	h->scratch_cap = list_max;
	h->table_max = table_max;
	h->limit = table_max < KMESH_HPACK_DEFAULT_TABLE ? table_max :
		   KMESH_HPACK_DEFAULT_TABLE;
	h->max_size = h->limit;
	h->list_max = list_max;
	return 0;
}

void kmesh_hpack_set_scratch(struct kmesh_hpack *h, void *scratch)
{
	h->scratch = scratch;
}

int kmesh_hpack_init(struct kmesh_hpack *h, void *mem, __u32 mem_len,
		     __u32 table_max, __u32 list_max)
{
	__u32 need = kmesh_hpack_mem_size(table_max, list_max);
	__u32 tbl = kmesh_hpack_table_size(table_max);
	int rc;

	if (!h || !mem || !need || !list_max || mem_len < need)
		return KMESH_H2_E_INVAL;
	rc = kmesh_hpack_init_table(h, mem, tbl, table_max, list_max);
	if (rc)
		return rc;
	kmesh_hpack_set_scratch(h, (__u8 *)mem + tbl);
	return 0;
}

/* ---- dynamic table ---- */

static void hpack_evict_one(struct kmesh_hpack *h)
{
	struct kmesh_hpack_entry *e;

	e = &h->ring[(h->head + h->ring_cap - h->count) % h->ring_cap];
	h->size -= e->name_len + e->value_len + KMESH_HPACK_ENTRY_OVERHEAD;
	h->count--;
	if (!h->count)
		h->start = h->end = 0;
	else
		h->start = e->off + e->name_len + e->value_len;
}

static void hpack_shrink(struct kmesh_hpack *h, __u32 max_size)
{
	while (h->count && h->size > max_size)
		hpack_evict_one(h);
}

int kmesh_hpack_set_limit(struct kmesh_hpack *h, __u32 limit)
{
	if (!h || limit > h->table_max)
		return KMESH_H2_E_INVAL;
	h->limit = limit;
	/*
	 * RFC 7541 4.2: after a lower limit the encoder must say so with a
	 * size update before its next field. The table is not cut yet: the
	 * update does it, and the encoder may well ask for less.
	 */
	if (h->max_size > limit)
		h->update_due = 1;
	return 0;
}

/* Dynamic index @i (1: newest). */
static const struct kmesh_hpack_entry *hpack_dyn(const struct kmesh_hpack *h,
						 __u32 i)
{
	return &h->ring[(h->head + h->ring_cap - i) % h->ring_cap];
}

/*
 * Add name/value (both outside the table's text: the scratch buffer or
 * static strings) after evicting what it needs (RFC 7541 4.4).
 */
static void hpack_add(struct kmesh_hpack *h, const __u8 *name, __u32 nlen,
		      const __u8 *value, __u32 vlen)
{
	__u32 need = nlen + vlen, size = need + KMESH_HPACK_ENTRY_OVERHEAD;
	struct kmesh_hpack_entry *e;
	__u32 i;

	if (size > h->max_size) {
		hpack_shrink(h, 0);
		return;
	}
	/* entries take 32 bytes or more: the ring cannot be full now */
	hpack_shrink(h, h->max_size - size);
	if (h->end + need > h->text_cap) {
		/* live text <= max_size - need <= table_max: fits at 0 */
		memmove(h->text, h->text + h->start, h->end - h->start);
		for (i = 1; i <= h->count; i++)
			((struct kmesh_hpack_entry *)hpack_dyn(h, i))->off -= h->start;
		h->end -= h->start;
		h->start = 0;
	}
	e = &h->ring[h->head];
	e->off = h->end;
	e->name_len = nlen;
	e->value_len = vlen;
	memcpy(h->text + h->end, name, nlen);
	memcpy(h->text + h->end + nlen, value, vlen);
	h->end += need;
	h->size += size;
	h->head = (h->head + 1) % h->ring_cap;
	h->count++;
}

/* ---- representations ---- */

/* RFC 7541 5.1, values up to 2^31 - 1, at most 5 bytes after the prefix. */
static int hpack_int(const __u8 *blk, __u32 len, __u32 *pos, __u8 prefix_bits,
		     __u32 *out)
{
	__u32 mask = (1U << prefix_bits) - 1, v, shift = 0;
	__u8 b;

	v = blk[(*pos)++] & mask;
	if (v < mask) {
		*out = v;
		return 0;
	}
	do {
		if (*pos >= len)
			return KMESH_H2_E_HPACK_TRUNCATED;
		if (shift > 28)
			return KMESH_H2_E_HPACK_INT;
		b = blk[(*pos)++];
		if ((__u64)(b & 0x7f) << shift > 0x7fffffffULL - v)
			return KMESH_H2_E_HPACK_INT;
		v += (__u32)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	*out = v;
	return 0;
}

/*
 * A string literal (5.2) into scratch[*used..]; its start is returned in
 * @out. Lengths are checked against the block, then against what the
 * header list may still hold.
 */
static int hpack_string(struct kmesh_hpack *h, const __u8 *blk, __u32 len,
			__u32 *pos, __u32 *used, __u32 room,
			const __u8 **out, __u32 *out_len)
{
	__u32 n, dlen;
	int huff, rc;

	if (*pos >= len)
		return KMESH_H2_E_HPACK_TRUNCATED;
	huff = blk[*pos] & 0x80;
	rc = hpack_int(blk, len, pos, 7, &n);
	if (rc)
		return rc;
	if (n > len - *pos)
		return KMESH_H2_E_HPACK_STRING_LEN;
	if (room > h->scratch_cap - *used)
		room = h->scratch_cap - *used;
	if (huff) {
		rc = kmesh_hpack_huffman_decode(blk + *pos, n,
						h->scratch + *used, room, &dlen);
		if (rc)
			return rc;
	} else {
		if (n > room)
			return KMESH_H2_E_HEADER_LIST_SIZE;
		memcpy(h->scratch + *used, blk + *pos, n);
		dlen = n;
	}
	*out = h->scratch + *used;
	*out_len = dlen;
	*used += dlen;
	*pos += n;
	return 0;
}

/* Name (and value, when @value) of index @idx of either table. */
static int hpack_lookup(const struct kmesh_hpack *h, __u32 idx,
			struct kmesh_hpack_field *f, int value)
{
	const struct kmesh_hpack_entry *e;

	if (!idx)
		return KMESH_H2_E_HPACK_INDEX;
	if (idx <= KMESH_HPACK_STATIC_ENTRIES) {
		const struct kmesh_hpack_static *s = &hpack_static[idx - 1];

		f->name = (const __u8 *)s->name;
		f->name_len = s->name_len;
		if (value) {
			f->value = (const __u8 *)s->value;
			f->value_len = s->value_len;
		}
		return 0;
	}
	idx -= KMESH_HPACK_STATIC_ENTRIES;
	if (idx > h->count)
		return KMESH_H2_E_HPACK_INDEX;
	e = hpack_dyn(h, idx);
	f->name = h->text + e->off;
	f->name_len = e->name_len;
	if (value) {
		f->value = h->text + e->off + e->name_len;
		f->value_len = e->value_len;
	}
	return 0;
}

static int hpack_decode(struct kmesh_hpack *h, const __u8 *blk, __u32 len,
			kmesh_hpack_emit_fn emit, void *ctx)
{
	__u32 pos = 0, list = 0, idx, used, room;
	int fields = 0, rc;
	__u8 b;

	while (pos < len) {
		struct kmesh_hpack_field f = { 0 };
		int add = 0;

		h->err_off = pos;
		b = blk[pos];
		if ((b & 0xe0) == 0x20) {	/* size update, 6.3 */
			if (fields)
				return KMESH_H2_E_HPACK_UPDATE_POS;
			rc = hpack_int(blk, len, &pos, 5, &idx);
			if (rc)
				return rc;
			if (idx > h->limit)
				return KMESH_H2_E_HPACK_TABLE_SIZE;
			h->max_size = idx;
			h->update_due = 0;
			hpack_shrink(h, idx);
			continue;
		}
		if (h->update_due)
			return KMESH_H2_E_HPACK_UPDATE_MISSING;
		fields = 1;
		if (b & 0x80) {			/* indexed, 6.1 */
			rc = hpack_int(blk, len, &pos, 7, &idx);
			if (!rc)
				rc = hpack_lookup(h, idx, &f, 1);
			if (rc)
				return rc;
			f.flags = KMESH_HPACK_F_INDEXED;
		} else {			/* literal, 6.2 */
			__u8 prefix = 4;

			if (b & 0x40) {
				prefix = 6;
				add = 1;
			} else if (b & 0x10) {
				f.flags = KMESH_HPACK_F_NEVER_INDEXED;
			}
			rc = hpack_int(blk, len, &pos, prefix, &idx);
			if (rc)
				return rc;
			used = 0;
			room = h->list_max - list;
			if (idx) {
				rc = hpack_lookup(h, idx, &f, 0);
			} else {
				rc = hpack_string(h, blk, len, &pos, &used,
						  room, &f.name, &f.name_len);
			}
			if (rc)
				return rc;
			if (f.name_len > room)
				return KMESH_H2_E_HEADER_LIST_SIZE;
			rc = hpack_string(h, blk, len, &pos, &used,
					  room - f.name_len, &f.value,
					  &f.value_len);
			if (rc)
				return rc;
		}
		if ((__u64)f.name_len + f.value_len + KMESH_HPACK_ENTRY_OVERHEAD >
		    h->list_max - list)
			return KMESH_H2_E_HEADER_LIST_SIZE;
		list += f.name_len + f.value_len + KMESH_HPACK_ENTRY_OVERHEAD;
		/*
		 * A name from the dynamic table may be evicted by this very
		 * insertion (4.4): copy it out first. name + value fit the
		 * scratch buffer: both are within the list limit just checked.
		 */
		if (add && idx > KMESH_HPACK_STATIC_ENTRIES) {
			memcpy(h->scratch + used, f.name, f.name_len);
			f.name = h->scratch + used;
		}
		if (add) {
			hpack_add(h, f.name, f.name_len, f.value, f.value_len);
			f.flags |= KMESH_HPACK_F_ADDED;
		}
		if (emit) {
			rc = emit(ctx, &f);
			if (rc)
				return rc;
		}
	}
	/* a size update alone is a whole (if odd) block; so is an empty one */
	return 0;
}

int kmesh_hpack_decode(struct kmesh_hpack *h, const __u8 *blk, __u32 len,
		       kmesh_hpack_emit_fn emit, void *ctx)
{
	if (!h || !h->text || !h->scratch || (!blk && len))
		return KMESH_H2_E_INVAL;
	return hpack_decode(h, blk, len, emit, ctx);
}
