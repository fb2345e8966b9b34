#!/usr/bin/env python3
"""The sandbox SMS sink: a real HTTP server, standard library only, that speaks the portal's sms-plugin protocol
(plugins/sms_sink.yaml). No SMS ever reaches a phone: every message it takes is kept in memory and listed, marked
"sandbox".

  POST /messages          the portal sends one SMS: JSON {id, to, from, text}, with "Authorization: Bearer <key>" and
                          the portal's signature headers (Sportello-Timestamp, Sportello-Signature: HMAC-SHA256 over
                          "<timestamp>.<body>" keyed with the same key) -> 202 {id, status: "accepted", sandbox: true}.
                          The same Idempotency-Key (or body id) is taken once: a retry gets the first answer again.
  GET  /messages          every message taken, oldest first: {messages: [{id, gateway_id, to, from, text,
                          received_at, sandbox: true}]} (same bearer key).
  POST /control           {"down": true} makes POST /messages answer 503 (an outage), {"down": false} ends it;
                          {"clear": true} forgets every message (same bearer key).
  GET  /health            "ok" (also while "down": the process is up, the gateway is not).

The key comes from the environment variable named by --key-env (default SPORTELLO_SMS_API_KEY). A request without it,
or with a bad signature, or a timestamp more than --replay-window seconds away, gets 401. Stops on SIGTERM or SIGINT.
"""
import argparse
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"messages": [], "by_key": {}, "down": False, "counter": 0}
LOCK = threading.Lock()


def make_handler(key, replay_window):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SportelloSMSSink/1"

        def log_message(self, fmt, *args):  # no numbers or texts in the log: method, path and status only
            sys.stderr.write("%s %s\n" % (self.command, self.path))

        def reply(self, status, payload):
            body = json.dumps(payload, sort_keys=True).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def authorised(self):
            given = self.headers.get("Authorization", "")
            return hmac.compare_digest(given.encode(), ("Bearer " + key).encode())

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def signature_ok(self, raw):
            timestamp = self.headers.get("Sportello-Timestamp", "")
            signature = self.headers.get("Sportello-Signature", "")
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > replay_window:
                return False
            expected = "sha256=" + hmac.new(key.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
            return hmac.compare_digest(signature.encode(), expected.encode())

        def do_GET(self):
            if self.path == "/health":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")
                return
            if self.path == "/messages":
                if not self.authorised():
                    return self.reply(401, {"error": "unauthorised"})
                with LOCK:
                    return self.reply(200, {"messages": list(STATE["messages"]), "sandbox": True})
            self.reply(404, {"error": "not found"})

        def do_POST(self):
            raw = self.body()
            if not self.authorised():
                return self.reply(401, {"error": "unauthorised"})
            if self.path == "/control":
                try:
                    command = json.loads(raw or b"{}")
                except ValueError:
                    return self.reply(400, {"error": "not JSON"})
                with LOCK:
                    if "down" in command:
                        STATE["down"] = bool(command["down"])
                    if command.get("clear"):
                        STATE["messages"].clear()
                        STATE["by_key"].clear()
                    return self.reply(200, {"down": STATE["down"], "messages": len(STATE["messages"])})
            if self.path != "/messages":
                return self.reply(404, {"error": "not found"})
            if not self.signature_ok(raw):
                return self.reply(401, {"error": "bad signature"})
            with LOCK:
                if STATE["down"]:
                    return self.reply(503, {"error": "sandbox outage (POST /control {\"down\": false} ends it)"})
            try:
                message = json.loads(raw)
                to, text, ident = str(message["to"]), str(message["text"]), str(message["id"])
            except (ValueError, KeyError, TypeError):
                return self.reply(400, {"error": "expected JSON {id, to, text}"})
            digits = to[1:] if to.startswith("+") else to
            if not digits.isdigit() or not 6 <= len(digits) <= 15:
                return self.reply(422, {"error": "not a phone number"})
            idempotency = self.headers.get("Idempotency-Key") or ident
            with LOCK:
                if idempotency in STATE["by_key"]:
                    return self.reply(202, STATE["by_key"][idempotency])
                STATE["counter"] += 1
                gateway_id = "sandbox-sms-%d" % STATE["counter"]
                STATE["messages"].append({"id": ident, "gateway_id": gateway_id, "to": to, "from": message.get("from"),
                                          "text": text, "received_at": int(time.time()), "sandbox": True})
                answer = {"id": gateway_id, "status": "accepted", "sandbox": True}
                STATE["by_key"][idempotency] = answer
            self.reply(202, answer)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--key-env", default="SPORTELLO_SMS_API_KEY")
    parser.add_argument("--replay-window", type=int, default=300)
    args = parser.parse_args()
    key = os.environ.get(args.key_env, "")
    if not key:
        sys.exit("%s is not set: the sink needs an API key" % args.key_env)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(key, args.replay_window))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    sys.stderr.write("SMS sink (SANDBOX: no SMS reaches a phone) on http://%s:%d\n" % (args.host, args.port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
