"""A stand-in OTLP/HTTP collector for tests: answers 200 to every POST and appends one JSON line per
request (path, headers, decompressed body) to the file named on the command line. Prints its port.
A GET answers like MLflow's experiment lookup (experiment 7), so it can stand in for MLflow too.
With a certificate and key file after the log file, it serves HTTPS."""
import gzip
import json
import ssl
import sys
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": json.loads(body)}
        with open(sys.argv[1], "a") as out:
            out.write(json.dumps(record) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        # Enough of MLflow's experiment lookup for an exporter to get going.
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": {}}
        with open(sys.argv[1], "a") as out:
            out.write(json.dumps(record) + "\n")
        body = json.dumps({"experiment": {"experiment_id": "7", "lifecycle_stage": "active"}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 3:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[2], sys.argv[3])
    server.socket = context.wrap_socket(server.socket, server_side=True)
serve(server)
