"""The receivers of alert tests, on 127.0.0.1. Prints its HTTP port; its SMTP server's port is at /smtp-port.

argv[1]: the Standard Webhooks secret (whsec_<base64>) webhook deliveries are checked against.

The SMTP server takes mail only after STARTTLS (a self-signed certificate for 127.0.0.1, made at
start, whose PEM file is at /smtp-cert) and a login as alerts / s3cret.

POST /hook/BOX          a webhook delivery: its signature checked, kept as {"valid", "id", "body"}
POST /slack/BOX         a Slack-shaped delivery: kept as its JSON body
GET  /received/BOX      what BOX has received, as a JSON array
GET  /answer?box=B&status=N    from now on, deliveries to B are answered N (200 at first)
GET  /hang?box=B&seconds=S     from now on, deliveries to B wait S seconds before their answer
GET  /mail              the mails the SMTP server took: [{"from", "to", "subject", "body"}]
GET  /smtp-port         the SMTP server's port
GET  /smtp-cert         the path of the SMTP server's certificate (a PEM file to trust)"""
import base64
import datetime
import hashlib
import ipaddress
import os
import ssl
import tempfile
import hmac
import json
import socket
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fixture_server import serve
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

secret = sys.argv[1] if len(sys.argv) > 1 else ""
key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
received = defaultdict(list)
answers = defaultdict(lambda: 200)
hangs = defaultdict(float)
mails = []
lock = threading.Lock()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with lock:
            mails.append({
                "from": envelope.mail_from, "to": list(envelope.rcpt_tos), "subject": str(message["Subject"]),
                "body": message.get_content(),
            })
        return "250 OK"


def free_port():
    """A port nothing listens on now (aiosmtpd's controller cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def certificate():
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files in a fresh folder."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="alert-receiver-")
    cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def login(server, session, envelope, mechanism, auth_data):
    ok = getattr(auth_data, "login", None) == b"alerts" and getattr(auth_data, "password", None) == b"s3cret"
    # Not handled here: aiosmtpd answers 235 or 535 itself.
    return AuthResult(success=ok, handled=False)


cert_path, key_path = certificate()
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert_path, key_path)
smtp_port = free_port()
smtp = Controller(
    Mailbox(), hostname="127.0.0.1", port=smtp_port, tls_context=tls, require_starttls=True,
    authenticator=login, auth_required=True, auth_require_tls=True)
smtp.start()


def verified(headers, body):
    """Whether the Standard Webhooks signature of this delivery matches the secret."""
    id, stamp, signatures = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (id and stamp and signatures) or abs(time.time() - int(stamp)) > 300:
        return False
    expected = base64.b64encode(hmac.new(key, f"{id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(part[3:], expected) for part in signatures.split() if part.startswith("v1,"))


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, value=None):
        body = json.dumps(value).encode() if value is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind, _, box = self.path.strip("/").partition("/")
        with lock:
            wait, status = hangs[box], answers[box]
        if wait:
            time.sleep(wait)
        if status == 200:
            try:
                value = json.loads(body)
            except ValueError:
                value = None
            with lock:
                if kind == "hook":
                    received[box].append({"valid": verified(self.headers, body), "id": self.headers.get("webhook-id"), "body": value})
                else:
                    received[box].append(value)
        self.reply(status, {})

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        with lock:
            if url.path.startswith("/received/"):
                self.reply(200, received[url.path[len("/received/"):]])
            elif url.path == "/answer":
                answers[query["box"]] = int(query["status"])
                self.reply(200, {})
            elif url.path == "/hang":
                hangs[query["box"]] = float(query["seconds"])
                self.reply(200, {})
            elif url.path == "/mail":
                self.reply(200, mails)
            elif url.path == "/smtp-port":
                self.reply(200, smtp_port)
            elif url.path == "/smtp-cert":
                self.reply(200, cert_path)
            else:
                self.reply(404, {})

    def log_message(self, *args):
        pass


serve(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
