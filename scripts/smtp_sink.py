#!/usr/bin/env python3
"""A real SMTP server for the test suite (aiosmtpd): accepts mail and writes it to a spool folder.

Every accepted message becomes two files named by an increasing counter:

  000001.eml   the message bytes exactly as received (after the SMTP dot-unstuffing)
  000001.json  the envelope and what Python's e-mail parser makes of the message:
               {"number", "mail_from", "rcpt_tos", "received_at", "auth_user", "tls",
                "headers": {name: [decoded values]}, "subject", "message_id", "text", "html", "defects"}

The .json file is written last (and atomically), so a reader that sees it also sees the .eml.

Options for exercising the client's harder paths:
  --tls-cert/--tls-key   offer STARTTLS with this certificate (--require-starttls refuses mail without it)
  --implicit-tls         speak TLS from the first byte (smtps), needs --tls-cert/--tls-key
  --auth USER:PASSWORD   require AUTH (PLAIN and LOGIN, only after TLS)

Recipients whose local part starts with "reject" are refused with 550 (permanent); with "defer",
with 451 (temporary). The server stops on SIGTERM or SIGINT.
"""
import argparse
import email
import email.policy
import json
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Spool:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        numbers = [int(name.split(".")[0]) for name in os.listdir(folder)
                   if name.endswith(".json") and name.split(".")[0].isdigit()]
        self.counter = max(numbers, default=0)
        self.lock = threading.Lock()

    def next_number(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def write(self, name, data):
        path = os.path.join(self.folder, name)
        with open(path + ".tmp", "wb") as handle:
            handle.write(data)
        os.replace(path + ".tmp", path)


def parsed(raw):
    # Parsed with Unix line ends so that decoded parts read naturally; the .eml keeps the CRLFs.
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
    text = html = None
    try:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else None
        part = message.get_body(preferencelist=("html",))
        html = part.get_content() if part is not None else None
    except Exception as error:  # report, never crash the server
        headers.setdefault("x-sink-parse-error", []).append(repr(error))
    defects = [repr(defect) for defect in message.defects]
    for part in message.walk():
        defects += [repr(defect) for defect in part.defects if part is not message]
    return {
        "headers": headers,
        "subject": str(message["subject"]) if message["subject"] is not None else None,
        "message_id": str(message["message-id"]) if message["message-id"] is not None else None,
        "text": text,
        "html": html,
        "defects": defects,
    }


class Handler:
    def __init__(self, spool):
        self.spool = spool

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0].lower()
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("defer"):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        number = self.spool.next_number()
        stem = "%06d" % number
        self.spool.write(stem + ".eml", raw)
        record = {
            "number": number,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "received_at": time.time(),
            "auth_user": getattr(session, "auth_data", None) and str(session.auth_data),
            # session.ssl is set after STARTTLS only; an smtps connection shows on its transport.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
        }
        record.update(parsed(raw))
        self.spool.write(stem + ".json", json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
        return "250 2.0.0 OK queued as %s" % stem


def authenticator_for(credentials):
    user, _, password = credentials.partition(":")

    def authenticate(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user \
                and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)
    return authenticate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spool", required=True, help="folder for the received messages")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--auth", help="USER:PASSWORD; AUTH becomes mandatory")
    options = parser.parse_args()

    context = None
    if options.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(options.tls_cert, options.tls_key)

    smtp_options = {"server_hostname": "sink.sportello.test", "ident": "Sportello test sink"}
    if context is not None and not options.implicit_tls:
        smtp_options.update(tls_context=context, require_starttls=options.require_starttls)
    if options.auth:
        smtp_options.update(authenticator=authenticator_for(options.auth), auth_required=True,
                            auth_require_tls=True)

    handler = Handler(Spool(options.spool))
    controller = Controller(handler, hostname=options.host, port=options.port,
                            ssl_context=context if options.implicit_tls else None,
                            ready_timeout=10, **smtp_options)
    stop = threading.Event()
    # A parent may start us with these blocked (Foundation's Process spawns from a Dispatch thread).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    controller.start()
    print("smtp sink listening on %s:%d, spool %s" % (options.host, options.port, options.spool), flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
