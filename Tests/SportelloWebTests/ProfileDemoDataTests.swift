import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// Every demo login of every tenant against the profile, billing and notification pages: the page opens
/// exactly when the role grants one of its features (404 where the tenant has none, 403 otherwise), and
/// saving the forms as they are shown changes nothing and raises no error.
@Suite("Profile pages with the demo data of every tenant")
struct ProfileDemoDataTests {
    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&#x27;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The text inputs of the form posting to `action`, as the browser would send them.
    static func formValues(_ html: String, action: String) -> [String: String]? {
        guard let start = html.range(of: "action=\"\(action)\"") else { return nil }
        let rest = html[start.upperBound...]
        let form = rest[..<(rest.range(of: "</form>")?.lowerBound ?? rest.endIndex)]
        let pattern = try! NSRegularExpression(pattern: #"<input id="[^"]*" name="([^"]+)" type="(?:text|email|tel|date)" value="([^"]*)""#)
        let text = String(form)
        var values: [String: String] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            values[String(text[Range(match.range(at: 1), in: text)!])] = unescape(String(text[Range(match.range(at: 2), in: text)!]))
        }
        return values
    }

    @Test("Demo logins: pages open exactly for the granted features; forms saved unchanged are accepted", arguments: TestEngine.available)
    func demoLogins(engine: TestEngine) async throws {
        for tenantId in ["unidata", "unogas", "tunda", "windtre", "tim"] {
            try await PortalHarness.with(engine: engine, tenant: tenantId) { portal in
                let generator = DemoDataGenerator(tenant: portal.definition, now: Int64(portal.clock.now().timeIntervalSince1970),
                                                  hasher: portal.services.passwords)
                let summary = try await generator.generate(into: portal.database)
                // Until DemoData.swift calls it for every customer it makes (a no-op once it does).
                try await portal.database.write(tenant: portal.definition.id) { transaction in
                    for var customer in try await transaction.customers(limit: 1000) {
                        generator.completeRequiredContactFields(&customer)
                        try await transaction.updateCustomer(customer)
                    }
                }
                let pages = ProfileController.pages + NotificationsController.pages
                var seenRoles: Set<String> = []
                for login in summary.logins where seenRoles.insert("\(login.customerType)/\(login.role)").inserted {
                    let key = UsernameRules.key(for: login.username, caseSensitive: portal.definition.login.caseSensitive)
                    let user = try #require(try await portal.database.read(tenant: portal.definition.id) { try await $0.user(usernameKey: key) })
                    let principal = try portal.tenant.authorization.principal(role: user.role, toggles: Set(user.toggleList),
                                                                              customerType: login.customerType)
                    try await portal.test { browser in
                        let signIn = try await browser.post("/login", ["identifier": login.username, "password": login.password])
                        #expect(signIn.location == "/", "\(tenantId) \(login.role) logs in")
                        for page in pages {
                            let defined = page.definedFeatures(in: portal.definition)
                            let expected: HTTPResponse.Status = defined.isEmpty ? .notFound
                                : defined.contains { portal.tenant.authorization.isAllowed(principal, $0) } ? .ok : .forbidden
                            let shown = try await browser.get(page.path)
                            #expect(shown.status == expected, "\(tenantId) \(login.customerType) \(login.role) toggles \(user.toggles): \(page.path)")
                            let api = try await browser.profileAPI(.get, "/api/v1\(page.path)")
                            #expect(api.status == expected, "\(tenantId) \(login.role): GET /api/v1\(page.path)")
                            guard shown.status == .ok else { continue }
                            if page.path == "/profile" {
                                for action in ["/profile/account", "/profile/customer"] {
                                    guard let values = Self.formValues(shown.body, action: action) else { continue }
                                    let saved = try await browser.post(action, values)
                                    let errors = saved.body.components(separatedBy: "class=\"field-error\" ").dropFirst().map { $0.prefix(160) }
                                    #expect(saved.location?.hasPrefix("/profile?done=") == true,
                                            "\(tenantId) \(login.role): \(action) saved as shown → \(saved.status) \(errors)")
                                }
                            }
                            if page.path == "/notifications" {
                                #expect(!shown.body.contains("Il tuo profilo non riceve notifiche"), "a page that opens has rules")
                            }
                        }
                    }
                }
            }
        }
    }
}
