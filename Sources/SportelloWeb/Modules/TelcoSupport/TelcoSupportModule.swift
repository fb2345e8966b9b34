import Foundation
import SportelloCore
import SportelloStore

extension PortalModule {
    static let telcoSupport = PortalModule("telco_support", capabilities: [.telcoSupport], controllers: [TelcoSupportController.self],
        storage: .telcoSupport)
}

extension Capability {
    static let telcoSupport = Capability("telco_support", "Offers, contact channels, chat, fault reports and line diagnosis.", [
        .init("offers.view", "Exclusive offers for the customer."),
        .init("offers.activate", "Activate an exclusive offer."),
        .init("support.contact", "Contact channels and opening hours."),
        .init("support.chat", "Chat with the provider's operators."),
        .init("support.fault_report", "Report a fault on a line."),
        .init("support.line_diagnosis", "Diagnose a fixed line: the network test is asked of the lookup plugin (operation line_diagnosis) bound to the feature, next to the checks of the portal's own records; unbound, the page says only those records were read.", plugin: .lookup),
        .init("tracking.view", "Status of activation, expansion, offer and option requests."),
    ])
}
