// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replies kmesh writes itself (kmod/core/reply.c): one layout and one
 * phrase table for the module's deferred-connect path, userspace's policy
 * replies and the eBPF built-ins (kmod/core/http_rules.h).
 */
#include <stdio.h>
#include <string.h>

#include "http_rules.h"
#include "reply.h"
#include "tap.h"

static void test_layout(void)
{
	char buf[256];
	__u32 n, head;

	tap_begin("reply: a deny with status 410 says \"410 Gone\", with its length, type and body");
	n = kmesh_http_reply(buf, sizeof(buf), 410, "gone\n", 5, 0, &head);
	buf[n] = 0;
	EXPECT_STR_EQ(buf, "HTTP/1.1 410 Gone\r\ncontent-length: 5\r\n"
			   "content-type: text/plain\r\n\r\ngone\n");
	EXPECT_EQ(head, strlen("HTTP/1.1 410 Gone\r\ncontent-length: 5\r\n"
			       "content-type: text/plain\r\n"));
	tap_end();

	tap_begin("reply: connection: close after the head; a HEAD request gets the length, not the body");
	n = kmesh_http_reply(buf, sizeof(buf), 403, "no\n", 3,
			     KMESH_REPLY_F_CLOSE | KMESH_REPLY_F_NO_BODY, &head);
	buf[n] = 0;
	EXPECT_STR_EQ(buf, "HTTP/1.1 403 Forbidden\r\ncontent-length: 3\r\n"
			   "content-type: text/plain\r\nconnection: close\r\n\r\n");
	tap_end();

	tap_begin("reply: 204 and 304 carry neither a length nor a body; unknown codes an empty phrase");
	n = kmesh_http_reply(buf, sizeof(buf), 204, "x", 1, 0, &head);
	buf[n] = 0;
	EXPECT_STR_EQ(buf, "HTTP/1.1 204 No Content\r\n\r\n");
	n = kmesh_http_reply(buf, sizeof(buf), 299, "", 0, 0, &head);
	buf[n] = 0;
	EXPECT_STR_EQ(buf, "HTTP/1.1 299 \r\ncontent-length: 0\r\n\r\n");
	tap_end();

	tap_begin("reply: a reply that does not fit renders as 0, never truncated");
	EXPECT_EQ(kmesh_http_reply(buf, 30, 403, "no\n", 3, 0, &head), 0);
	EXPECT_EQ(kmesh_http_reply_default_body(buf, 5, 503), 0);
	n = kmesh_http_reply_default_body(buf, sizeof(buf), 503);
	buf[n] = 0;
	EXPECT_STR_EQ(buf, "503 Service Unavailable\n");
	tap_end();
}

/* The eBPF program's built-ins are the same bytes as rendered here. */
static void test_builtins(void)
{
	static const struct {
		__u16 status;
		const char *head, *body;
	} b[] = {
		{ 400, KMESH_REPLY_400_HEAD, KMESH_REPLY_400_BODY },
		{ 404, KMESH_REPLY_404_HEAD, KMESH_REPLY_404_BODY },
		{ 421, KMESH_REPLY_421_HEAD, KMESH_REPLY_421_BODY },
		{ 431, KMESH_REPLY_431_HEAD, KMESH_REPLY_431_BODY },
	};
	char buf[256], want[256];
	__u32 n, head;
	size_t i;

	tap_begin("reply: the sk_msg built-ins (400, 404, 421, 431) are what the renderer writes");
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		n = kmesh_http_reply(buf, sizeof(buf), b[i].status, b[i].body,
				     strlen(b[i].body), 0, &head);
		buf[n] = 0;
		snprintf(want, sizeof(want), "%s\r\n%s", b[i].head, b[i].body);
		EXPECT_STR_EQ(buf, want);
		EXPECT_EQ(head, strlen(b[i].head));
	}
	tap_end();
}

int main(void)
{
	tap_header();
	test_layout();
	test_builtins();
	return tap_finish();
}
