"""An outside watcher for tests of --heartbeat-url (in the manner of healthchecks.io). Prints its port.

GET /ping/ID          a ping of check ID: counted, answered with the current status (200 at first)
GET /count/ID         how many pings check ID has had, as text
GET /answer?status=N  from now on, pings are answered with status N"""
import threading
import urllib.parse
from collections import Counter
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

pings = Counter()
answer = [200]
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, text=""):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path.startswith("/ping/"):
            with lock:
                pings[url.path[len("/ping/"):]] += 1
                status = answer[0]
            self.reply(status, "OK" if status == 200 else "no")
        elif url.path.startswith("/count/"):
            with lock:
                count = pings[url.path[len("/count/"):]]
            self.reply(200, str(count))
        elif url.path == "/answer":
            with lock:
                answer[0] = int(urllib.parse.parse_qs(url.query)["status"][0])
            self.reply(200)
        else:
            self.reply(404)

    def log_message(self, *args):
        pass


serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
