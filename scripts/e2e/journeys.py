"""What a customer does in each tenant's portal: register through that tenant's own flow (tenants/*.yaml `flows:`),
log in through the login page, open the dashboard and two sections from the navigation, with a screenshot of each.
The steps and fields follow Tests/SportelloWebTests/*FlowTests.swift, which drive the same flows over HTTP."""
import time
from urllib.parse import urlsplit

from browser import PageProblem
from identifiers import codice_fiscale, partita_iva
from mailbox import portal_link

STRONG_PASSWORD = "Sportello#2026x"
WINDTRE_PASSWORD = "Windtre2026ok"          # WINDTRE: an alphanumeric password (letters and digits)
LEGAL_REP = {"first": "Laura", "last": "Bianchi", "birth": (1975, 2, 3), "female": True, "place": "F205"}


def legal_rep_tax_code():
    year, month, day = LEGAL_REP["birth"]
    return codice_fiscale(LEGAL_REP["last"], LEGAL_REP["first"], year, month, day, LEGAL_REP["female"], LEGAL_REP["place"])


def fresh_customers(token, serial):
    """One new customer per tenant whose flow verifies against (or invites to) an existing customer record: demo customers
    already have their administrator (cardinality), so each run imports its own. Returns {tenant: (records, facts)}."""
    rep_tax = legal_rep_tax_code()
    customers = {}
    vat = partita_iva(serial, 58)
    customers["unidata"] = ([{
        "type": "customer", "external_id": "E2E-UNI-" + token, "customer_type": "business", "customer_code": "E2E-UNI-" + token,
        "company_name": "Officine E2E %s S.r.l." % token, "vat_number": vat, "email": "amministrazione.%s@example.it" % token,
        "legal_rep_first_name": LEGAL_REP["first"], "legal_rep_last_name": LEGAL_REP["last"], "legal_rep_tax_code": rep_tax,
    }], {"code": "E2E-UNI-" + token})
    person_tax = codice_fiscale("Esposito", "Giulia", 1988, 7, 21, True, "F839")
    customers["unogas"] = ([{
        "type": "customer", "external_id": "E2E-GAS-" + token, "customer_type": "person", "customer_code": "GAS-E2E-" + token.upper(),
        "first_name": "Giulia", "last_name": "Esposito", "tax_code": person_tax, "email": "bolletta.%s@example.it" % token,
    }], {"code": "GAS-E2E-" + token.upper(), "first_name": "Giulia", "last_name": "Esposito", "tax_code": person_tax,
         "email": "bolletta.%s@example.it" % token})
    for tenant, office in (("windtre", 15), ("tim", 16)):
        vat = partita_iva(serial + office, office)
        # Nothing of the tenant's name in the address: WINDTRE's password may not contain personal data (the e-mail included).
        email = "legale.%s.%s@example.it" % (token, office)
        customers[tenant] = ([{
            "type": "customer", "external_id": "E2E-%s-%s" % (tenant.upper(), token), "customer_type": "business",
            "customer_code": "E2E-%s-%s" % (tenant.upper(), token), "company_name": "Telco E2E %s S.p.A." % token,
            "vat_number": vat, "email": "amministrazione.%s@example.it" % token,
            "legal_rep_first_name": LEGAL_REP["first"], "legal_rep_last_name": LEGAL_REP["last"], "legal_rep_birth_date": "1975-02-03",
            "legal_rep_tax_code": rep_tax, "legal_rep_email": email, "legal_rep_mobile": "3331234567",
        }], {"vat": vat, "email": email, "tax_code": rep_tax})
    # Vela (an insurer served from YAML alone) verifies a policy number on one of the customer's policies and the
    # holder's codice fiscale; the policy is imported with the customer.
    vela_tax = codice_fiscale("Marino", "Chiara", 1984, 3, 9, True, "L219")
    policy = "EV%08d" % (serial % 100_000_000)
    email = "polizza.%s@example.it" % token
    customers["vela"] = ([{
        "type": "customer", "external_id": "E2E-VELA-" + token, "customer_type": "privato", "customer_code": "VEL-E2E-" + token.upper(),
        "first_name": "Chiara", "last_name": "Marino", "tax_code": vela_tax, "email": email,
    }, {
        "type": "policies", "customer": "E2E-VELA-" + token, "policy_number": policy, "product": "home", "start_date": "2026-01-15",
        "end_date": "2027-01-15", "annual_premium": "236.40", "payment_frequency": "annual", "status": "active",
    }], {"policy": policy, "tax_code": vela_tax, "email": email})
    return customers


class Journeys:
    def __init__(self, ctx):
        self.ctx = ctx
        self.page = ctx.page

    # --- shared steps ----------------------------------------------------------------------------------------
    def path(self):
        return urlsplit(self.page.driver.current_url).path

    def expect_path(self, path, what):
        if self.path() != path:
            raise PageProblem("%s: expected to be at %s, but the browser is at %s; the page says: %s"
                              % (what, path, self.page.driver.current_url, self.page.summary()))

    def check_password_widgets(self, tenant, password, toggle):
        """The live password checks run in the browser: requirements tick as they are met, the strength bar grows,
        and (where the tenant shows it) the toggle reveals the password."""
        page = self.page
        field = page.find("input#password")
        field.clear()
        field.send_keys(password)
        unmet = [item.text for item in page.find_all("[data-requirement]") if "met" not in (item.get_attribute("class") or "").split()]
        if unmet:
            raise PageProblem("%s: the password %r is valid, but the live requirements still show as unmet: %s" % (tenant, password, unmet))
        bars = page.find_all(".strength-bar")
        if bars and int(bars[0].get_attribute("data-strength") or 0) < 2:
            raise PageProblem("%s: the strength bar stays at %s for a strong password" % (tenant, bars[0].get_attribute("data-strength")))
        if toggle:
            button = page.find(".toggle-password")
            button.click()
            if field.get_attribute("type") != "text" or button.get_attribute("aria-pressed") != "true":
                raise PageProblem("%s: the show-password toggle did not reveal the password (type %s, aria-pressed %s)"
                                  % (tenant, field.get_attribute("type"), button.get_attribute("aria-pressed")))
            button.click()
            if field.get_attribute("type") != "password":
                raise PageProblem("%s: the show-password toggle did not hide the password again" % tenant)

    def set_password(self, tenant, password, toggle=False):
        self.check_password_widgets(tenant, password, toggle)
        if self.page.find_all("input[name=password_confirmation]"):
            self.page.fill({"password_confirmation": password})
        self.page.submit(what="%s: password step" % tenant)
        self.page.expect_no_errors("%s: password step" % tenant)

    def start_registration(self, tenant, flow):
        """Starts where a customer starts: the login page's link to the registration flow. A missing link is recorded
        as a failure, and the flow is then opened by its address so the rest of the journey is still exercised."""
        page = self.page
        page.open(self.ctx.base(tenant) + "/login")
        links = [a for a in page.find_all("main a") if urlsplit(a.get_attribute("href") or "").path == "/access/" + flow]
        if links:
            page.click_and_wait(links[0], what="%s: the login page's registration link" % tenant)
        else:
            offered = [urlsplit(a.get_attribute("href") or "").path for a in page.find_all("main a")]
            self.ctx.soft_failure(tenant, "login page", "the login page offers no link to the registration flow /access/%s "
                                  "(links in <main>: %s); opened it by its address instead" % (flow, offered or "none"))
            page.open(self.ctx.base(tenant) + "/access/" + flow)
        self.expect_path("/access/" + flow, "%s: registration" % tenant)

    def step(self, tenant, what, fields, expect=200):
        self.page.fill(fields)
        self.page.submit(what="%s: %s" % (tenant, what), expect=expect)
        self.page.expect_no_errors("%s: %s" % (tenant, what))

    def log_in(self, tenant, identifier, password):
        page = self.page
        page.open(self.ctx.base(tenant) + "/login")
        page.fill({"identifier": identifier, "password": password})
        page.submit(what="%s: log in as %s" % (tenant, identifier))
        page.expect_no_errors("%s: log in as %s" % (tenant, identifier))
        self.expect_path("/", "%s: after logging in as %s" % (tenant, identifier))
        menu = page.text(".user-menu")
        return menu

    def log_out(self, tenant):
        button = self.page.find(".user-menu form button[type=submit]")
        self.page.click_and_wait(button, what="%s: log out" % tenant)
        self.expect_path("/login", "%s: after logging out" % tenant)

    def explore(self, tenant, role_label):
        """Dashboard and the first two sections of the navigation, a screenshot of each."""
        page = self.page
        self.expect_path("/", "%s: dashboard" % tenant)
        page.find(".welcome-box")
        page.expect_text(role_label, css=".user-menu", what="%s: the header names the role" % tenant)
        page.screenshot(self.ctx.shot(tenant, "02-dashboard"))
        links = [(a.get_attribute("href"), a.text) for a in page.find_all("nav.main-nav a")]
        sections = [(href, label) for href, label in links if urlsplit(href).path != "/"]
        if len(sections) < 2:
            raise PageProblem("%s: the navigation offers %d section(s), two are needed: %s" % (tenant, len(sections), links))
        opened = []
        for number, (href, label) in enumerate(sections[:2], start=3):
            link = [a for a in page.find_all("nav.main-nav a") if a.get_attribute("href") == href][0]
            page.click_and_wait(link, what="%s: open the section %r (%s) from the navigation" % (tenant, label, urlsplit(href).path))
            if urlsplit(page.driver.current_url).path == "/login":
                raise PageProblem("%s: the section link %s sent the logged-in user back to the login page" % (tenant, href))
            if not page.heading().strip():
                raise PageProblem("%s: the section page %s has no heading; it says: %s" % (tenant, href, page.summary()))
            slug = urlsplit(href).path.strip("/").replace("/", "-") or "home"
            page.screenshot(self.ctx.shot(tenant, "%02d-%s" % (number, slug)))
            opened.append("%s (%s)" % (label, urlsplit(href).path))
        return opened

    def finish(self, tenant, identifier, password, role_label, logged_in_already=False):
        if logged_in_already:
            self.log_out(tenant)
        self.log_in(tenant, identifier, password)
        opened = self.explore(tenant, role_label)
        self.log_out(tenant)
        return "registered %s, logged in, dashboard, %s" % (identifier, " and ".join(opened))

    # --- the five tenants ------------------------------------------------------------------------------------
    def unidata(self, facts):
        """Staff invitation (`sportello invite`): e-mail → assigned username → password → Prosegui logs in."""
        ctx, page, tenant = self.ctx, self.page, "unidata"
        email, username = "referente.%s@example.it" % ctx.token, "e2e.uni.%s" % ctx.token
        mark = ctx.mailbox.last_number()
        printed = ctx.sportello(["invite", "--tenant", tenant, "--customer", facts["code"], "--email", email,
                                 "--username", username, "--database", ctx.database, "--port", str(ctx.port)])
        if "queued" not in printed:
            raise PageProblem("unidata: sportello invite printed no confirmation: %s" % printed)
        link = portal_link(ctx.mailbox.wait_for(email, after=mark))
        if not link.startswith(ctx.base(tenant) + "/"):
            raise PageProblem("unidata: the invitation links to %s, not to this portal (%s)" % (link, ctx.base(tenant)))
        page.open(link)
        prefilled = page.find("main form input[name=email]").get_attribute("value")
        if prefilled != email:
            raise PageProblem("unidata: the invitation pre-fills %r, not the invited address %r" % (prefilled, email))
        page.expect_text("Amministratore", what="unidata: business customers are told the Administrator completes registration")
        ctx.check_accessibility(tenant, "registration (invitation)")
        # The invitee's own name: the account must not carry the customer's or the legal representative's.
        self.step(tenant, "invitation e-mail and name step", {"first_name": "Chiara", "last_name": "Moretti"})
        page.expect_text(username, what="unidata: the pre-assigned username is shown")
        self.step(tenant, "username step", {})
        self.set_password(tenant, STRONG_PASSWORD, toggle=True)
        page.expect_text("Prosegui", what="unidata: the success page offers Prosegui")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        page.submit(what="unidata: Prosegui")
        self.expect_path("/", "unidata: Prosegui logs the user straight in")
        page.expect_text("Referente Amministratore", css=".user-menu", what="unidata: logged in after Prosegui")
        return self.finish(tenant, username, STRONG_PASSWORD, "Referente Amministratore", logged_in_already=True)

    def tunda(self, facts):
        """Open registration: customer details, e-mail as username, password, summary e-mail, confirmation."""
        ctx, page, tenant = self.ctx, self.page, "tunda"
        email = "cliente.%s@example.it" % ctx.token
        tax_code = codice_fiscale("Ferrari", "Marco", 1990, 11, 4, False, "L219")
        self.start_registration(tenant, "registration")
        ctx.check_accessibility(tenant, "registration")
        radio = page.find("main form input[name=customer_type][value=private]")
        if not radio.is_selected():
            # The form reloads for the chosen customer type (portal.js).
            page.click_and_wait(radio, what="tunda: choose the private customer type")
            if not page.find("main form input[name=customer_type][value=private]").is_selected():
                raise PageProblem("tunda: the private customer type is not selected after choosing it")
        mark = ctx.mailbox.last_number()
        self.step(tenant, "customer details", {
            "first_name": "Marco", "last_name": "Ferrari", "tax_code": tax_code, "email": email, "street": "Via Po 12",
            "postal_code": "10123", "city": "Torino", "province": "TO", "phone": "011 5551234"})
        username = page.find("main form input[name=email]")
        if username.get_attribute("value") != email:
            self.step(tenant, "username (e-mail)", {"email": email})
        else:
            self.step(tenant, "username (e-mail)", {})
        self.set_password(tenant, STRONG_PASSWORD)
        page.expect_text("Registrazione completata", what="tunda: confirmation")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        summary = ctx.mailbox.wait_for(email, after=mark)
        text = summary.get("text") or ""
        if email not in text or "non diffonderla" not in text:
            raise PageProblem("tunda: the summary e-mail %r does not name the username (%s) and the tenant's confidentiality note:\n%s"
                              % (summary.get("subject"), email, text))
        outcome = self.finish(tenant, email, STRONG_PASSWORD, "Account principale")
        return outcome + "; " + self.tunda_pay_proforma(email)

    def tunda_pay_proforma(self, email):
        """The new customer orders a hosting plan and pays its pro-forma with PayPal through the sandbox PSP's hosted page
        (seed 002: "pagare le proforma (solo PayPal)"); the service starts once the PSP's signed notification arrives."""
        ctx, page, tenant = self.ctx, self.page, "tunda"
        self.log_in(tenant, email, STRONG_PASSWORD)
        page.open(ctx.base(tenant) + "/services/shop/HOST-PRO")
        domain = "ferrari-%s.it" % ctx.token.lower()
        self.step(tenant, "order a hosting plan", {"domain": domain})
        self.expect_path("/services/orders", "tunda: after ordering")
        pay_links = [a for a in page.find_all("main a") if (urlsplit(a.get_attribute("href") or "").path or "").endswith("/pay")]
        if not pay_links:
            raise PageProblem("tunda: the orders page offers no link to pay the pro-forma; it says: %s" % page.summary())
        page.click_and_wait(pay_links[0], what="tunda: pay the pro-forma from the order")
        page.expect_text("SANDBOX — nessun addebito reale", what="tunda: the pay page says the sandbox charges nothing")
        methods = [radio.get_attribute("value") for radio in page.find_all("main form input[name=method]")]
        if methods != ["paypal"]:
            raise PageProblem("tunda: the pro-forma should be payable with PayPal only, the page offers %s" % methods)
        ctx.check_accessibility(tenant, "pro-forma payment")
        page.screenshot(ctx.shot(tenant, "06-proforma-pay"))
        page.submit(what="tunda: start the PayPal payment")
        page.expect_text("Vai alla pagina di pagamento", what="tunda: the payment page leads to the provider's")
        ctx.check_accessibility(tenant, "payment (to the provider)")
        page.click_and_wait(page.find("main a.button.primary"), what="tunda: go to the sandbox PSP's page")
        page.expect_text("SANDBOX — nessun addebito reale", css="body", what="tunda: the PSP's hosted page says sandbox")
        page.expect_text("PayPal", css="body", what="tunda: the PSP's page names the method")
        page.screenshot(ctx.shot(tenant, "07-psp-sandbox-page"))
        page.click_and_wait(page.find("button.approve"), what="tunda: approve on the sandbox PSP's page")
        if not self.path().startswith("/payments/"):
            raise PageProblem("tunda: the PSP did not send the customer back to the payment's page (at %s)" % page.driver.current_url)
        for _ in range(60):  # the page reloads itself every few seconds until the notification arrives
            if "Pagamento di prova (SANDBOX) confermato" in page.text():
                break
            time.sleep(0.5)
            page.open(page.driver.current_url)
        page.expect_text("Pagamento di prova (SANDBOX) confermato", what="tunda: the signed notification confirmed the payment")
        ctx.check_accessibility(tenant, "payment confirmed")
        page.screenshot(ctx.shot(tenant, "08-payment-confirmed"))
        page.open(ctx.base(tenant) + "/services/orders")
        if not page.find_all("main .hosting-status-active"):
            raise PageProblem("tunda: the order did not start after its pro-forma was paid; the page says: %s" % page.summary())
        page.open(ctx.base(tenant) + "/hosting")
        page.expect_text(domain, what="tunda: the paid hosting plan is listed")
        self.log_out(tenant)
        return "ordered %s, paid its pro-forma with PayPal on the sandbox PSP's page, hosting started" % domain

    def unogas(self, facts):
        """Verification against the bill data, e-mail as USER ID, password, security question, confirmation."""
        ctx, page, tenant = self.ctx, self.page, "unogas"
        email = "cliente.%s@example.it" % ctx.token
        self.start_registration(tenant, "registration")
        ctx.check_accessibility(tenant, "registration")
        mark = ctx.mailbox.last_number()
        self.step(tenant, "verification against the bill", {
            "customer_code": facts["code"], "first_name": facts["first_name"], "last_name": facts["last_name"], "tax_id": facts["tax_code"]})
        # The bill's data are not secret: the activation link goes to the e-mail Unogas has on record.
        page.expect_text("indirizzo registrato", what="unogas: the link goes to the e-mail on record, announced masked")
        page.open(portal_link(ctx.mailbox.wait_for(facts["email"], after=mark)))
        self.step(tenant, "USER ID (e-mail)", {"email": email})
        self.set_password(tenant, STRONG_PASSWORD)
        self.step(tenant, "security question", {"security_question": "Qual è il nome del tuo primo animale domestico?", "security_answer": "Micio",
                                                 "security_answer_confirmation": "Micio"})
        page.expect_text("Registrazione completata", what="unogas: confirmation")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        return self.finish(tenant, email, STRONG_PASSWORD, "Cliente")

    def vela(self, facts):
        """A tenant of YAML alone: the policy number (typed with spaces) and the holder's codice fiscale, the link to the
        e-mail on record, the e-mail as username, password, confirmation; then the policies page."""
        ctx, page, tenant = self.ctx, self.page, "vela"
        email = "contraente.%s@example.it" % ctx.token
        self.start_registration(tenant, "registration")
        ctx.check_accessibility(tenant, "registration")
        mark = ctx.mailbox.last_number()
        typed = facts["policy"][:2] + " " + facts["policy"][2:6] + " " + facts["policy"][6:]
        self.step(tenant, "policy number and tax code", {"policies.policy_number": typed, "tax_id": facts["tax_code"].lower()})
        page.expect_text("indirizzo registrato", what="vela: the link goes to the e-mail on record, announced masked")
        page.open(portal_link(ctx.mailbox.wait_for(facts["email"], after=mark)))
        self.step(tenant, "e-mail as username", {"email": email})
        self.set_password(tenant, STRONG_PASSWORD, toggle=True)
        page.expect_text("Registrazione completata", what="vela: confirmation")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        actions = self.vela_first_login(email)
        opened = self.explore(tenant, "Contraente")
        self.log_out(tenant)
        result = "registered %s, %s, dashboard, %s" % (email, actions, " and ".join(opened))
        return result + "; " + self.vela_claim(email)

    def vela_first_login(self, email):
        """The actions Vela requires after the first login, before anything else opens: accept the privacy notice
        (a checkbox), then confirm the contacts on record (prefilled); then the dashboard."""
        ctx, page, tenant = self.ctx, self.page, "vela"
        page.open(ctx.base(tenant) + "/login")
        page.fill({"identifier": email, "password": STRONG_PASSWORD})
        page.submit(what="vela: first log in")
        self.expect_path("/required-actions/informativa_privacy", "vela: the privacy notice comes before anything else")
        page.expect_text("Regolamento (UE) 2016/679", what="vela: the notice's text")
        page.open(ctx.base(tenant) + "/")
        self.expect_path("/required-actions/informativa_privacy", "vela: the dashboard waits for the notice")
        ctx.check_accessibility(tenant, "required action: privacy notice")
        page.screenshot(ctx.shot(tenant, "02a-privacy-notice"))
        page.find("main form [name=accept]").click()
        page.submit(what="vela: accept the privacy notice")
        page.expect_no_errors("vela: accept the privacy notice")
        self.expect_path("/required-actions/recapiti_privato", "vela: then the contacts to confirm")
        if "@" not in (page.find("main form [name=email]").get_attribute("value") or ""):
            raise PageProblem("vela: the contacts form is not prefilled with the e-mail on record: %s" % page.summary())
        ctx.check_accessibility(tenant, "required action: confirm contacts")
        page.submit(what="vela: confirm the contacts")
        page.expect_no_errors("vela: confirm the contacts")
        self.expect_path("/", "vela: the dashboard once the actions are done")
        return "accepted the privacy notice and confirmed the contacts at first login"

    def vela_claim(self, email):
        """The claim form's conditional sections: nothing vehicle- or home-specific until a policy is picked, then
        the home questions for the holder's home policy; a collision adds the other party's questions and a water
        damage takes them away again. The claim is sent and its status reads in Italian ("Ricevuta")."""
        from datetime import date
        from selenium.webdriver.support.ui import Select
        ctx, page, tenant = self.ctx, self.page, "vela"
        self.log_in(tenant, email, STRONG_PASSWORD)
        page.open(ctx.base(tenant) + "/requests/new/claim_report")

        def shown(name):
            return page.find("main form [name=%r]" % name).is_displayed()

        def expect(visible, hidden, when):
            wrong = [n for n in visible if not shown(n)] + [n for n in hidden if shown(n)]
            if wrong:
                raise PageProblem("vela claim, %s: expected %s shown and %s hidden; wrong: %s" % (when, visible, hidden, wrong))

        expect(["policy", "occurred_on", "claim_type", "place"], ["vehicle", "home_address", "estimated_damage", "other_party_plate"],
               "before choosing a policy")
        Select(page.find("main form [name=policy]")).select_by_index(1)
        expect(["home_address", "estimated_damage"], ["vehicle"], "with the home policy")
        page.fill({"claim_type": "Incidente stradale"})
        expect(["other_party_plate", "joint_report", "injured_people"], ["joint_report_file"], "for a road accident")
        ctx.check_accessibility(tenant, "claim form (conditional)")
        page.fill({"claim_type": "Danni da acqua"})
        expect([], ["other_party_plate", "joint_report", "injured_people"], "for water damage")
        page.fill({"occurred_on": date.today().isoformat(), "home_address": "Via dei Mille 12, 20129 Milano",
                   "estimated_damage": "1250,50", "place": "Cucina", "description": "Perdita dal tubo sotto il lavello."})
        page.screenshot(ctx.shot(tenant, "05-claim-form"))
        page.submit(what="vela: send the claim")
        page.expect_no_errors("vela: send the claim")
        path = urlsplit(page.driver.current_url).path
        if not path.startswith("/requests/"):
            raise PageProblem("vela: after sending the claim the page is %s: %s" % (path, page.summary()))
        page.expect_text("Ricevuta", what="vela: the claim's status in the provider's words")
        page.expect_text("1250,50", what="vela: the estimate as typed, not 125050")
        page.screenshot(ctx.shot(tenant, "06-claim-sent"))
        self.log_out(tenant)
        return "claim form with conditional sections sent (%s)" % path

    def windtre(self, facts):
        """User Admin: verification against the contract, activation e-mail, username and password at first access."""
        ctx, page, tenant = self.ctx, self.page, "windtre"
        username = "E2eAdmin%s" % ctx.token
        self.start_registration(tenant, "user_admin_registration")
        ctx.check_accessibility(tenant, "registration")
        mark = ctx.mailbox.last_number()
        self.step(tenant, "verification against the contract", {
            "vat_number": facts["vat"], "legal_rep_email": facts["email"], "legal_rep_mobile": "+39 333 123 4567",
            "legal_rep_first_name": LEGAL_REP["first"], "legal_rep_last_name": LEGAL_REP["last"],
            "legal_rep_birth_date": "1975-02-03", "legal_rep_tax_code": facts["tax_code"]})
        page.expect_text("indirizzo registrato", what="windtre: the activation goes to the address on the contract, announced masked")
        page.screenshot(ctx.shot(tenant, "01-check-your-email"))
        link = portal_link(ctx.mailbox.wait_for(facts["email"], after=mark))
        page.open(link)
        page.fill({"username": username})
        self.set_password(tenant, WINDTRE_PASSWORD)
        page.expect_text("Registrazione completata", what="windtre: confirmation")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        return self.finish(tenant, username, WINDTRE_PASSWORD, "User Admin")

    def tim(self, facts):
        """Legal representative: verification, e-mail confirmed by link, username, password, confirmation."""
        ctx, page, tenant = self.ctx, self.page, "tim"
        username = "e2e.tim.%s" % ctx.token
        self.start_registration(tenant, "legal_representative_registration")
        ctx.check_accessibility(tenant, "registration")
        mark = ctx.mailbox.last_number()
        # The VAT number and codice fiscale are public: the link goes to the legal representative's e-mail on the contract.
        self.step(tenant, "verification", {"vat_number": facts["vat"], "legal_rep_tax_code": facts["tax_code"]})
        page.expect_text("indirizzo registrato", what="tim: the link goes to the address on the contract, announced masked")
        page.screenshot(ctx.shot(tenant, "01-check-your-email"))
        link = portal_link(ctx.mailbox.wait_for(facts["email"], after=mark))
        page.open(link)
        self.step(tenant, "username", {"username": username})
        self.set_password(tenant, STRONG_PASSWORD, toggle=True)
        page.expect_text("Registrazione completata", what="tim: confirmation")
        page.screenshot(ctx.shot(tenant, "01-registration-done"))
        return self.finish(tenant, username, STRONG_PASSWORD, "Rappresentante Legale")
