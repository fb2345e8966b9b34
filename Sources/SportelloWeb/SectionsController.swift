import Foundation
import Hummingbird
import SportelloCore
import SportelloStore

/// `/sections/<id>`: one of the tenant's YAML sections, listing the features the user's role grants
/// there — each linking to its page, or described when the portal has no page of its own for it.
struct SectionsController {
    let services: PortalServices

    func addRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.section) { _, context in try section(context: context) }
    }

    /// A section's features: each links to its page, or carries a note when it has none.
    struct PageModel: Encodable {
        struct Item: Encodable {
            var id, label: String
            var href, note: String?
        }
        var sectionLabel: String
        var items: [Item]
    }

    private func section(context: UserContext) throws -> Response {
        let definition = context.tenant.definition
        guard let id = context.parameters.get("section"), let section = definition.sections[id] else { throw PortalError.notFound }
        let inSection = definition.features.filter { $0.value.section == id }
        let granted = inSection.filter { context.may($0.key) }
        guard !granted.isEmpty else { throw PortalError.forbidden(feature: inSection.first?.key ?? id) }
        let care = definition.contacts?.customerCare
        let items = granted.map { featureId, feature -> PageModel.Item in
            var item = PageModel.Item(id: featureId, label: feature.label.resolve(context.locale))
            let slot = definition.slot(of: featureId) ?? featureId
            if let form = definition.requests?.first(where: { $0.value.feature == featureId }),
               context.tenant.catalog.pages.first(where: { $0.features.contains(slot) }) == nil {
                // A feature served by a request form of its own opens that form.
                item.href = Routes.requestForm.path(form.key)
            } else if let page = context.tenant.page(for: featureId) {
                item.href = page.path
            } else if let care {
                item.note = context.tenant.theme.text("sections.by_customer_care", locale: context.locale, ["phone": care])
            }
            return item
        }
        let label = section.label.resolve(context.locale)
        return Pages.render("section", PageModel(sectionLabel: label, items: items), title: label, context: context)
    }
}
