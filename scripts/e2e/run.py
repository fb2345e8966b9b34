#!/usr/bin/env python3
"""Browser end-to-end and accessibility tests of every tenant's portal, in a real headless Chromium.

Started by scripts/test after the Swift tests (or alone by scripts/e2e/run.sh). It:
  1. fills a fresh temporary SQLite database with `sportello demo` and imports one new customer per tenant whose
     registration verifies against (or invites to) an existing customer;
  2. starts `sportello serve` on a free port, e-mail going to the SMTP sink of scripts/smtp_sink.py;
  3. for each tenant, registers through that tenant's own flow (links and codes read from the captured mail), logs in
     through the login page, opens the dashboard and two sections from the navigation, and saves a screenshot of each;
  4. runs axe-core (WCAG 2.1 A and AA) on the login, dashboard, /invoices and /usage pages (the sections' pages where
     a tenant has no usage feature), every other section in the navigation and every page a section links to (the
     providers' own pages: products, self-service, offers, assistance, hosting, domains, help…), as demo users whose
     role grants them;
  5. stops the server and cleans up. Any failure or accessibility violation fails the run (exit status 1).

Needs SPORTELLO_TEST_SMTP_PORT and SPORTELLO_TEST_SMTP_SPOOL (start_smtp_sink) and SPORTELLO_E2E_CHROMIUM,
SPORTELLO_E2E_CHROMEDRIVER (start_browser_tools, scripts/lib/services.sh). Screenshots and axe reports go to
$SPORTELLO_E2E_ARTIFACTS (default artifacts/e2e), one folder per tenant.
"""
import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from urllib.parse import urlsplit

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import identifiers  # noqa: E402
from browser import WCAG_TAGS, Accessibility, Page, PageProblem, brief_violations, describe_violations, start_chromium  # noqa: E402
from journeys import Journeys, fresh_customers  # noqa: E402
from mailbox import Mailbox  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TENANTS = ["unidata", "unogas", "tunda", "windtre", "tim", "vela"]
DEMO_PASSWORD = "Sportello2026!"
# The demo user whose pages are checked for accessibility: the tenant's widest role (checked with `sportello explain`).
DEMO_ROLE = {"unidata": "referente_amministratore", "unogas": "cliente", "tunda": "main_account",
             "windtre": "user_admin", "tim": "rappresentante_legale", "vela": "contraente"}


def log(message=""):
    print(message, flush=True)


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Context:
    def __init__(self, options, workdir):
        self.options = options
        self.workdir = workdir
        self.binary = os.path.abspath(options.binary)
        self.database = os.path.join(workdir, "portal.sqlite")
        self.port = free_port()
        self.token = secrets.token_hex(3)
        self.artifacts = os.path.abspath(options.artifacts)
        self.mailbox = Mailbox(os.environ["SPORTELLO_TEST_SMTP_SPOOL"])
        self.groups_file = os.path.join(workdir, "pgids")
        self.server = None
        self.server_log = os.path.join(workdir, "server.log")
        self.driver = None
        self.page = None
        self.axe = None
        self.axe_version = "?"
        self.accessibility = {}      # tenant → [(page label, url, violations, incomplete count)]
        self.failures = []           # (tenant, what, message)

    # --- processes -------------------------------------------------------------------------------------------
    def register_group(self, pgid):
        with open(self.groups_file, "a") as handle:
            handle.write("%d\n" % pgid)

    def sportello(self, arguments, check=True):
        environment = dict(os.environ)
        environment.pop("DATABASE_URL", None)
        result = subprocess.run([self.binary] + arguments, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise Failure("sportello %s exited with %d:\n%s%s" % (" ".join(arguments), result.returncode, result.stdout, result.stderr))
        return result.stdout + result.stderr

    def start_server(self):
        environment = dict(os.environ)
        environment.pop("DATABASE_URL", None)
        environment["SPORTELLO_SMTP_URL"] = "smtp://127.0.0.1:%s" % os.environ["SPORTELLO_TEST_SMTP_PORT"]
        command = [self.binary, "serve", "--database", self.database, "--port", str(self.port), "--hostname", "127.0.0.1",
                   "--templates", os.path.join(ROOT, "templates"), "--password-cost", "4"]
        self.server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=open(self.server_log, "w"),
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.register_group(self.server.pid)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise Failure("sportello serve exited with %d before answering /health:\n%s" % (self.server.returncode, self.server_output()))
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise Failure("sportello serve did not answer /health within 90 s:\n%s" % self.server_output())

    def server_output(self, tail=60):
        try:
            with open(self.server_log, encoding="utf-8", errors="replace") as handle:
                return "".join(handle.readlines()[-tail:])
        except OSError:
            return "(no server log)"

    def stop(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception as error:
                log("   (closing Chromium: %s)" % error)
            self.driver = None
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()

    # --- helpers for journeys --------------------------------------------------------------------------------
    def base(self, tenant):
        return "http://%s.localhost:%d" % (tenant, self.port)

    def shot(self, tenant, name):
        return os.path.join(self.artifacts, tenant, name + ".png")

    def soft_failure(self, tenant, what, message):
        """A failure that does not stop the journey (the rest is still worth running); it fails the run all the same."""
        self.failures.append((tenant, what, message))
        log("   FAIL %-8s %s: %s" % (tenant, what, message))

    def check_accessibility(self, tenant, label):
        """axe-core on the page now shown; violations are recorded (and fail the run at the end)."""
        violations, incomplete, passes = self.axe.check()
        url = self.page.driver.current_url
        self.accessibility.setdefault(tenant, []).append({"page": label, "url": url, "violations": violations,
                                                          "incomplete": [i["id"] for i in incomplete], "passes": passes})
        state = "%d violation(s)" % len(violations) if violations else "no violations"
        log("   axe  %-8s %-34s %s (%d rules passed%s)" % (tenant, label, state, passes,
                                                           ", needs review: %s" % ", ".join(i["id"] for i in incomplete) if incomplete else ""))
        if violations:
            log(brief_violations(violations))


def demo_logins(output):
    """Parses the logins `sportello demo` prints: '  Name — http://host:8080/' then '    role (type)   username'."""
    logins, tenant = {}, None
    for line in output.splitlines():
        host = re.search(r"http://([a-z0-9-]+)\.localhost", line)
        if host:
            tenant = host.group(1)
            continue
        row = re.match(r"^\s{4}(\S+) \((\S+)\)\s+(\S+)\s*$", line)
        if row and tenant:
            logins.setdefault(tenant, []).append({"role": row.group(1), "customer_type": row.group(2), "username": row.group(3)})
    return logins


def allowed(ctx, tenant, role, customer_type, feature):
    """True/False from `sportello explain`, None when the tenant has no such feature."""
    result = subprocess.run([ctx.binary, "explain", "--tenant", tenant, "--role", role, "--customer-type", customer_type,
                             "--feature", feature], cwd=ROOT, capture_output=True, text=True)
    text = result.stdout + result.stderr
    if result.returncode != 0:
        if "unknown feature" in text or "no feature" in text:
            return None
        raise Failure("sportello explain failed for %s %s %s: %s" % (tenant, role, feature, text))
    verdict = re.search(r"'%s':\s*(ALLOWED|DENIED)" % re.escape(feature), text)
    if verdict is None:
        raise Failure("sportello explain gave no verdict for %s %s %s: %s" % (tenant, role, feature, text))
    return verdict.group(1) == "ALLOWED"


def prepare_data(ctx):
    started = time.monotonic()
    printed = ctx.sportello(["demo", "--database", ctx.database, "--cost", "4"])
    logins = demo_logins(printed)
    if "password for all: %s" % DEMO_PASSWORD not in printed:
        raise Failure("sportello demo no longer prints the password %s for its logins:\n%s" % (DEMO_PASSWORD, printed))
    missing = [t for t in TENANTS if t not in logins]
    if missing:
        raise Failure("sportello demo printed no logins for %s:\n%s" % (", ".join(missing), printed))
    customers = fresh_customers(ctx.token, random.randrange(1_000_000, 8_000_000))
    facts = {}
    for tenant, (records, tenant_facts) in customers.items():
        path = os.path.join(ctx.workdir, "%s.jsonl" % tenant)
        with open(path, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
        ctx.sportello(["import", "--tenant", tenant, "--database", ctx.database, path])
        facts[tenant] = tenant_facts
    log("   demo data and %d new customers in %s (%.1f s)" % (len(customers), ctx.database, time.monotonic() - started))
    return logins, facts


def accessibility_pass(ctx, tenant, logins):
    """Login page, then as the demo user: dashboard, /invoices, /usage, every section in the navigation and every
    page a section links to."""
    page = ctx.page
    page.open(ctx.base(tenant) + "/login")
    ctx.check_accessibility(tenant, "login")
    # Every tenant has a password recovery flow; a customer finds it on the login page.
    offered = [urlsplit(a.get_attribute("href") or "").path for a in page.find_all("main a")]
    if "/access/password_recovery" not in offered:
        ctx.soft_failure(tenant, "login page", "the login page offers no link to the password recovery flow /access/password_recovery "
                         "(links in <main>: %s)" % (offered or "none"))
    role = DEMO_ROLE[tenant]
    candidates = [l for l in logins[tenant] if l["role"] == role] or logins[tenant]
    user = candidates[0]
    pages = [("dashboard", "/")]
    for feature, path in (("invoices.view", "/invoices"), ("usage.view", "/usage")):
        verdict = allowed(ctx, tenant, user["role"], user["customer_type"], feature)
        if verdict is None:
            log("   axe  %-8s %-34s %s has no %s feature: its section pages are checked instead" % (tenant, path, tenant, feature))
        elif not verdict:
            raise Failure("%s: the demo user %s (%s) is not granted %s; pick a role that is" % (tenant, user["username"], user["role"], feature))
        else:
            pages.append((path.strip("/"), path))
    journeys = Journeys(ctx)
    journeys.log_in(tenant, user["username"], DEMO_PASSWORD)
    sections = [urlsplit(a.get_attribute("href")).path for a in page.find_all("nav.main-nav a")]
    for path in sections:
        if path != "/" and path not in [p for _, p in pages]:
            pages.append(("section " + path, path))
    # The pages each section links to (the provider's own sections: products, offers, hosting, help…).
    for path in [p for label, p in pages if label.startswith("section ")]:
        page.open(ctx.base(tenant) + path)
        for link in page.find_all("main a"):
            target = urlsplit(link.get_attribute("href") or "")
            if target.netloc not in ("", urlsplit(ctx.base(tenant)).netloc) or not target.path.startswith("/"):
                continue
            if target.path.startswith("/sections/") or target.path in [p for _, p in pages]:
                continue
            pages.append(("page " + target.path, target.path))
    problems = []
    for label, path in pages:
        try:
            page.open(ctx.base(tenant) + path)
        except PageProblem as problem:
            problems.append(str(problem))
            log("   axe  %-8s %-34s NOT CHECKED: %s" % (tenant, label, problem))
            continue
        ctx.check_accessibility(tenant, "%s (%s)" % (label, user["role"]))
    journeys.log_out(tenant)
    if problems:
        raise PageProblem("%s: %d page(s) could not be checked:\n   %s" % (tenant, len(problems), "\n   ".join(problems)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "sportello"))
    parser.add_argument("--artifacts", default=os.environ.get("SPORTELLO_E2E_ARTIFACTS", os.path.join(ROOT, "artifacts", "e2e")))
    parser.add_argument("--tenant", action="append", choices=TENANTS, help="only these tenants (repeatable; default: all)")
    options = parser.parse_args()
    tenants = options.tenant or TENANTS

    # The sandbox PSP: Tunda's journey pays a pro-forma on its hosted page (the portal reads the same two variables).
    needed = ["SPORTELLO_TEST_SMTP_PORT", "SPORTELLO_TEST_SMTP_SPOOL", "SPORTELLO_E2E_CHROMIUM", "SPORTELLO_E2E_CHROMEDRIVER",
              "SPORTELLO_PSP_URL", "SPORTELLO_PSP_SECRET"]
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        log("error: %s not set: run through scripts/test or scripts/e2e/run.sh (start_smtp_sink, start_sandbox_psp and "
            "start_browser_tools in scripts/lib/services.sh)" % ", ".join(missing))
        return 2
    if not os.access(options.binary, os.X_OK):
        log("error: %s is not built: swift build --product sportello" % options.binary)
        return 2
    identifiers.self_check()

    own_workdir = not os.environ.get("SPORTELLO_E2E_WORKDIR")
    workdir = tempfile.mkdtemp(prefix="sportello-e2e.") if own_workdir else os.environ["SPORTELLO_E2E_WORKDIR"]
    ctx = Context(options, workdir)
    # SIGTERM (a CI timeout, the clean-up trap) ends the run through the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    results = {}
    try:
        for tenant in tenants:
            shutil.rmtree(os.path.join(ctx.artifacts, tenant), ignore_errors=True)
        logins, facts = prepare_data(ctx)
        ctx.start_server()
        log("   sportello serve on 127.0.0.1:%d (e-mail to the SMTP sink on port %s)" % (ctx.port, os.environ["SPORTELLO_TEST_SMTP_PORT"]))
        ctx.driver = start_chromium(os.environ["SPORTELLO_E2E_CHROMIUM"], os.environ["SPORTELLO_E2E_CHROMEDRIVER"],
                                    os.path.join(workdir, "chromedriver.log"), ctx.register_group)
        ctx.page = Page(ctx.driver)
        ctx.axe = Accessibility(ctx.driver)
        ctx.axe_version = ctx.axe.version()
        log("   %s %s, axe-core %s (tags %s)" % (ctx.driver.capabilities.get("browserName"), ctx.driver.capabilities.get("browserVersion"),
                                                ctx.axe_version, ", ".join(WCAG_TAGS)))
        journeys = Journeys(ctx)
        for tenant in tenants:
            for stage, action in (("registration journey", lambda: getattr(journeys, tenant)(facts.get(tenant, {}))),
                                  ("accessibility pages", lambda: accessibility_pass(ctx, tenant, logins))):
                stage_started = time.monotonic()
                try:
                    outcome = action()
                    results[(tenant, stage)] = "ran"
                    log("   ok   %-8s %s%s (%.1f s)" % (tenant, stage, ": " + outcome if outcome else "", time.monotonic() - stage_started))
                except Exception as problem:  # one tenant's failure must not hide the others'
                    results[(tenant, stage)] = "FAILED"
                    if isinstance(problem, (PageProblem, Failure, AssertionError)):
                        message = str(problem)
                    else:  # a browser or runner error: where it happened, without chromedriver's native stack
                        message = "%s: %s\n%s" % (type(problem).__name__, str(problem).split("Stacktrace:")[0].strip(),
                                                 "".join(traceback.format_tb(problem.__traceback__)[-3:]))
                    ctx.failures.append((tenant, stage, message))
                    log("   FAIL %-8s %s: %s" % (tenant, stage, message))
                    try:
                        path = ctx.page.screenshot(ctx.shot(tenant, "failure-" + stage.split()[0]))
                        log("        screenshot of the failure: %s" % path)
                    except Exception as error:
                        log("        (no failure screenshot: %s)" % error)
                    try:
                        ctx.driver.delete_all_cookies()
                    except Exception:
                        pass
    except Failure as problem:
        ctx.failures.append(("-", "set-up", str(problem)))
        log("   FAIL set-up: %s" % problem)
    except Exception:
        ctx.failures.append(("-", "runner", traceback.format_exc()))
        log("   FAIL the runner itself:\n%s" % traceback.format_exc())
    finally:
        ctx.stop()
        os.makedirs(ctx.artifacts, exist_ok=True)
        if os.path.exists(ctx.server_log):
            shutil.copy(ctx.server_log, os.path.join(ctx.artifacts, "server.log"))
        for tenant, checks in ctx.accessibility.items():
            os.makedirs(os.path.join(ctx.artifacts, tenant), exist_ok=True)
            with open(os.path.join(ctx.artifacts, tenant, "axe.json"), "w", encoding="utf-8") as handle:
                json.dump(checks, handle, indent=1, ensure_ascii=False)
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    violations = [(tenant, check) for tenant, checks in ctx.accessibility.items() for check in checks if check["violations"]]
    checked = sum(len(checks) for checks in ctx.accessibility.values())
    log()
    log("== browser summary (%.0f s; screenshots and axe reports in %s)" % (time.monotonic() - started, ctx.artifacts))
    for tenant in tenants:
        stages = ", ".join("%s %s" % (stage, results.get((tenant, stage), "not run"))
                           for stage in ("registration journey", "accessibility pages"))
        others = [what for name, what, _ in ctx.failures if name == tenant and what not in ("registration journey", "accessibility pages")]
        pages = ctx.accessibility.get(tenant, [])
        bad = sum(1 for p in pages if p["violations"])
        verdict = "passed" if not bad and pages and all(results.get((tenant, stage)) == "ran" for stage in
                                                          ("registration journey", "accessibility pages")) and not others else "FAILED"
        log("   %-8s %-6s %s%s; axe: %d page(s) checked, %d with violations" % (
            tenant, verdict, stages, "".join("; %s FAILED" % what for what in sorted(set(others))), len(pages), bad))
    if violations:
        log()
        log("== accessibility violations (WCAG 2.1 A/AA, axe-core %s; every result in <artifacts>/<tenant>/axe.json)" % ctx.axe_version)
        for tenant in tenants:
            checks = [check for check in ctx.accessibility.get(tenant, []) if check["violations"]]
            if checks:
                log("%s (%s)" % (tenant, ctx.base(tenant)))
                log(describe_violations(checks))
    if ctx.failures:
        log()
        log("== failures")
        for tenant, stage, message in ctx.failures:
            log("%s — %s:\n   %s" % (tenant, stage, message.replace("\n", "\n   ")))
        if any(stage in ("set-up", "runner") for _, stage, _ in ctx.failures) or any("HTTP 5" in m for _, _, m in ctx.failures):
            log("\n-- last lines of the server log --\n%s" % ctx.server_output())
    if ctx.failures or violations:
        log("browser tests FAILED: %d failure(s), %d page(s) with accessibility violations (of %d checked)"
            % (len(ctx.failures), len(violations), checked))
        return 1
    if checked == 0:
        log("browser tests FAILED: no page was checked")
        return 1
    log("browser tests passed: %d tenant(s), %d page(s) accessible" % (len(tenants), checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
