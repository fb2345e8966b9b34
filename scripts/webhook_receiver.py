#!/usr/bin/env python3
"""The sandbox webhook receiver: a real HTTP server, standard library only, that takes the portal's webhook
deliveries (plugins/webhook_receiver.yaml) the way a provider's system should, for development and tests.

  POST /hooks            a delivery: verifies the signature and the replay window (401 otherwise, nothing stored),
                         then stores the event (once per Idempotency-Key: a repeat is answered 200 and counted) and
                         answers 200 {"received": true, "duplicate": false}. While told to fail or to refuse, answers
                         that status instead and stores nothing; while told to be slow, waits first.
  GET  /events           every event stored, in the order received: {"events": [{"key", "tenant", "id", "type",
                         "customer_id", "payload", "received_at", "deliveries", "body", "headers"}], "rejected": N,
                         "refused": N, "failed": N} ("deliveries": how many signed POSTs carried that key; "body" and
                         "headers": the last one's exact bytes and its Sportello-*/Idempotency-Key headers).
  DELETE /events         forgets every event and counter.
  POST /control          how to answer from now on: JSON {"mode": "ok" | "fail" | "refuse" | "slow", "status": 503,
                         "delay": 5}: "fail" answers `status` (default 503: an outage, retried by the portal), "refuse"
                         answers `status` (default 422: a permanent refusal, the delivery goes dead), "slow" waits
                         `delay` seconds before answering 200 (past the portal's timeout: retried).
  GET  /health           "ok".

Signature: HMAC-SHA256 keyed with the shared secret (the environment variable named by --secret-env, default
SPORTELLO_WEBHOOK_SECRET) over "<timestamp>.<body>", in the headers "Sportello-Timestamp: <unix seconds>" and
"Sportello-Signature: sha256=<hex>". A timestamp more than --replay-window seconds from this server's clock is
refused before the signature is checked. The state lives in memory. It stops on SIGTERM or SIGINT.
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


def verify(secret: bytes, timestamp: str, signature: str, body: bytes, now: float, window: int) -> str | None:
    """None when the delivery is authentic and fresh, else why not: missing, malformed, stale or mismatch."""
    if not timestamp or not signature:
        return "missing"
    if not timestamp.strip().isdigit() or not signature.startswith("sha256="):
        return "malformed"
    if abs(now - int(timestamp)) > window:
        return "stale"
    expected = hmac.new(secret, timestamp.strip().encode() + b"." + body, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature[len("sha256="):].strip().lower()) else "mismatch"


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()
        self.mode = {"mode": "ok"}

    def reset(self):
        self.events = []
        self.by_key = {}
        self.rejected = 0
        self.refused = 0
        self.failed = 0

    def snapshot(self):
        with self.lock:
            return {"events": list(self.events), "rejected": self.rejected, "refused": self.refused, "failed": self.failed,
                    "mode": dict(self.mode)}


def make_handler(store: Store, secret: bytes, window: int):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SportelloWebhookReceiver/1"

        def log_message(self, format, *args):
            sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), format % args))

        def answer(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def read_body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, "ok")
            elif self.path == "/events":
                self.answer(200, store.snapshot())
            else:
                self.answer(404, {"error": "not found"})

        def do_DELETE(self):
            if self.path == "/events":
                with store.lock:
                    store.reset()
                self.answer(200, {"cleared": True})
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            body = self.read_body()
            if self.path == "/control":
                try:
                    mode = json.loads(body or b"{}")
                    assert mode.get("mode") in ("ok", "fail", "refuse", "slow")
                except (ValueError, AssertionError):
                    self.answer(400, {"error": "expected {\"mode\": \"ok\" | \"fail\" | \"refuse\" | \"slow\"}"})
                    return
                with store.lock:
                    store.mode = mode
                self.answer(200, mode)
                return
            if self.path != "/hooks":
                self.answer(404, {"error": "not found"})
                return
            refusal = verify(secret, self.headers.get("Sportello-Timestamp", ""), self.headers.get("Sportello-Signature", ""),
                             body, time.time(), window)
            if refusal:
                with store.lock:
                    store.rejected += 1
                self.answer(401, {"error": "signature " + refusal})
                return
            with store.lock:
                mode = dict(store.mode)
            if mode["mode"] == "fail":
                with store.lock:
                    store.failed += 1
                self.answer(int(mode.get("status", 503)), {"error": "told to fail"})
                return
            if mode["mode"] == "refuse":
                with store.lock:
                    store.refused += 1
                self.answer(int(mode.get("status", 422)), {"error": "told to refuse"})
                return
            if mode["mode"] == "slow":
                time.sleep(float(mode.get("delay", 5)))
            try:
                payload = json.loads(body)
            except ValueError:
                self.answer(400, {"error": "not JSON"})
                return
            key = self.headers.get("Idempotency-Key") or "%s:%s" % (payload.get("tenant"), payload.get("id"))
            headers = {name: self.headers.get(name, "") for name in
                       ("Sportello-Timestamp", "Sportello-Signature", "Idempotency-Key", "Sportello-Event-Id", "Sportello-Event-Type",
                        "Sportello-Tenant", "Content-Type", "User-Agent")}
            with store.lock:
                known = store.by_key.get(key)
                if known is not None:
                    known["deliveries"] += 1
                else:
                    known = {"key": key, "tenant": payload.get("tenant"), "id": payload.get("id"), "type": payload.get("type"),
                             "customer_id": payload.get("customer_id"), "payload": payload, "received_at": time.time(),
                             "deliveries": 1}
                    store.by_key[key] = known
                    store.events.append(known)
                known["body"] = body.decode("utf-8", "replace")
                known["headers"] = headers
            self.answer(200, {"received": True, "duplicate": known["deliveries"] > 1})

    return Handler


def main():
    parser = argparse.ArgumentParser(description="Sandbox webhook receiver: verifies and stores the portal's signed events.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8932)
    parser.add_argument("--secret-env", default="SPORTELLO_WEBHOOK_SECRET", help="environment variable holding the shared secret")
    parser.add_argument("--replay-window", type=int, default=300, help="seconds a signed delivery stays valid")
    args = parser.parse_args()
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        sys.exit("%s is not set: the receiver needs the shared secret" % args.secret_env)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(Store(), secret.encode(), args.replay_window))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("webhook receiver on http://%s:%d/hooks" % (args.host, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
