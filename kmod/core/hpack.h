/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * HPACK decoder (RFC 7541), one per direction of an HTTP/2 connection.
 *
 * kmesh_hpack_decode() takes one complete header block (the HEADERS
 * fragment and its CONTINUATIONs, joined by the frame parser) and calls
 * @emit once per header field, in order. The dynamic table lives in the
 * decoder and carries over from block to block, as the encoder's does.
 *
 * Memory: nothing is allocated here. The caller gives one block of
 * kmesh_hpack_mem_size(table_max, list_max) bytes at init (the module
 * allocates it memcg-accounted); it holds the dynamic table (twice
 * @table_max bytes of name/value text, so that appending never wraps, and
 * an entry ring) and the scratch buffer decoded strings go to (@list_max
 * bytes: one field can never exceed the header list limit).
 *
 * Limits and what is refused (enum kmesh_h2_reason, h2_rules.h; all are
 * connection errors, COMPRESSION_ERROR, since the tables of the two
 * sides would no longer agree):
 *  - an integer over 2^31 - 1 or longer than 5 bytes after its prefix
 *    (E_HPACK_INT); a block ending inside a representation
 *    (E_HPACK_TRUNCATED) or a string (E_HPACK_STRING_LEN);
 *  - index 0, or beyond the static and dynamic tables (E_HPACK_INDEX);
 *  - Huffman: padding longer than 7 bits or not all ones
 *    (E_HPACK_HUFFMAN), the EOS symbol (E_HPACK_HUFFMAN_EOS);
 *  - a dynamic table size update above the current limit
 *    (E_HPACK_TABLE_SIZE: the receiver's SETTINGS_HEADER_TABLE_SIZE, at
 *    most @table_max), after the first field of a block
 *    (E_HPACK_UPDATE_POS), or missing at the start of the first block
 *    after kmesh_hpack_set_limit() lowered the limit below the table's
 *    size (E_HPACK_UPDATE_MISSING, RFC 7541 4.2);
 *  - a header list (sum of name + value + 32 per field, RFC 7541 4.1)
 *    over @list_max (E_HEADER_LIST_SIZE). kmesh refuses the connection
 *    there rather than the stream: it would have to keep decoding strings
 *    it cannot hold to keep its table in step.
 * Field names and values are not judged here (h2_frame.c does, RFC 9113
 * 8.2); bytes are passed as decoded.
 */
#ifndef KMESH_HPACK_H
#define KMESH_HPACK_H

#include "core.h"
#include "h2_rules.h"

/* RFC 7541 4.1: an entry's size is its name, its value and 32. */
#define KMESH_HPACK_ENTRY_OVERHEAD	32
/* SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 9113 6.5.2). */
#define KMESH_HPACK_DEFAULT_TABLE	4096
/* Largest table and list this decoder takes: 16-bit ring, 1 MiB text. */
#define KMESH_HPACK_MAX_TABLE		(1U << 20)
#define KMESH_HPACK_MAX_LIST		(1U << 20)
#define KMESH_HPACK_STATIC_ENTRIES	61

/* kmesh_hpack_field.flags */
#define KMESH_HPACK_F_NEVER_INDEXED	(1U << 0)	/* keep it out of any table */
#define KMESH_HPACK_F_INDEXED		(1U << 1)	/* indexed field (both from a table) */
#define KMESH_HPACK_F_ADDED		(1U << 2)	/* entered the dynamic table */

struct kmesh_hpack_field {
	const __u8 *name;	/* valid during the @emit call only */
	const __u8 *value;
	__u32 name_len;
	__u32 value_len;
	__u32 flags;		/* KMESH_HPACK_F_* */
};

/* 0 to go on, or an enum kmesh_h2_reason to stop decoding with it. */
typedef int (*kmesh_hpack_emit_fn)(void *ctx,
				   const struct kmesh_hpack_field *f);

struct kmesh_hpack_entry {
	__u32 off;		/* into text */
	__u32 name_len;
	__u32 value_len;
};

struct kmesh_hpack {
	__u8 *text;		/* entries' bytes, oldest first: [start, end) */
	struct kmesh_hpack_entry *ring;
	__u8 *scratch;		/* decoded strings of the current field */
	__u32 text_cap;		/* 2 * table_max */
	__u32 ring_cap;		/* table_max / 32 + 1 */
	__u32 scratch_cap;	/* list_max */
	__u32 table_max;	/* memory bound, fixed at init */
	__u32 limit;		/* what the encoder may use (SETTINGS) */
	__u32 max_size;		/* current maximum (last size update) */
	__u32 size;		/* current size, RFC 7541 4.1 */
	__u32 list_max;
	__u32 start, end;	/* live text */
	__u32 head;		/* ring slot of the next entry */
	__u32 count;		/* entries */
	__u32 err_off;		/* offset in the block of a refusal */
	__u8 update_due;	/* limit lowered: next block starts with one */
};

/* Bytes kmesh_hpack_init() needs for these bounds (0: bounds too large). */
__u32 kmesh_hpack_mem_size(__u32 table_max, __u32 list_max);

/*
 * Split memory, for a decoder whose table lives long and whose scratch is
 * lent per call (the module's per-connection state): the table's bytes
 * (ring and text) alone, and the scratch (@list_max bytes) given by
 * kmesh_hpack_set_scratch() before each kmesh_hpack_decode(). The scratch
 * holds nothing between blocks.
 */
__u32 kmesh_hpack_table_size(__u32 table_max);
int kmesh_hpack_init_table(struct kmesh_hpack *h, void *mem, __u32 mem_len,
			   __u32 table_max, __u32 list_max);
void kmesh_hpack_set_scratch(struct kmesh_hpack *h, void *scratch);

/*
 * Carve @mem (@mem_len bytes, any alignment of 4) for a decoder whose
 * table may grow to @table_max and whose header lists may reach
 * @list_max. The encoder's limit starts at min(4096, @table_max).
 * Returns 0, or KMESH_H2_E_INVAL when @mem is too small or bounds are 0.
 */
int kmesh_hpack_init(struct kmesh_hpack *h, void *mem, __u32 mem_len,
		     __u32 table_max, __u32 list_max);

/*
 * The receiver's SETTINGS_HEADER_TABLE_SIZE took effect: the encoder
 * may now use up to @limit. Above table_max it is refused (E_INVAL):
 * the caller must not advertise more than it can hold.
 */
int kmesh_hpack_set_limit(struct kmesh_hpack *h, __u32 limit);

/*
 * Decode one whole header block. Returns 0, or an enum kmesh_h2_reason
 * with h->err_off at the representation that failed. A failure is final
 * for the decoder in practice (the tables no longer agree); the caller
 * closes the connection. @emit may be NULL.
 */
int kmesh_hpack_decode(struct kmesh_hpack *h, const __u8 *blk, __u32 len,
		       kmesh_hpack_emit_fn emit, void *ctx);

/*
 * RFC 7541 5.2 Huffman decoding of @src into @dst (at most @cap bytes).
 * Returns 0 with *@out_len, E_HPACK_HUFFMAN, E_HPACK_HUFFMAN_EOS, or
 * E_HEADER_LIST_SIZE when @cap is too small.
 */
int kmesh_hpack_huffman_decode(const __u8 *src, __u32 len, __u8 *dst,
			       __u32 cap, __u32 *out_len);

#endif /* KMESH_HPACK_H */
