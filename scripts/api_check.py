#!/usr/bin/env python3
"""Checks every tenant's OpenAPI document against a running `sportello serve` with schemathesis.

For each tenant in the demo log: logs in every demo user over POST /session, keeps the bearer token of
the role that grants the most features (the top role), saves the tenant's /api/v1/openapi.json and runs
`st run` on it with that token and the tenant's Host header: every operation is called with generated
inputs and each answer's status, content type, headers and body are checked against the document, and
requests without credentials must be refused. Logging in and out are left out (they would end the
token); the time per tenant is bounded (--max-time). Exits non-zero on any failure.
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request, urllib.error

def call(base, host, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Host", host)
    if data is not None: request.add_header("Content-Type", "application/json")
    if token: request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()

def demo_logins(log):
    """{host: [usernames]} and the password, from `sportello demo`'s output."""
    password, tenants, host = None, {}, None
    for line in open(log, encoding="utf-8"):
        found = re.search(r"password for all: (.+)\)", line)
        if found: password = found.group(1)
        found = re.match(r"  \S.* — http://([^:/]+)", line)
        if found: host = found.group(1); tenants[host] = []; continue
        found = re.match(r"    \S.*\)\s+(\S+)$", line.rstrip())
        if found and host: tenants[host].append(found.group(1))
    return password, tenants

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--logins", required=True, help="the output of `sportello demo`")
    parser.add_argument("--st", required=True, help="the schemathesis `st` executable")
    parser.add_argument("--max-time", type=int, default=20, help="seconds of generated calls per tenant")
    parser.add_argument("--max-examples", type=int, default=8)
    arguments = parser.parse_args()
    base = "http://127.0.0.1:%d" % arguments.port
    password, tenants = demo_logins(arguments.logins)
    if not tenants: sys.exit("no demo logins in " + arguments.logins)
    failed, total_operations = [], 0
    work = tempfile.mkdtemp(prefix="sportello-api-check.")
    for host, usernames in tenants.items():
        best = None
        for username in usernames:
            status, body = call(base, host, "POST", "/api/v1/session", {"identifier": username, "password": password})
            if status != 201: continue
            answer = json.loads(body)
            features = len(answer["me"]["features"])
            if best is None or features > best[1]: best = (answer["token"], features, answer["me"]["role"])
        if best is None:
            failed.append(host + ": no demo login works"); continue
        status, document = call(base, host, "GET", "/api/v1/openapi.json")
        if status != 200:
            failed.append("%s: openapi.json answered %d" % (host, status)); continue
        schema = json.loads(document)
        operations = sum(len(methods) for methods in schema["paths"].values())
        total_operations += operations
        path = os.path.join(work, host + ".json")
        json.dump(schema, open(path, "w"))
        started = time.time()
        command = [arguments.st, "run", path, "--url", base + "/api/v1",
                   "-H", "Host: " + host, "-H", "Authorization: Bearer " + best[0],
                   "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                               "response_schema_conformance,response_headers_conformance,ignored_auth",
                   "--exclude-operation-id", "postSession", "--exclude-operation-id", "deleteSession",
                   "--max-examples", str(arguments.max_examples), "--max-time", str(arguments.max_time),
                   "--seed", "2026", "--no-shrink", "--workers", "2", "--continue-on-failure",
                   "--suppress-health-check", "all", "--warnings", "off"]
        run = subprocess.run(command, capture_output=True, text=True)
        summary = [line for line in run.stdout.splitlines() if re.search(r"passed|failed|error", line, re.I)][-3:]
        print("%-20s role %-18s %3d operations, %.0f s: %s" % (host, best[2], operations, time.time() - started,
                                                               " | ".join(s.strip() for s in summary)))
        # A check that failed is a mismatch between document and server; a runtime error inside schemathesis's
        # own data generation (seen once, on a TIM body schema) is reported but is not a failure of the API.
        if run.returncode != 0:
            print(run.stdout[-12000:]); print(run.stderr[-3000:])
            if "Failures:" in run.stdout or "Runtime Error" not in run.stdout:
                failed.append(host)
    print("checked %d operations on %d tenants" % (total_operations, len(tenants)))
    if failed:
        sys.exit("OpenAPI check failed: " + ", ".join(failed))

if __name__ == "__main__":
    main()
