"""Headless Chromium through Selenium (Debian's chromium and chromedriver), with the document's HTTP status
read from Chromium's performance log and axe-core (from selenium-axe-python) for accessibility."""
import json
import os
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class PageProblem(AssertionError):
    """A page did not behave as the journey expects; the message says what was seen."""


def start_chromium(chromium, chromedriver, log_path, register_group):
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    # Root needs --no-sandbox; --headless=new is the real browser without a window.
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000",
                     "--lang=it-IT", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                     "--disable-sync", "--disable-component-update", "--metrics-recording-only", "--password-store=basic"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # Its own session (process group), so the clean-up in scripts/lib/services.sh can end chromedriver and Chromium together.
    service = Service(executable_path=chromedriver, log_output=log_path, popen_kw={"start_new_session": True})
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download a browser or driver
    driver = webdriver.Chrome(service=service, options=options)
    register_group(service.process.pid)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    return driver


class Page:
    """One browser tab driven like a person would: open, fill, click, read; every step checks the HTTP status."""

    def __init__(self, driver):
        self.driver = driver

    # --- navigation and status -------------------------------------------------------------------------------
    def _drain(self):
        self.driver.get_log("performance")

    def _document_status(self):
        """The status of the last top-level document response (redirects are followed, so the final page's)."""
        status = None
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.responseReceived" and message["params"].get("type") == "Document":
                response = message["params"]["response"]
                status = (response.get("status"), response.get("url"))
        return status

    def open(self, url, expect=200):
        self._drain()
        self.driver.get(url)
        return self._check_status(expect, "GET %s" % url)

    def _check_status(self, expect, what):
        status = self._document_status()
        if status is None:
            raise PageProblem("%s: Chromium recorded no document response (now at %s)" % (what, self.driver.current_url))
        if expect is not None and status[0] != expect:
            raise PageProblem("%s: HTTP %s at %s, expected %s; the page says: %s"
                              % (what, status[0], status[1], expect, self.summary()))
        return status[0]

    def click_and_wait(self, element, expect=200, what="click"):
        """Clicks something that loads a new page, waits for it, and checks its status."""
        self._drain()
        # A mark on the current document's window: gone once another document has loaded.
        self.driver.execute_script("window.__sportelloE2E = true;")
        element.click()

        def loaded(driver):
            try:
                return driver.execute_script("return !window.__sportelloE2E && document.readyState === 'complete'")
            except WebDriverException:
                return False  # asked while the old document was being replaced; ask again
        try:
            WebDriverWait(self.driver, 30, poll_frequency=0.05).until(loaded)
        except TimeoutException:
            raise PageProblem("%s: no new page loaded within 30 s (still at %s); the page says: %s"
                              % (what, self.driver.current_url, self.summary()))
        return self._check_status(expect, what)

    def submit(self, expect=200, what="submit"):
        """Clicks the main form's primary button (the one a user would press)."""
        buttons = self.driver.find_elements(By.CSS_SELECTOR, "main form button[type=submit].primary")
        if not buttons:
            raise PageProblem("%s: no primary submit button on %s; the page says: %s" % (what, self.driver.current_url, self.summary()))
        return self.click_and_wait(buttons[0], expect=expect, what=what)

    # --- reading ---------------------------------------------------------------------------------------------
    def find(self, css):
        try:
            return self.driver.find_element(By.CSS_SELECTOR, css)
        except NoSuchElementException:
            raise PageProblem("no element %r on %s; the page says: %s" % (css, self.driver.current_url, self.summary()))

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css="main"):
        return self.find(css).text

    def heading(self):
        found = self.find_all("h1")
        return found[0].text if found else ""

    def errors(self):
        return [e.text for e in self.find_all(".form-error, .field-error") if e.text.strip()]

    def summary(self):
        """A short account of the page for failure messages: path, title, heading and any form errors."""
        try:
            errors = self.errors()
            return "%s — title %r, heading %r%s" % (self.driver.current_url, self.driver.title, self.heading(),
                                                    ", errors: %s" % " | ".join(errors) if errors else "")
        except Exception as error:  # the summary must never hide the original problem
            return "%s (could not read the page: %s)" % (self.driver.current_url, error)

    def expect_text(self, needle, css="main", what=None):
        body = self.text(css)
        if needle.lower() not in body.lower():
            raise PageProblem("%s: expected %r in %s; the page says: %s\n%s"
                              % (what or "page", needle, css, self.summary(), body[:800]))

    def expect_no_errors(self, what):
        errors = self.errors()
        if errors:
            raise PageProblem("%s: the form reported errors: %s (at %s)" % (what, " | ".join(errors), self.driver.current_url))

    # --- writing ---------------------------------------------------------------------------------------------
    def fill(self, fields):
        """Types each value into the named field, as a user would (date inputs get their ISO value set, the one
        thing a keyboard cannot type independently of the browser's locale)."""
        for name, value in fields.items():
            element = self.find("main form [name=%r]" % name)
            if element.get_attribute("type") == "date":
                self.driver.execute_script(
                    "arguments[0].value = arguments[1];"
                    "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                    "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", element, value)
                if element.get_attribute("value") != value:
                    raise PageProblem("the date field %r did not take %r" % (name, value))
                continue
            if element.tag_name.lower() == "select":
                Select(element).select_by_visible_text(value)
                continue
            element.clear()
            element.send_keys(value)

    def screenshot(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # The whole page, not only the window: resize to the document's height first.
        height = self.driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        self.driver.set_window_size(1280, max(800, min(int(height) + 40, 6000)))
        try:
            if not self.driver.save_screenshot(path):
                raise PageProblem("Chromium could not save the screenshot %s" % path)
        finally:
            self.driver.set_window_size(1280, 1000)
        return path


class Accessibility:
    """axe-core, as shipped by selenium-axe-python (the maintained fork of axe-selenium-python), limited to WCAG 2.1 A and AA."""

    def __init__(self, driver):
        from selenium_axe_python import Axe
        self.driver = driver
        self.axe = Axe(driver)
        with open(self.axe.script_url, encoding="utf-8") as handle:
            self.source = handle.read()

    def version(self):
        self.driver.get("about:blank")
        self.driver.execute_script(self.source)
        return self.driver.execute_script("return axe.version")

    def check(self):
        """Runs axe on the current page; returns (violations, incomplete, passes) as axe reports them."""
        self.axe.inject()
        result = self.driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations', 'incomplete']})"
            "  .then(function (r) { done({violations: r.violations, incomplete: r.incomplete, passes: r.passes.length}); })"
            "  ['catch'](function (e) { done({error: String(e && e.stack || e)}); });", WCAG_TAGS)
        if result is None or "error" in result:
            raise PageProblem("axe-core failed to run on %s: %s" % (self.driver.current_url, (result or {}).get("error")))
        return result["violations"], result["incomplete"], result["passes"]


def _node_line(node):
    target = " ".join(str(t) for t in node.get("target", []))
    summary = (node.get("failureSummary") or "").strip().split("\n")
    # axe's summary starts with "Fix any/all of the following:"; the next line is the finding itself.
    detail = summary[1].strip() if len(summary) > 1 else (summary[0] if summary else "")
    return target, detail


def brief_violations(violations):
    """One line per violated rule, for the running log."""
    lines = []
    for violation in violations:
        targets = [_node_line(node)[0] for node in violation.get("nodes", [])]
        lines.append("        [%s] %s: %d element(s), e.g. %s" % (violation.get("impact") or "?", violation["id"], len(targets),
                                                                   ", ".join(targets[:3])))
    return "\n".join(lines)


def describe_violations(checks, limit=4):
    """Every violated rule of one tenant: id, impact, help, the pages it occurs on, and its elements grouped by axe's
    finding (a few targets each, with the count); the full results are in the tenant's axe.json."""
    rules = {}
    for check in checks:
        for violation in check["violations"]:
            rule = rules.setdefault(violation["id"], {"violation": violation, "pages": [], "findings": {}})
            rule["pages"].append(check["page"])
            for node in violation.get("nodes", []):
                target, detail = _node_line(node)
                finding = rule["findings"].setdefault(detail, {})
                finding.setdefault(target, (node.get("html") or "").strip().replace("\n", " "))
    lines = []
    for rule_id, rule in rules.items():
        violation = rule["violation"]
        lines.append("  %s [%s] %s (%s)" % (rule_id, violation.get("impact") or "?", violation.get("help"),
                                            ", ".join(t for t in violation.get("tags", []) if t.startswith("wcag"))))
        lines.append("    %s" % violation.get("helpUrl"))
        lines.append("    on %d page(s): %s" % (len(rule["pages"]), ", ".join(rule["pages"])))
        for detail, targets in rule["findings"].items():
            lines.append("    * %s" % (detail or "(no finding text)"))
            for number, (target, html) in enumerate(targets.items()):
                if number == limit:
                    lines.append("        … and %d more element(s) with the same finding" % (len(targets) - limit))
                    break
                lines.append("        - %s   %s" % (target, html[:110] + ("…" if len(html) > 110 else "")))
    return "\n".join(lines)
