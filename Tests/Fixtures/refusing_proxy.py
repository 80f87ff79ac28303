"""A proxy in front of a real MLflow server for tests: forwards every request and passes the answer
on, except that a POST to /v1/traces that MLflow accepted is answered 400, as when a request that
timed out at the client was committed and its re-send refused. Usage: refusing_proxy.py UPSTREAM.
Prints its port."""
import sys
import urllib.error
import urllib.request
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

UPSTREAM = sys.argv[1].rstrip("/")


class Handler(BaseHTTPRequestHandler):
    def forward(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(UPSTREAM + self.path, data=body, headers=headers, method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, payload, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            status, payload, kind = error.code, error.read(), error.headers.get("Content-Type", "")
        if self.command == "POST" and self.path.startswith("/v1/traces") and status == 200:
            status, kind = 400, "application/json"
            payload = b'{"error_code": "INVALID_PARAMETER_VALUE", "message": "refused after commit"}'
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = forward
    do_POST = forward

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
serve(server)
