import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// The chat with the operators (one conversation per user, newest at the bottom, a plain form that
/// works without JavaScript) and the contact channels (`catalog_items` of kind `support_channel`,
/// else the YAML `contacts:`), each with its hours and whether it is open now.
extension TelcoSupportController {
    static var chatMaxLength: Int { SupportChat.maxLength }

    struct ChatMessageJSON: Encodable {
        var id: Int64
        var author: String
        var authorName: String?
        var body: String
        var sentAt: Int64
    }

    struct ConversationJSON: Encodable {
        var messages: [ChatMessageJSON]
        var operatorsAvailable: Bool?
        var hours: [String]
        var maxLength: Int
    }

    struct ChannelJSON: Encodable {
        var code, title: String
        var description, phone, email, path: String?
        var hours: [String]
        var openNow: Bool?
    }

    func addChatRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.supportChat) { request, context in
            try await chatPage(context: context, notice: Self.notice(context, request, allowed: ["sent"], prefix: "support.chat.done"))
        }
        group.post(Routes.supportChat) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let problems = try await post(form["message"], context: context)
            if !problems.isEmpty { return try await chatPage(context: context, draft: form["message"], problems: problems) }
            return Pages.redirect(Routes.supportChat.done("sent") + "#latest")
        }
        group.get(Routes.supportContact) { _, context in try await contactPage(context: context) }

        group.get(Routes.supportChat.api) { _, context in API.json(try await conversationJSON(context: context)) }
        group.post(Routes.supportChatMessagesResource.api) { request, context in
            struct Body: Decodable { var body: String? }
            let body = try await API.decode(Body.self, from: request, context: context)
            let problems = try await post(body.body ?? "", context: context)
            if !problems.isEmpty { throw PortalError.invalid(problems) }
            return API.json(try await conversationJSON(context: context), status: .created)
        }
        group.get(Routes.supportContactsResource.api) { _, context in
            struct List: Encodable { var channels: [ChannelJSON] }
            return API.json(List(channels: try await channels(context: context)))
        }
    }

    // MARK: Hours

    /// Weekly slots as people read them: "Lun–Ven 09:00–19:00", "Tutti i giorni, 24 ore su 24".
    func hoursText(_ slots: [OperatorHours.Slot], _ context: UserContext) -> [String] {
        slots.map { slot in
            let days = slot.days.sorted()
            let always = slot.from == "00:00" && slot.to == "24:00"
            if days == Array(1...7) && always { return text("support.hours.always", context) }
            let dayText: String
            if days == Array(1...7) {
                dayText = text("support.hours.every_day", context)
            } else if days.count >= 3, let first = days.first, let last = days.last, last - first + 1 == days.count {
                dayText = "\(text("support.day.\(first)", context))–\(text("support.day.\(last)", context))"
            } else {
                dayText = days.map { text("support.day.\($0)", context) }.joined(separator: ", ")
            }
            return always ? text("support.hours.all_day", context, ["days": dayText]) : "\(dayText) \(slot.from)–\(slot.to)"
        }
    }

    /// When the next opening is, as a sentence.
    func nextOpeningText(_ hours: OperatorHours, _ context: UserContext) -> String? {
        guard let next = hours.nextOpening(after: services.now) else { return nil }
        return next.today ? text("support.hours.opens_today", context, ["time": next.time])
                          : text("support.hours.opens_on", context, ["day": text("support.day.long.\(next.weekday)", context), "time": next.time])
    }

    /// The support channels on offer to the customer's type.
    func channelItems(context: UserContext) async throws -> [CatalogItemRecord] {
        let type = context.customer.customerType
        let today = CalendarDay(instant: services.now).description
        return try await services.database.read(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.catalogItems(kind: "support_channel", availableOn: today, to: type)
        }
    }

    /// The chat operators' hours, when the catalogue states them.
    func chatHours(context: UserContext) async throws -> OperatorHours? {
        let items = try await channelItems(context: context)
        let chat = items.first { $0.code == "chat" } ?? items.first { SupportChannelData.decode($0.data).path == Self.chat.path }
        guard let slots = chat.flatMap({ SupportChannelData.decode($0.data).hours }), !slots.isEmpty else { return nil }
        return OperatorHours(slots: slots)
    }

    // MARK: Chat

    /// Stores the user's message through `ReplyInChat` (with an automatic notice when the operators are away);
    /// the problems, empty when done.
    func post(_ raw: String, context: UserContext) async throws -> [FieldProblem] {
        try context.require(page: Self.chat)
        let hours = try await chatHours(context: context)
        let away = hours.map { !$0.isOpen(at: services.now) } ?? false
        let notice = away ? text("support.chat.away_notice", context, ["next": hours.flatMap { nextOpeningText($0, context) } ?? ""]) : nil
        guard context.user.id != nil else { throw PortalError.notFound }
        do {
            try await ReplyInChat(services: services.application)(tenant: context.tenant.served, acting: context.acting,
                                                                  .fromUser(body: raw, awayNotice: notice))
            return []
        } catch let refusal as UseCaseRefusal where !refusal.problems.isEmpty {
            return refusal.problems
        }
    }

    private func conversation(context: UserContext) async throws -> [ChatMessageRecord] {
        try context.require(page: Self.chat)
        let customer = customerId(context)
        guard let userId = context.user.id else { throw PortalError.notFound }
        return try await services.database.write(tenant: context.tenant.id, now: services.now) { transaction in
            try await transaction.markChatRead(customerId: customer, userId: userId)
            return try await transaction.chatMessages(customerId: customer, userId: userId)
        }
    }

    private func conversationJSON(context: UserContext) async throws -> ConversationJSON {
        let messages = try await conversation(context: context)
        let hours = try await chatHours(context: context)
        return ConversationJSON(messages: messages.map { ChatMessageJSON(id: $0.id ?? 0, author: $0.author, authorName: $0.authorName, body: $0.body,
                                                                          sentAt: $0.sentAt) },
                                operatorsAvailable: hours.map { $0.isOpen(at: services.now) }, hours: hours.map { hoursText($0.slots, context) } ?? [],
                                maxLength: Self.chatMaxLength)
    }

    struct ChatModel: Encodable {
        struct Message: Encodable {
            var author, who, body, time: String
            var latest: Bool
        }
        var messages: [Message]
        var hasMessages: Bool
        var draft: String?
        var maxLength: String
        var hours: [TextItem]?
        var available, away, notice: String?
    }

    private func chatPage(context: UserContext, notice: String? = nil, draft: String = "", problems: [FieldProblem] = []) async throws -> Response {
        let messages = try await conversation(context: context)
        let hours = try await chatHours(context: context)
        let locale = context.locale
        var model = ChatModel(
            messages: messages.enumerated().map { index, message in
                let who: String = switch message.author {
                case "customer": text("support.chat.you", context)
                case "operator": text("support.chat.operator", context, ["name": message.authorName ?? ""]).trimmingCharacters(in: .whitespaces)
                default: text("support.chat.system", context)
                }
                return .init(author: message.author, who: who, body: message.body, time: Formatting.dateTime(message.sentAt, locale: locale),
                             latest: index == messages.count - 1)
            },
            hasMessages: !messages.isEmpty, draft: draft.nonEmpty, maxLength: String(Self.chatMaxLength), notice: notice?.nonEmpty)
        if let hours {
            model.hours = hoursText(hours.slots, context).map { TextItem(text: $0.nonEmpty) }
            if hours.isOpen(at: services.now) {
                model.available = text("support.chat.available", context)
            } else {
                model.away = text("support.chat.away", context, ["next": nextOpeningText(hours, context) ?? ""])
            }
        } else if let care = context.tenant.definition.contacts?.hours?.resolve(locale) {
            model.hours = [TextItem(text: care.nonEmpty)]
        }
        return Pages.render("support_chat", model, errors: problems, title: text("support.chat.title", context), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: Contact

    func channels(context: UserContext) async throws -> [ChannelJSON] {
        try context.require(page: Self.contact)
        let items = try await channelItems(context: context)
        if items.isEmpty {
            let contacts = context.tenant.definition.contacts
            guard contacts?.customerCare != nil || contacts?.email != nil else { return [] }
            return [ChannelJSON(code: "customer_care", title: text("support.contact.customer_care", context), description: nil,
                                phone: contacts?.customerCare, email: contacts?.email, path: nil,
                                hours: contacts?.hours.map { [$0.resolve(context.locale)] } ?? [], openNow: nil)]
        }
        // Only contact points the tenant's own file gives are shown as the provider's: a number or address
        // in the catalogue that the YAML `contacts:` does not list is left out (never an invented one).
        let known = Self.knownContacts(context.tenant.definition.contacts)
        return items.compactMap { item -> ChannelJSON? in
            let data = SupportChannelData.decode(item.data)
            let hours = data.hours.map { OperatorHours(slots: $0) }
            // A portal page is linked only when the user's role opens it.
            let path = data.path.flatMap { path in
                context.tenant.catalog.pages.first { $0.path == path }.map { page in
                    page.definedFeatures(in: context.tenant.definition).contains { context.may($0) } ? path : nil
                } ?? nil
            }
            let phone = data.phone.flatMap { known.phones.contains(Self.dialable($0)) ? $0 : nil }
            let email = data.email.flatMap { known.emails.contains($0.lowercased()) ? $0 : nil }
            guard phone != nil || email != nil || path != nil else { return nil }
            return ChannelJSON(code: item.code, title: item.title, description: item.description, phone: phone, email: email,
                               path: path, hours: hours.map { hoursText($0.slots, context) } ?? [],
                               openNow: hours.map { $0.isOpen(at: services.now) })
        }
    }

    /// The phone numbers (digits and `+` only) and e-mail addresses (lower case) the tenant's YAML gives.
    static func knownContacts(_ contacts: Contacts?) -> (phones: Set<String>, emails: Set<String>) {
        (Set([contacts?.customerCare].compactMap { $0.map(dialable) }), Set([contacts?.email].compactMap { $0?.lowercased() }))
    }

    static func dialable(_ phone: String) -> String { phone.filter { $0.isNumber || $0 == "+" } }

    struct ContactModel: Encodable {
        struct Channel: Encodable {
            var code, title: String
            var description, phone, tel, email, path: String?
            var hours: [TextItem]
            var hasHours: Bool
            var openLabel, openClass: String?
        }
        var channels: [Channel]
        var hasChannels: Bool
    }

    private func contactPage(context: UserContext) async throws -> Response {
        let channels = try await channels(context: context)
        let model = ContactModel(
            channels: channels.map { channel in
                ContactModel.Channel(
                    code: channel.code, title: channel.title, description: channel.description?.nonEmpty,
                    phone: channel.phone?.nonEmpty, tel: (channel.phone ?? "").filter { $0.isNumber || $0 == "+" }.nonEmpty,
                    email: channel.email?.nonEmpty, path: channel.path?.nonEmpty,
                    hours: channel.hours.map { TextItem(text: $0.nonEmpty) }, hasHours: !channel.hours.isEmpty,
                    openLabel: channel.openNow.map { text($0 ? "support.contact.open_now" : "support.contact.closed_now", context) },
                    openClass: channel.openNow.map { $0 ? "open" : "closed" })
            },
            hasChannels: !channels.isEmpty)
        return Pages.render("support_contact", model, title: text("support.contact.title", context), context: context)
    }
}
