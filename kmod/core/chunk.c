// SPDX-License-Identifier: GPL-2.0-only
/* Chunked body scanner; the contract is in chunk.h. */
#include "chunk.h"

enum {
	CS_SIZE0 = 0,	/* first hex digit of a chunk size (all-zero state) */
	CS_SIZE,	/* more digits, ';', SP/HTAB or CR */
	CS_SIZE_WS,	/* SP/HTAB after the digits: more of it or ';' */
	CS_EXT,		/* extension bytes up to CR */
	CS_SIZE_LF,	/* LF ending the size line */
	CS_DATA,	/* chunk data, skipped by count */
	CS_DATA_CR,	/* CR after the data */
	CS_DATA_LF,	/* LF after the data */
	CS_TRAILER,	/* start of a trailer line, or CR of the final CRLF */
	CS_TNAME,	/* trailer field name */
	CS_TVALUE,	/* trailer field value up to CR */
	CS_TLF,		/* LF ending a trailer line */
	CS_END_LF,	/* LF of the final CRLF */
	CS_DONE,
	CS_ERROR,
};

#define CHUNK_MAX_DIGITS	15

_Static_assert(sizeof(struct kmesh_chunk_state) == 24,
	       "struct kmesh_chunk_state is ABI");

static inline int hexval(__u8 c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static inline bool tchar(__u8 c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	}
	return false;
}

/* Field value and extension bytes: VCHAR, SP, HTAB, obs-text. */
static inline bool text(__u8 c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

void kmesh_chunk_init(struct kmesh_chunk_state *st)
{
	memset(st, 0, sizeof(*st));
}

/* A CR or LF where the grammar has no place for one. */
static inline int crlf_error(__u8 c, int otherwise)
{
	return c == '\r' || c == '\n' ? KMESH_CHUNK_E_CRLF : otherwise;
}

int kmesh_chunk_scan(struct kmesh_chunk_state *stp, const __u8 *buf,
		     __u32 len)
{
	struct kmesh_chunk_state st;
	int rc = KMESH_CHUNK_NEED_MORE, v;
	__u32 i = 0, n;
	__u8 c;

	if (!stp)
		return KMESH_CHUNK_E_INVAL;
	memcpy(&st, stp, sizeof(st));
	if (st.state == CS_DONE || st.state == CS_ERROR) {
		stp->consumed = 0;
		return st.status;
	}
	if (st.state > CS_ERROR || st.digits > CHUNK_MAX_DIGITS ||
	    (!buf && len)) {
		rc = KMESH_CHUNK_E_INVAL;
		goto error;
	}
	while (i < len) {
		if (st.state == CS_DATA) {
			n = len - i;
			if (st.remaining < n)
				n = (__u32)st.remaining;
			st.remaining -= n;
			i += n;
			if (!st.remaining)
				st.state = CS_DATA_CR;
			continue;
		}
		c = buf[i];
		switch (st.state) {
		case CS_SIZE0:
			v = hexval(c);
			if (v < 0) {
				rc = crlf_error(c, KMESH_CHUNK_E_SIZE);
				goto error;
			}
			st.remaining = (__u64)v;
			st.digits = 1;
			st.line = 0;
			st.state = CS_SIZE;
			break;
		case CS_SIZE:
			v = hexval(c);
			if (v >= 0) {
				if (st.digits == CHUNK_MAX_DIGITS) {
					rc = KMESH_CHUNK_E_OVERFLOW;
					goto error;
				}
				st.digits++;
				st.remaining = st.remaining << 4 | (__u64)v;
			} else if (c == '\r') {
				st.state = CS_SIZE_LF;
			} else if (c == ';') {
				st.state = CS_EXT;
			} else if (c == ' ' || c == '\t') {
				st.state = CS_SIZE_WS;
			} else {
				rc = crlf_error(c, KMESH_CHUNK_E_SIZE);
				goto error;
			}
			break;
		case CS_SIZE_WS:
			if (c == ';') {
				st.state = CS_EXT;
			} else if (c != ' ' && c != '\t') {
				rc = crlf_error(c, KMESH_CHUNK_E_SIZE);
				goto error;
			}
			break;
		case CS_EXT:
			if (c == '\r') {
				st.state = CS_SIZE_LF;
			} else if (!text(c)) {
				rc = crlf_error(c, KMESH_CHUNK_E_EXT);
				goto error;
			}
			break;
		case CS_SIZE_LF:
			if (c != '\n') {
				rc = KMESH_CHUNK_E_CRLF;
				goto error;
			}
			st.line = 0;
			st.digits = 0;
			st.state = st.remaining ? CS_DATA : CS_TRAILER;
			break;
		case CS_DATA_CR:
			if (c != '\r') {
				rc = KMESH_CHUNK_E_CRLF;
				goto error;
			}
			st.state = CS_DATA_LF;
			break;
		case CS_DATA_LF:
			if (c != '\n') {
				rc = KMESH_CHUNK_E_CRLF;
				goto error;
			}
			st.state = CS_SIZE0;
			break;
		case CS_TRAILER:
			if (c == '\r') {
				st.state = CS_END_LF;
			} else if (tchar(c)) {
				st.state = CS_TNAME;
			} else {
				rc = crlf_error(c, KMESH_CHUNK_E_TRAILER);
				goto error;
			}
			break;
		case CS_TNAME:
			if (c == ':') {
				st.state = CS_TVALUE;
			} else if (!tchar(c)) {
				rc = crlf_error(c, KMESH_CHUNK_E_TRAILER);
				goto error;
			}
			break;
		case CS_TVALUE:
			if (c == '\r') {
				st.state = CS_TLF;
			} else if (!text(c)) {
				rc = crlf_error(c, KMESH_CHUNK_E_TRAILER);
				goto error;
			}
			break;
		case CS_TLF:
			if (c != '\n') {
				rc = KMESH_CHUNK_E_CRLF;
				goto error;
			}
			st.state = CS_TRAILER;
			break;
		case CS_END_LF:
			if (c != '\n') {
				rc = KMESH_CHUNK_E_CRLF;
				goto error;
			}
			i++;
			st.state = CS_DONE;
			st.status = KMESH_CHUNK_DONE;
			st.consumed = i;
			memcpy(stp, &st, sizeof(st));
			return KMESH_CHUNK_DONE;
		}
		/* line limits: size lines alone, trailers all together */
		if (st.state == CS_SIZE || st.state == CS_SIZE_WS ||
		    st.state == CS_EXT) {
			if (++st.line > KMESH_CHUNK_MAX_LINE) {
				rc = KMESH_CHUNK_E_TOO_LONG;
				goto error;
			}
		} else if (st.state >= CS_TRAILER && st.state <= CS_END_LF) {
			if (++st.line > KMESH_CHUNK_MAX_TRAILERS) {
				rc = KMESH_CHUNK_E_TOO_LONG;
				goto error;
			}
		}
		i++;
	}
	st.status = KMESH_CHUNK_NEED_MORE;
	st.consumed = len;
	memcpy(stp, &st, sizeof(st));
	return KMESH_CHUNK_NEED_MORE;
error:
	st.state = CS_ERROR;
	st.status = rc;
	st.consumed = i;
	memcpy(stp, &st, sizeof(st));
	return rc;
}

static const char *const chunk_str[KMESH_CHUNK_STATUS_MAX] = {
	[KMESH_CHUNK_NEED_MORE] = "need more",
	[KMESH_CHUNK_DONE] = "done",
	[KMESH_CHUNK_E_SIZE] = "bad chunk size",
	[KMESH_CHUNK_E_OVERFLOW] = "chunk size overflow",
	[KMESH_CHUNK_E_EXT] = "bad chunk extension",
	[KMESH_CHUNK_E_CRLF] = "bare CR or LF, or no CRLF after chunk data",
	[KMESH_CHUNK_E_TRAILER] = "bad trailer",
	[KMESH_CHUNK_E_TOO_LONG] = "size line or trailers too long",
	[KMESH_CHUNK_E_INVAL] = "invalid argument or state",
};

const char *kmesh_chunk_strstatus(int status)
{
	if (status < 0 || status >= KMESH_CHUNK_STATUS_MAX)
		return "unknown";
	return chunk_str[status];
}
