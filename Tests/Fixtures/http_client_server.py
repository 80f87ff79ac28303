"""A server for the HTTP client's tests. Prints its port.

GET /?bytes=N     a body of N bytes ("x" repeated), sent in chunks so that the client sees it
                  arrive over time
GET /hang         reads the request, then never answers
GET /connections  the number of TCP connections accepted so far, as text

It speaks HTTP/1.1 with keep-alive, so a client that reuses its connection is seen to."""
import threading
import urllib.parse
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

accepted = 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        global accepted
        with lock:
            accepted += 1
        super().setup()

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/hang":
            # Holds the connection until the client goes away.
            while self.rfile.read(1):
                pass
            return
        if url.path == "/connections":
            with lock:
                body = str(accepted).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        size = int(urllib.parse.parse_qs(url.query).get("bytes", ["0"])[0])
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            while size > 0:
                n = min(size, len(chunk))
                self.wfile.write(chunk[:n])
                size -= n
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
serve(server)
