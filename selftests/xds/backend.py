#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""A test endpoint: answers every GET with "ep=ADDRESS path=PATH", so a
client sees which endpoint kmesh sent it to.  backend.py ADDRESS PORT"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("ep=%s path=%s\n" % (sys.argv[1], self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
