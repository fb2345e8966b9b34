#!/usr/bin/env python3
"""The sandbox lookup service: a real HTTP server, standard library only, that answers the portal's four lookup
operations (plugins/sandbox_domains.yaml, sandbox_line_diagnosis.yaml, sandbox_option_compatibility.yaml,
sandbox_crm.yaml) with deterministic SANDBOX data. Nothing it says is true of any real registry, network or CRM:
every answer carries "sandbox": true and the portal shows it as "prova"/"sandbox".

  POST [/s/<scope>]/domain_availability     {domain, locale} -> {domain, available, reason, sandbox}
  POST [/s/<scope>]/line_diagnosis          {line, customer_code, locale} -> {line, outcome, summary, checks, reference, sandbox}
  POST [/s/<scope>]/option_compatibility    {option, lines (1..10), locale} -> {option, results: [{line, compatible, reason}], sandbox}
  POST [/s/<scope>]/customer_verification   {fields: {...}, locale} -> {match, customer, sandbox}
  POST /_control/<scope>                    tests: {"mode": "ok" | "fail" | "slow", "delay": seconds} for that scope
  GET  /_stats/<scope>                      tests: {"requests": n, "by_operation": {...}} received in that scope
  GET  /health                              "ok"

Scopes let tests running at the same time each have their own service: a manifest endpoint
http://host:port/s/<scope> sends every question to that scope; without /s/<scope> the scope is "default".
Mode "fail" answers 503 to every question, "slow" waits `delay` seconds (default 5) before answering.
A question is counted in the stats before anything else (also when it fails), so tests can see whether the
portal called at all.

Signatures: every question must carry "Sportello-Timestamp: <unix seconds>" and "Sportello-Signature: sha256=<hex>",
HMAC-SHA256 keyed with the shared secret (the environment variable named by --secret-env, default
SPORTELLO_LOOKUP_SECRET) over "<timestamp>.<body>"; a timestamp farther than --replay-window seconds from this
server's clock, or a wrong signature, is refused with 401.

Sandbox data (deterministic, documented so tests and demos can rely on it):
- Domains: a name is registered when its label (the part before the first dot) is in REGISTERED_LABELS (well-known
  names: google, amazon, tim, tunda...) or starts with "taken-"; it is reserved when the label starts with
  "reserved-". Everything else is free.
- Line diagnosis, by the last digit of the line number: 0-5 every test passes (ok); 6-7 noise on the line, reduced
  speed (warning); 8-9 no synchronisation with the exchange (fault). A line without digits is a fault ("unknown line").
- Option compatibility, per line: a line whose number ends in 9 is incompatible with every option (its plan does
  not allow options); a line ending in 8 is incompatible with options whose name contains "roaming" (roaming barred).
  Every other line is compatible.
- CRM: the customers in CRM_CUSTOMERS. A verification matches when every field the portal sends equals the record's,
  compared ignoring case, spaces, dots and dashes; "tax_id" matches the tax code or the VAT number; "names" is not
  sent (the portal sends first_name/last_name or company_name). An empty field never matches.

The state (modes and counters) lives in memory. It stops on SIGTERM or SIGINT.
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGISTERED_LABELS = {
    "google", "youtube", "gmail", "facebook", "instagram", "whatsapp", "amazon", "apple", "microsoft", "bing", "yahoo",
    "wikipedia", "twitter", "linkedin", "netflix", "tiktok", "paypal", "ebay", "booking", "zalando", "spotify",
    "repubblica", "corriere", "gazzetta", "ilsole24ore", "ansa", "rai", "mediaset", "poste", "posteitaliane", "inps",
    "agenziaentrate", "governo", "tim", "telecomitalia", "windtre", "wind", "vodafone", "iliad", "fastweb", "enel", "eni",
    "aruba", "register", "tunda", "unidata", "unogas", "unicredit", "intesasanpaolo", "trenitalia", "italo", "alitalia",
    "ita-airways",
}

# The sandbox CRM (customer_verification). Codes start with SBX so they are never mistaken for real ones.
CRM_CUSTOMERS = [
    {"code": "SBX-100200", "kind": "person", "first_name": "Maria", "last_name": "Sandbox", "tax_code": "SNDMRA80A41H501U",
     "email": "maria.sandbox@example.com", "phone": "3331234567"},
    {"code": "SBX-300400", "kind": "business", "company_name": "Prova Sandbox SRL", "vat_number": "01234567897",
     "tax_code": "01234567897", "email": "amministrazione@prova-sandbox.example.com", "phone": "0612345678"},
]

TEXTS = {
    "it": {
        "summary_ok": "Test di prova (sandbox) superati: la linea risponde regolarmente.",
        "summary_warning": "Test di prova (sandbox): la linea funziona ma con disturbi.",
        "summary_fault": "Test di prova (sandbox): la linea non si sincronizza con la centrale.",
        "sync": "Sincronizzazione con la centrale", "noise": "Qualità della linea", "dial": "Tono di linea",
        "sync_ok": "La linea è agganciata alla centrale.", "sync_fault": "La linea non si aggancia alla centrale.",
        "noise_ok": "Nessun disturbo rilevato.", "noise_warning": "Disturbi sulla linea: velocità ridotta.",
        "dial_ok": "Tono di linea presente.", "dial_fault": "Tono di linea assente.",
        "unknown": "Linea sconosciuta al sistema di prova.",
        "plan": "Il piano tariffario della linea non consente opzioni aggiuntive (prova).",
        "roaming": "Roaming bloccato sulla linea: l'opzione non è attivabile (prova).",
    },
    "en": {
        "summary_ok": "Sandbox tests passed: the line answers normally.",
        "summary_warning": "Sandbox tests: the line works, with noise.",
        "summary_fault": "Sandbox tests: the line does not synchronise with the exchange.",
        "sync": "Synchronisation with the exchange", "noise": "Line quality", "dial": "Dial tone",
        "sync_ok": "The line is synchronised with the exchange.", "sync_fault": "The line does not synchronise with the exchange.",
        "noise_ok": "No noise detected.", "noise_warning": "Noise on the line: reduced speed.",
        "dial_ok": "Dial tone present.", "dial_fault": "No dial tone.",
        "unknown": "Line unknown to the sandbox system.",
        "plan": "The line's plan does not allow additional options (sandbox).",
        "roaming": "Roaming is barred on the line: the option cannot be activated (sandbox).",
    },
}

OPERATIONS = ("domain_availability", "line_diagnosis", "option_compatibility", "customer_verification")


def texts(locale):
    return TEXTS.get((locale or "it")[:2], TEXTS["it"])


def domain_availability(body):
    domain = str(body.get("domain", "")).strip().lower()
    label = domain.split(".", 1)[0]
    if label in REGISTERED_LABELS or label.startswith("taken-"):
        return {"domain": domain, "available": False, "reason": "registered"}
    if label.startswith("reserved-"):
        return {"domain": domain, "available": False, "reason": "reserved"}
    return {"domain": domain, "available": True, "reason": None}


def line_diagnosis(body):
    line = str(body.get("line", ""))
    t = texts(body.get("locale"))
    digits = re.sub(r"\D", "", line)
    reference = "SBX-DIAG-" + hashlib.sha256(line.encode()).hexdigest()[:8].upper()
    if not digits:
        checks = [{"code": "line", "outcome": "fault", "name": t["sync"], "detail": t["unknown"]}]
        return {"line": line, "outcome": "fault", "summary": t["unknown"], "checks": checks, "reference": reference}
    last = int(digits[-1])
    if last <= 5:
        outcome, checks = "ok", [("sync", "ok"), ("noise", "ok"), ("dial", "ok")]
    elif last <= 7:
        outcome, checks = "warning", [("sync", "ok"), ("noise", "warning"), ("dial", "ok")]
    else:
        outcome, checks = "fault", [("sync", "fault"), ("dial", "fault")]
    return {
        "line": line, "outcome": outcome, "summary": t["summary_" + outcome], "reference": reference,
        "checks": [{"code": code, "outcome": result, "name": t[code], "detail": t[code + "_" + result]} for code, result in checks],
    }


def option_compatibility(body):
    option = str(body.get("option", ""))
    lines = body.get("lines") or []
    if not isinstance(lines, list) or not 1 <= len(lines) <= 10:
        raise ValueError("lines: one to ten numbers")
    t = texts(body.get("locale"))
    results = []
    for line in lines:
        digits = re.sub(r"\D", "", str(line))
        if digits.endswith("9"):
            results.append({"line": line, "compatible": False, "reason": t["plan"]})
        elif digits.endswith("8") and "roaming" in option.lower():
            results.append({"line": line, "compatible": False, "reason": t["roaming"]})
        else:
            results.append({"line": line, "compatible": True, "reason": None})
    return {"option": option, "results": results}


def _same(a, b):
    def clean(value):
        return re.sub(r"[\s.\-]", "", str(value or "")).lower()
    return clean(a) != "" and clean(a) == clean(b)


def customer_verification(body):
    fields = body.get("fields") or {}
    if not isinstance(fields, dict) or not fields:
        raise ValueError("fields: at least one")
    for customer in CRM_CUSTOMERS:
        def field_matches(name, value):
            if name == "tax_id":
                return _same(value, customer.get("tax_code")) or _same(value, customer.get("vat_number"))
            if name == "customer_code":
                return _same(value, customer["code"])
            return _same(value, customer.get(name))
        if all(field_matches(name, value) for name, value in fields.items()):
            return {"match": True, "customer": customer}
    return {"match": False, "customer": None}


HANDLERS = {
    "domain_availability": domain_availability,
    "line_diagnosis": line_diagnosis,
    "option_compatibility": option_compatibility,
    "customer_verification": customer_verification,
}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.modes = {}      # scope -> {"mode", "delay"}
        self.counts = {}     # scope -> {operation: n}

    def count(self, scope, operation):
        with self.lock:
            per = self.counts.setdefault(scope, {})
            per[operation] = per.get(operation, 0) + 1

    def mode(self, scope):
        with self.lock:
            return dict(self.modes.get(scope, {"mode": "ok", "delay": 0}))


class Handler(BaseHTTPRequestHandler):
    server_version = "SportelloSandboxLookup/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), fmt % args))

    def answer(self, status, payload):
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the portal gave up waiting (a timeout test)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        state = self.server.state
        if self.path == "/health":
            return self.answer(200, "ok")
        match = re.fullmatch(r"/_stats/([A-Za-z0-9_-]{1,80})", self.path)
        if match:
            with state.lock:
                per = dict(state.counts.get(match.group(1), {}))
            return self.answer(200, {"requests": sum(per.values()), "by_operation": per})
        self.answer(404, {"error": "not_found"})

    def do_POST(self):
        state = self.server.state
        raw = self.body()
        match = re.fullmatch(r"/_control/([A-Za-z0-9_-]{1,80})", self.path)
        if match:
            try:
                control = json.loads(raw or b"{}")
                mode = control.get("mode", "ok")
                if mode not in ("ok", "fail", "slow"):
                    raise ValueError(mode)
                with state.lock:
                    state.modes[match.group(1)] = {"mode": mode, "delay": float(control.get("delay", 5))}
            except (ValueError, AttributeError):
                return self.answer(400, {"error": "mode must be ok, fail or slow"})
            return self.answer(200, {"scope": match.group(1), "mode": mode})
        match = re.fullmatch(r"(?:/s/([A-Za-z0-9_-]{1,80}))?/([a-z_]+)", self.path)
        if not match or match.group(2) not in HANDLERS:
            return self.answer(404, {"error": "not_found"})
        scope, operation = match.group(1) or "default", match.group(2)
        state.count(scope, operation)
        refusal = self.refusal(raw)
        if refusal:
            return self.answer(401, {"error": refusal})
        mode = state.mode(scope)
        if mode["mode"] == "fail":
            return self.answer(503, {"error": "sandbox service told to fail"})
        if mode["mode"] == "slow":
            time.sleep(mode["delay"])
        try:
            question = json.loads(raw)
            result = HANDLERS[operation](question)
        except (ValueError, AttributeError, TypeError) as error:
            return self.answer(400, {"error": "invalid_request", "detail": str(error)})
        result["sandbox"] = True
        self.answer(200, result)

    def refusal(self, raw):
        timestamp = self.headers.get("Sportello-Timestamp", "").strip()
        signature = self.headers.get("Sportello-Signature", "").strip()
        if not timestamp or not signature:
            return "missing_signature"
        if not timestamp.isdigit() or not signature.startswith("sha256="):
            return "malformed_signature"
        if abs(time.time() - int(timestamp)) > self.server.replay_window:
            return "stale_signature"
        expected = hmac.new(self.server.secret, timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature[len("sha256="):].lower()):
            return "bad_signature"
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--secret-env", default="SPORTELLO_LOOKUP_SECRET")
    parser.add_argument("--replay-window", type=int, default=300)
    args = parser.parse_args()
    secret = os.environ.get(args.secret_env, "")
    if not secret:
        sys.exit(f"{args.secret_env} is not set: the shared secret signs every question")
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State()
    server.secret = secret.encode()
    server.replay_window = args.replay_window

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"sandbox lookup service (SANDBOX data) on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
