import Foundation
import Hummingbird
import Testing
import SportelloCore
@testable import SportelloStore
@testable import SportelloWeb

/// `definition` with every feature id prefixed: each feature binds to its old id's capability slot
/// explicitly, and roles, switches, request forms and notification settings name the new ids.
func renamingFeatures(of definition: TenantDefinition, prefix: String) -> TenantDefinition {
    var renamed = definition
    func new(_ id: String) -> String { definition.features[id] == nil ? id : prefix + id }
    renamed.features = OrderedMap(definition.features.map { id, feature in
        var bound = feature
        bound.capability = definition.slot(of: id)
        return (new(id), bound)
    })
    renamed.roles = OrderedMap(definition.roles.map { id, role in
        var role = role
        role.grants = role.grants?.map(new)
        role.exclusive = role.exclusive?.map(new)
        role.scopes = role.scopes.map { OrderedMap($0.map { (new($0.key), $0.value) }) }
        role.toggles = role.toggles.map { toggles in
            OrderedMap(toggles.map { id, toggle in
                var toggle = toggle
                toggle.features = toggle.features.map(new)
                return (id, toggle)
            })
        }
        return (id, role)
    })
    renamed.requests = definition.requests.map { forms in
        OrderedMap(forms.map { id, form in
            var form = form
            form.feature = new(form.feature)
            return (id, form)
        })
    }
    renamed.notifications = definition.notifications.map { rules in
        OrderedMap(rules.map { id, rule in
            var rule = rule
            rule.feature = rule.feature.map(new)
            return (id, rule)
        })
    }
    renamed.tests = nil
    return renamed
}

/// Features are the tenant's own names: binding them to capability slots opens the same pages as naming
/// them after the slots.
@Suite("Capability binding")
struct CapabilityBindingTests {
    @Test("every slot the web modules ask for is in the capability catalogue, and every catalogue slot is served")
    func catalogueMatchesTheModules() {
        let served = Set(PortalCatalog.standard.pages.flatMap(\.features))
        let catalogue = Set(PortalModules.capabilities.slots.keys)
        #expect(served.subtracting(catalogue).isEmpty, "pages ask for slots the catalogue lacks: \(served.subtracting(catalogue).sorted())")
        // Slots without a page of their own are served inside another page (dashboard tiles, switches, settings).
        let tenantSlots = Set(providerTenants.values.flatMap { definition in definition.features.keys.compactMap { definition.slot(of: $0) } })
        #expect(tenantSlots.subtracting(catalogue).isEmpty)
        #expect(catalogue.subtracting(tenantSlots).isEmpty, "every catalogue slot is used by one of the five providers")
    }

    @Test("a tenant whose feature ids are all renamed (x_…) opens the same pages for the same roles",
          arguments: ["unidata", "unogas", "tunda", "windtre", "tim"])
    func renamedFeaturesOpenTheSamePages(tenant: String) async throws {
        let original = try #require(providerTenants[tenant])
        let renamed = renamingFeatures(of: original, prefix: "x_")
        #expect(renamed.features.keys.allSatisfy { $0.hasPrefix("x_") })
        try await PortalHarness.with(engine: .sqlite, tenant: tenant) { reference in
            try await PortalHarness.with(engine: .sqlite, tenant: tenant, definition: renamed) { portal in
                for (role, roleDefinition) in original.roles {
                    let toggles = Array(roleDefinition.toggles?.keys ?? [])
                    let username = try await portal.userForRole(role, toggles: toggles)
                    var statuses: [String: HTTPResponse.Status] = [:]
                    for page in PortalCatalog.standard.pages {
                        statuses[page.path] = try reference.expectedStatus(of: page, role: role, toggles: toggles)
                    }
                    let expected = statuses
                    try await portal.test { browser in
                        try await browser.logIn(username)
                        #expect(try await browser.get("/").status == .ok)
                        for page in PortalCatalog.standard.pages {
                            let answer = try await browser.get(page.path)
                            #expect(answer.status == expected[page.path], "\(tenant) \(role): \(page.path) answers as with the slot names")
                        }
                    }
                }
            }
        }
    }

    @Test("page titles and home shortcuts use the tenant's own words: a feature's page_title, else the label of a section that opens that page alone")
    func pagesUseTheTenantsWords() async throws {
        try await PortalHarness.with(engine: .sqlite, tenant: "windtre") { portal in
            let users = try #require(PortalCatalog.standard.pages.first { $0.path == "/users" })
            let usage = try #require(PortalCatalog.standard.pages.first { $0.path == "/usage" })
            #expect(portal.tenant.title(of: users, locale: "it") == "Utenze Telco Manager")
            #expect(portal.tenant.title(of: users, locale: "en") == "Telco Manager users")
            // WINDTRE's "Traffico" section also holds the coverage page, so the usage page is named by its feature's page_title.
            #expect(portal.tenant.title(of: usage, locale: "it") == "Traffico")
            #expect(portal.tenant.title(of: usage, locale: "en") == "Traffic")
            var untitled = portal.tenant.definition
            untitled.features["usage.view"]?.pageTitle = nil
            let platformWorded = PortalTenant(definition: untitled, theme: portal.tenant.theme)
            #expect(platformWorded.title(of: usage, locale: "it") == "Consumi e traffico", "without page_title the section is not guessed")
            let username = try await portal.userForRole("user_admin")
            try await portal.test { browser in
                try await browser.logIn(username)
                let page = try await browser.get("/users")
                #expect(page.body.contains("<h1>Utenze Telco Manager</h1>") && page.body.contains("<title>Utenze Telco Manager"))
                #expect(!page.body.contains("Utenti e profili"))
                let home = try await browser.get("/")
                #expect(home.body.contains(">Utenze Telco Manager<"), "the home page's shortcut says it the tenant's way")
                let traffic = try await browser.get("/usage")
                #expect(traffic.body.contains("<h1>Traffico</h1>") && traffic.body.contains("<title>Traffico"))
                #expect(!traffic.body.contains("Consumi e traffico"))
            }
        }
        try await PortalHarness.with(engine: .sqlite, tenant: "unogas") { portal in
            let invoices = try #require(PortalCatalog.standard.pages.first { $0.path == "/invoices" })
            #expect(portal.tenant.title(of: invoices, locale: "it") == "Bollette")
        }
    }
}
