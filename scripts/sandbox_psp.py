#!/usr/bin/env python3
"""The sandbox payment service provider (PSP): a real HTTP server, standard library only, that speaks the portal's
payments-plugin protocol (plugins/sandbox_psp.yaml). Nothing is ever charged: every page says
"SANDBOX — nessun addebito reale / no real charge".

  POST /payments               the portal creates a payment (signed, see below): JSON {reference, amount_cents,
                               currency, method, description, locale, return_url, notify_url, merchant: {id, name}}
                               -> 201 {id, redirect_url, status}. The same Idempotency-Key gives the same payment.
  GET  /pay/<id>               the hosted payment page: amount, merchant, method, and three buttons for the tester:
                               approve, decline, cancel (tester options: charge another amount, to try a mismatch).
  POST /pay/<id>               the tester's choice: the customer is redirected (303) to the portal's return URL, and a
                               signed notification is queued for the portal's notify URL.
  GET  /api/payments/<id>      a payment as JSON (for tests and for the curious).
  POST /api/payments/<id>/refund
                               refunds a succeeded payment: queues a payment.refunded notification.
  GET  /api/notifications      every notification with its deliveries (attempts, last status, body and headers sent).
  POST /api/notifications/<id>/redeliver
                               tries a notification again now (also one that gave up).
  GET  /health                 "ok".

Signatures, both ways: HMAC-SHA256 keyed with the shared secret (from the environment variable named by
--secret-env, default SPORTELLO_PSP_SECRET) over "<timestamp>.<body>", sent as the headers
"Sportello-Timestamp: <unix seconds>" and "Sportello-Signature: sha256=<hex>". A request whose timestamp is more than
--replay-window seconds from this server's clock is refused.

Notifications: {"id", "type": payment.succeeded | payment.failed | payment.cancelled | payment.refunded,
"created_at", "sandbox": true, "payment": {"id", "reference", "status", "amount_cents", "currency", "method", "reason"}}.
A delivery that does not get a 2xx answer is retried after each of --retry-delays (seconds), re-signed with a fresh
timestamp; a payment's notifications are delivered in order. Host names ending in ".localhost" are reached on
127.0.0.1, with the Host header kept (as browsers do, RFC 6761).

The state lives in memory: restarting the server forgets every payment. It stops on SIGTERM or SIGINT.
"""
import argparse
import hashlib
import hmac
import html
import http.client
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXTS = {
    "it": {
        "banner": "SANDBOX — nessun addebito reale",
        "banner_note": "Questo è un servizio di pagamento di prova: nessun importo viene addebitato, nessun dato di pagamento "
                       "viene chiesto o conservato. Scegli l'esito da restituire al portale.",
        "title": "Pagamento di prova",
        "merchant": "Esercente",
        "description": "Causale",
        "amount": "Importo",
        "method": "Metodo",
        "approve": "Approva il pagamento (sandbox)",
        "decline": "Rifiuta il pagamento",
        "cancel": "Annulla e torna al portale",
        "tester": "Opzioni del tester",
        "charged": "Importo da confermare (centesimi), per provare un importo che non corrisponde",
        "done": "Esito già registrato",
        "back": "Torna al portale",
        "methods": {"card": "Carta di pagamento", "paypal": "PayPal", "bank_transfer": "Bonifico bancario"},
        "statuses": {"pending": "in attesa", "succeeded": "approvato", "failed": "rifiutato", "cancelled": "annullato",
                     "refunded": "rimborsato"},
    },
    "en": {
        "banner": "SANDBOX — no real charge",
        "banner_note": "This is a test payment service: nothing is charged, no payment data is asked for or kept. "
                       "Choose the outcome to send back to the portal.",
        "title": "Test payment",
        "merchant": "Merchant",
        "description": "Description",
        "amount": "Amount",
        "method": "Method",
        "approve": "Approve the payment (sandbox)",
        "decline": "Decline the payment",
        "cancel": "Cancel and go back to the portal",
        "tester": "Tester options",
        "charged": "Amount to confirm (cents), to try an amount that does not match",
        "done": "Outcome already recorded",
        "back": "Back to the portal",
        "methods": {"card": "Payment card", "paypal": "PayPal", "bank_transfer": "Bank transfer"},
        "statuses": {"pending": "pending", "succeeded": "approved", "failed": "declined", "cancelled": "cancelled",
                     "refunded": "refunded"},
    },
}

TYPES = {"succeeded": "payment.succeeded", "failed": "payment.failed", "cancelled": "payment.cancelled",
         "refunded": "payment.refunded"}


def log(message):
    print(time.strftime("%H:%M:%S"), message, flush=True)


class Signer:
    def __init__(self, secret, window):
        self.key = secret.encode()
        self.window = window

    def sign(self, timestamp, body):
        digest = hmac.new(self.key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
        return "sha256=" + digest

    def check(self, headers, body):
        """None when the request is signed by the portal within the window, else the reason."""
        timestamp, signature = headers.get("Sportello-Timestamp"), headers.get("Sportello-Signature")
        if not timestamp or not signature:
            return "missing signature"
        try:
            seconds = int(timestamp)
        except ValueError:
            return "malformed timestamp"
        if abs(time.time() - seconds) > self.window:
            return "stale timestamp"
        if not hmac.compare_digest(self.sign(seconds, body), signature.strip()):
            return "signature mismatch"
        return None


class Store:
    """Payments and notifications, in memory, behind one lock."""

    def __init__(self):
        self.lock = threading.Condition()
        self.payments = {}
        self.by_key = {}
        self.notifications = []
        self.stopping = False

    def notify(self, payment, status, amount_cents=None, reason=None):
        """Queues the notification of `payment` reaching `status` (call with the lock held)."""
        body = {
            "id": "evt_" + secrets.token_hex(10),
            "type": TYPES[status],
            "created_at": int(time.time()),
            "sandbox": True,
            "payment": {
                "id": payment["id"], "reference": payment["reference"], "status": status,
                "amount_cents": payment["amount_cents"] if amount_cents is None else amount_cents,
                "currency": payment["currency"], "method": payment["method"],
            },
        }
        if reason:
            body["payment"]["reason"] = reason
        self.notifications.append({
            "id": body["id"], "payment": payment["id"], "url": payment["notify_url"], "type": body["type"],
            "body": json.dumps(body, separators=(",", ":"), sort_keys=True), "attempts": 0, "delivered": False,
            "gave_up": False, "next_at": time.time(), "last_status": None, "last_error": None, "last_headers": None,
        })
        self.lock.notify_all()


class Deliverer(threading.Thread):
    """Delivers due notifications, a payment's in order, retrying after each of `delays`. Payments are independent:
    each delivery runs on a thread of its own, so a portal slow to answer holds back only its own payment's
    notifications (as a real provider's notifier would), never the other payments'."""

    def __init__(self, store, signer, delays, timeout):
        super().__init__(daemon=True)
        self.store, self.signer, self.delays, self.timeout = store, signer, delays, timeout
        self.in_flight = set()

    def due(self):
        now = time.time()
        blocked = set(self.in_flight)
        for item in self.store.notifications:
            if item["delivered"] or item["gave_up"]:
                continue
            if item["payment"] in blocked:
                continue
            blocked.add(item["payment"])
            if item["next_at"] <= now:
                return item
        return None

    def run(self):
        while True:
            with self.store.lock:
                while not self.store.stopping:
                    item = self.due()
                    if item:
                        break
                    pending = [n["next_at"] for n in self.store.notifications
                               if not n["delivered"] and not n["gave_up"] and n["payment"] not in self.in_flight]
                    self.store.lock.wait(timeout=max(0.05, min(pending) - time.time()) if pending else 1.0)
                if self.store.stopping:
                    return
                item["attempts"] += 1
                self.in_flight.add(item["payment"])
                url, body = item["url"], item["body"].encode()
            threading.Thread(target=self.attempt, args=(item, url, body), daemon=True).start()

    def attempt(self, item, url, body):
        status, error, headers = self.post(url, body)
        with self.store.lock:
            self.in_flight.discard(item["payment"])
            item["last_status"], item["last_error"], item["last_headers"] = status, error, headers
            if status is not None and 200 <= status < 300:
                item["delivered"] = True
                log(f"notification {item['id']} ({item['type']}) delivered to {url} on attempt {item['attempts']}")
            elif item["attempts"] > len(self.delays):
                item["gave_up"] = True
                log(f"notification {item['id']} gave up after {item['attempts']} attempts: {error or status}")
            else:
                delay = self.delays[item["attempts"] - 1]
                item["next_at"] = time.time() + delay
                log(f"notification {item['id']} attempt {item['attempts']} failed ({error or status}): retrying in {delay}s")
            self.store.lock.notify_all()

    def post(self, url, body):
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connect_to = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json", "User-Agent": "sportello-sandbox-psp",
            "Host": parts.netloc, "Sportello-Timestamp": str(timestamp),
            "Sportello-Signature": self.signer.sign(timestamp, body),
        }
        try:
            if parts.scheme == "https":
                connection = http.client.HTTPSConnection(connect_to, port, timeout=self.timeout)
            else:
                connection = http.client.HTTPConnection(connect_to, port, timeout=self.timeout)
            path = parts.path + ("?" + parts.query if parts.query else "")
            connection.request("POST", path or "/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            return response.status, None, headers
        except OSError as error:
            return None, str(error) or error.__class__.__name__, headers


def money(cents, currency, locale):
    whole, rest = divmod(abs(int(cents)), 100)
    grouped = f"{whole:,}".replace(",", "." if locale == "it" else ",")
    text = f"{grouped},{rest:02d}" if locale == "it" else f"{grouped}.{rest:02d}"
    return ("-" if cents < 0 else "") + (f"{text} €" if currency == "EUR" and locale == "it" else f"{currency} {text}")


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f5; color: #18181b; }
.sandbox { background: #c2410c; color: #fff; padding: 1rem; text-align: center; font-size: 1.4rem; font-weight: 700; }
main { max-width: 36rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border: 2px dashed #c2410c; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .4rem 1.5rem; }
dt { font-weight: 600; }
dd { margin: 0; }
button { display: block; width: 100%; margin: .5rem 0; padding: .8rem; font-size: 1rem; cursor: pointer; border: 1px solid #3f3f46; }
button.approve { background: #166534; color: #fff; }
button.decline { background: #991b1b; color: #fff; }
button.cancel { background: #fff; }
details { margin-top: 1rem; }
label { display: block; margin: .5rem 0 .25rem; }
input { padding: .4rem; font-size: 1rem; }
"""


def make_handler(store, signer, public_url):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SandboxPSP/1.0"

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            log("%s %s" % (self.address_string(), format % args))

        def send(self, status, body, content_type="application/json", headers=None):
            data = body if isinstance(body, bytes) else body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def json(self, status, value):
            self.send(status, json.dumps(value, sort_keys=True))

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(min(length, 1 << 20)) if length else b""

        def route(self):
            return [part for part in urllib.parse.urlsplit(self.path).path.split("/") if part]

        def do_GET(self):
            parts = self.route()
            if parts == ["health"]:
                return self.send(200, "ok", "text/plain")
            if len(parts) == 2 and parts[0] == "pay":
                return self.page(parts[1])
            if len(parts) == 3 and parts[:2] == ["api", "payments"]:
                with store.lock:
                    payment = store.payments.get(parts[2])
                    return self.json(200, payment) if payment else self.json(404, {"error": "no such payment"})
            if parts == ["api", "notifications"]:
                with store.lock:
                    return self.json(200, {"notifications": store.notifications})
            return self.json(404, {"error": "not found"})

        def do_POST(self):
            parts = self.route()
            raw = self.body()
            if parts == ["payments"]:
                return self.create(raw)
            if len(parts) == 2 and parts[0] == "pay":
                return self.decide(parts[1], raw)
            if len(parts) == 4 and parts[:2] == ["api", "payments"] and parts[3] == "refund":
                return self.refund(parts[2])
            if len(parts) == 4 and parts[:2] == ["api", "notifications"] and parts[3] == "redeliver":
                with store.lock:
                    item = next((n for n in store.notifications if n["id"] == parts[2]), None)
                    if not item:
                        return self.json(404, {"error": "no such notification"})
                    # A fresh schedule: also a delivered one is sent again (the portal must treat it as a repeat).
                    item["gave_up"], item["delivered"], item["attempts"], item["next_at"] = False, False, 0, time.time()
                    store.lock.notify_all()
                return self.json(202, {"id": item["id"], "status": "queued"})
            return self.json(404, {"error": "not found"})

        def create(self, raw):
            refusal = signer.check(self.headers, raw)
            if refusal:
                log(f"payment creation refused: {refusal}")
                return self.json(401, {"error": refusal})
            try:
                request = json.loads(raw)
                amount = int(request["amount_cents"])
                fields = {name: str(request[name]) for name in ("reference", "currency", "method", "return_url", "notify_url")}
            except (ValueError, KeyError, TypeError) as error:
                return self.json(400, {"error": f"not a payment request: {error}"})
            if amount <= 0 or not fields["return_url"].startswith(("http://", "https://")) \
                    or not fields["notify_url"].startswith(("http://", "https://")):
                return self.json(422, {"error": "amount must be positive, return_url and notify_url absolute"})
            key = self.headers.get("Idempotency-Key")
            with store.lock:
                if key and key in store.by_key:
                    payment = store.payments[store.by_key[key]]
                    return self.json(200, {"id": payment["id"], "redirect_url": payment["redirect_url"], "status": payment["status"]})
                payment_id = "sbx_" + secrets.token_hex(8)
                merchant = request.get("merchant") or {}
                payment = dict(fields, id=payment_id, amount_cents=amount, status="pending", sandbox=True,
                               description=str(request.get("description") or ""), locale=str(request.get("locale") or "it"),
                               merchant={"id": str(merchant.get("id") or ""), "name": str(merchant.get("name") or "")},
                               redirect_url=f"{public_url}/pay/{payment_id}", created_at=int(time.time()),
                               charged_cents=None)
                store.payments[payment_id] = payment
                if key:
                    store.by_key[key] = payment_id
            log(f"payment {payment_id} created: {amount} {fields['currency']} by {fields['method']} for {payment['merchant']['id']}")
            return self.json(201, {"id": payment_id, "redirect_url": payment["redirect_url"], "status": "pending"})

        def page(self, payment_id):
            with store.lock:
                payment = store.payments.get(payment_id)
                payment = dict(payment) if payment else None
            if not payment:
                return self.send(404, "<!doctype html><title>SANDBOX</title><p>SANDBOX — no such payment</p>", "text/html; charset=utf-8")
            locale = "en" if payment["locale"].startswith("en") else "it"
            text = TEXTS[locale]
            esc = html.escape
            facts = (f"<dt>{text['merchant']}</dt><dd>{esc(payment['merchant']['name'])}</dd>"
                     f"<dt>{text['description']}</dt><dd>{esc(payment['description'])}</dd>"
                     f"<dt>{text['amount']}</dt><dd id=\"amount\">{esc(money(payment['amount_cents'], payment['currency'], locale))}</dd>"
                     f"<dt>{text['method']}</dt><dd>{esc(text['methods'].get(payment['method'], payment['method']))}</dd>")
            if payment["status"] == "pending":
                action = f"""
<form method="post" action="/pay/{esc(payment_id)}">
  <button class="approve" type="submit" name="action" value="approve">{text['approve']}</button>
  <button class="decline" type="submit" name="action" value="decline">{text['decline']}</button>
  <button class="cancel" type="submit" name="action" value="cancel">{text['cancel']}</button>
  <details><summary>{text['tester']}</summary>
    <label for="amount_cents">{text['charged']}</label>
    <input id="amount_cents" name="amount_cents" inputmode="numeric" value="{payment['amount_cents']}">
  </details>
</form>"""
            else:
                status = text["statuses"].get(payment["status"], payment["status"])
                action = (f"<p id=\"outcome\">{text['done']}: <strong>{esc(status)}</strong></p>"
                          f"<p><a href=\"{esc(payment['return_url'])}\">{text['back']}</a></p>")
            page = f"""<!doctype html>
<html lang="{locale}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text['banner']} · {text['title']}</title><style>{PAGE_STYLE}</style></head>
<body><div class="sandbox" role="banner">SANDBOX — nessun addebito reale / no real charge</div>
<main><h1>{text['title']}</h1><p><strong>{text['banner']}.</strong> {text['banner_note']}</p>
<dl>{facts}</dl>{action}</main></body></html>"""
            return self.send(200, page, "text/html; charset=utf-8")

        def decide(self, payment_id, raw):
            form = urllib.parse.parse_qs(raw.decode(errors="replace"))
            action = (form.get("action") or [""])[0]
            if action not in ("approve", "decline", "cancel"):
                return self.json(400, {"error": "action must be approve, decline or cancel"})
            with store.lock:
                payment = store.payments.get(payment_id)
                if not payment:
                    return self.json(404, {"error": "no such payment"})
                if payment["status"] == "pending":
                    if action == "approve":
                        try:
                            charged = int((form.get("amount_cents") or [payment["amount_cents"]])[0])
                        except ValueError:
                            charged = payment["amount_cents"]
                        payment["status"], payment["charged_cents"] = "succeeded", charged
                        store.notify(payment, "succeeded", amount_cents=charged)
                    elif action == "decline":
                        payment["status"] = "failed"
                        store.notify(payment, "failed", reason="declined by the tester (sandbox)")
                    else:
                        payment["status"] = "cancelled"
                        store.notify(payment, "cancelled", reason="cancelled by the customer")
                    log(f"payment {payment_id}: {payment['status']}")
                target = payment["return_url"]
            return self.send(303, "", "text/plain", {"Location": target})

        def refund(self, payment_id):
            with store.lock:
                payment = store.payments.get(payment_id)
                if not payment:
                    return self.json(404, {"error": "no such payment"})
                if payment["status"] != "succeeded":
                    return self.json(409, {"error": f"a {payment['status']} payment cannot be refunded"})
                payment["status"] = "refunded"
                store.notify(payment, "refunded", amount_cents=payment["charged_cents"], reason="refunded (sandbox)")
            log(f"payment {payment_id}: refunded")
            return self.json(202, {"id": payment_id, "status": "refunded"})

    return Handler


def main():
    parser = argparse.ArgumentParser(description="Sandbox payment service provider: nothing is ever charged.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--public-url", help="base URL of the hosted pages (default http://HOST:PORT)")
    parser.add_argument("--secret-env", default="SPORTELLO_PSP_SECRET",
                        help="environment variable holding the shared signing secret")
    parser.add_argument("--replay-window", type=int, default=300, help="seconds a signed request stays valid")
    parser.add_argument("--retry-delays", default="2,5,15,30,60,300,900,3600",
                        help="comma-separated seconds between delivery attempts of a notification")
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for the portal's answer")
    args = parser.parse_args()
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        sys.exit(f"sandbox_psp: set {args.secret_env} to the secret shared with the portal")
    delays = [float(value) for value in args.retry_delays.split(",") if value.strip()]
    store = Store()
    signer = Signer(secret, args.replay_window)
    public_url = (args.public_url or f"http://{args.host}:{args.port}").rstrip("/")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(store, signer, public_url))
    server.daemon_threads = True
    Deliverer(store, signer, delays, args.timeout).start()

    def stop(*_):
        with store.lock:
            store.stopping = True
            store.lock.notify_all()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"sandbox PSP (SANDBOX — no real charge) on {public_url}; notifications retried after {delays}")
    server.serve_forever()


if __name__ == "__main__":
    main()
