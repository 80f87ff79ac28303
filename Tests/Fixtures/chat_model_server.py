"""An OpenAI-compatible chat model for tests: POST /v1/chat/completions answers by the model's name.

echo        the last user message back as the reply, usage counted in words
json        a JSON object in a Markdown code fence: {"answer": 42, "asked": <last user message>}
rate-limit  429 with Retry-After: 1 the first time a conversation is asked, then as echo
flaky       500 the first time a conversation is asked, then as echo
refuse      401 with OpenAI's error body, every time
slow        waits 30 s, then as echo
garbled     200 with a body that is not JSON
tools       asks for every tool offered at once (arguments {"room": <last user message>}); once the
            tools have answered, replies "done: " and their results joined by " | "
loop        asks for the first tool offered, every time
stranger    asks for a tool nobody offered, then replies with what it was told

GET /requests  every request so far as JSON: [{"path", "authorization", "body"}]"""
import json
import socket
import threading
import time
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

requests = []
seen = {}
lock = threading.Lock()


def completion(model, content, user):
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": model + "-0001",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": len(user.split()) + 10,
            "completion_tokens": len(content.split()),
            "total_tokens": len(user.split()) + 10 + len(content.split()),
        },
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm holds the body until
        # the client's delayed acknowledgement (about 40 ms) on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/requests":
            with lock:
                self.answer(200, requests)
        else:
            self.answer(404, {"error": {"message": "no such path"}})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = json.loads(raw)
        with lock:
            requests.append({"path": self.path, "authorization": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            self.answer(404, {"error": {"message": "no such path"}})
            return
        model = body.get("model", "")
        users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        user = users[-1] if users else ""
        key = (model, json.dumps(body.get("messages")))
        with lock:
            first = key not in seen
            seen[key] = True
        if model == "rate-limit" and first:
            self.answer(429, {"error": {"message": "Rate limit reached; try again in 1s"}}, [("Retry-After", "1")])
        elif model == "flaky" and first:
            self.answer(500, {"error": {"message": "The server had an error"}})
        elif model == "refuse":
            self.answer(401, {"error": {"message": "Incorrect API key provided"}})
        elif model == "garbled":
            self.answer(200, b"<html>not json</html>")
        elif model in ("tools", "loop", "stranger"):
            messages = body.get("messages", [])
            results = [m["content"] for m in messages if m.get("role") == "tool"]
            offered = [t["function"]["name"] for t in body.get("tools", [])]
            if model == "stranger":
                names = ["nobody"] if not results else []
            elif model == "loop" or not results:
                names = offered[:1] if model == "loop" else offered
            else:
                names = []
            if names:
                calls = [
                    {"id": "call_%d_%d" % (len(messages), i), "type": "function",
                     "function": {"name": name, "arguments": json.dumps({"room": user})}}
                    for i, name in enumerate(names)
                ]
                reply = completion(model, "", user)
                reply["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": calls}
                reply["choices"][0]["finish_reason"] = "tool_calls"
                self.answer(200, reply)
            else:
                self.answer(200, completion(model, "done: " + " | ".join(results), user))
        elif model == "json":
            content = "```json\n" + json.dumps({"answer": 42, "asked": user}) + "\n```"
            self.answer(200, completion(model, content, user))
        else:
            if model == "slow":
                time.sleep(30)
            self.answer(200, completion(model, user, user))

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
serve(server)
