"""A real SMTP submission server for Cortex's tests, on loopback, built on aiosmtpd.

Three listeners share one handler:
  starttls  STARTTLS required before AUTH and mail (like port 587)
  tls       TLS from the first byte (like port 465)
  plain     no STARTTLS offered at all (a client must refuse to send here)
AUTH PLAIN/LOGIN with one user name and password is required on the first two.

Recipients steer the outcome: a local part starting with "tempfail" gets 451 at RCPT,
"reject" gets 550 at RCPT, "datafail" gets 554 after DATA. Every accepted message is
written to MAILDIR/<recipient>/<n>.eml (the bytes received, after dot-unstuffing) and
<n>.json, a summary parsed by Python's own email package, which the Swift tests read:
decoded headers, the MIME parts in order with their decoded text, the longest line in
octets, whether any line ended without CR, whether the session was encrypted and
authenticated, and which connection carried it (to check connection reuse).

When all listeners are up it writes DIR/server.json with the ports and credentials.
"""
import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import signal
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword, SMTP

counter = itertools.count(1)
lock = threading.Lock()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summarize(raw, envelope, session, listener):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    lines = raw.split(b"\r\n")
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    return {
        "listener": listener,
        "mail_from": envelope.mail_from,
        "rcpt_tos": envelope.rcpt_tos,
        "encrypted": session.ssl is not None,
        "authenticated": bool(session.authenticated),
        "connection": session.connection_id,
        "content_type": message.get_content_type(),
        "headers": {name.lower(): str(value) for name, value in message.items()},
        "header_names": [name for name, _ in message.items()],
        "parts": parts,
        "max_line_octets": max(len(line) for line in lines),
        "bare_line_feed": b"\n" in raw.replace(b"\r\n", b""),
        "bare_carriage_return": b"\r" in raw.replace(b"\r\n", b""),
        "defects": [type(d).__name__ for d in message.defects]
        + [type(d).__name__ for p in message.walk() for d in p.defects],
    }


class Handler:
    def __init__(self, maildir, listener):
        self.maildir = maildir
        self.listener = listener

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox busy, try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@")[0].lower().startswith("datafail") for r in envelope.rcpt_tos):
            return "554 5.6.0 Message refused"
        raw = envelope.original_content
        with lock:
            n = next(counter)
        for rcpt in envelope.rcpt_tos:
            folder = os.path.join(self.maildir, rcpt.lower())
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"{n:08d}.eml"), "wb") as f:
                f.write(raw)
            summary = summarize(raw, envelope, session, self.listener)
            temporary = os.path.join(folder, f"{n:08d}.json.tmp")
            with open(temporary, "w") as f:
                json.dump(summary, f)
            os.replace(temporary, os.path.join(folder, f"{n:08d}.json"))
        return "250 Message accepted for delivery"


class NumberedSMTP(SMTP):
    """Numbers each connection so tests can see several messages share one."""
    connections = itertools.count(1)

    def connection_made(self, transport):
        super().connection_made(transport)
        self.session.connection_id = next(self.connections)
        # aiosmtpd marks only STARTTLS sessions as encrypted; record implicit TLS too.
        if self.session.ssl is None and transport.get_extra_info("ssl_object") is not None:
            self.session.ssl = transport.get_extra_info("ssl_object")


class Server(Controller):
    def __init__(self, handler, *, smtp_options, **kwargs):
        self.smtp_options = smtp_options
        super().__init__(handler, **kwargs)

    def factory(self):
        return NumberedSMTP(self.handler, **self.smtp_options)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--user", default="cortex")
    parser.add_argument("--password", default="s3cret-smtp")
    args = parser.parse_args()
    maildir = os.path.join(args.dir, "mail")
    os.makedirs(maildir, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user \
            and auth_data.password.decode() == args.password
        return AuthResult(success=ok, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    auth = dict(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    ports = {"starttls": free_port(), "tls": free_port(), "plain": free_port()}
    servers = [
        Server(Handler(maildir, "starttls"), hostname="127.0.0.1", port=ports["starttls"],
               smtp_options=dict(tls_context=context, require_starttls=True, **auth)),
        # aiosmtpd's auth_require_tls only knows STARTTLS; this listener is TLS from the first byte.
        Server(Handler(maildir, "tls"), hostname="127.0.0.1", port=ports["tls"], ssl_context=context,
               smtp_options=dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)),
        Server(Handler(maildir, "plain"), hostname="127.0.0.1", port=ports["plain"],
               smtp_options=dict(auth_require_tls=False)),
    ]
    for server in servers:
        server.start()
    info = {"ports": ports, "user": args.user, "password": args.password, "ca_file": args.ca, "maildir": maildir}
    temporary = os.path.join(args.dir, "server.json.tmp")
    with open(temporary, "w") as f:
        json.dump(info, f)
    os.replace(temporary, os.path.join(args.dir, "server.json"))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
