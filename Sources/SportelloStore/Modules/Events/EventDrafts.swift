import Foundation
import SportelloCore

// The portal's events and their facts, one constructor per type, so that every place recording one writes the same
// facts under the same names (snake_case ids and values; amounts in cents; days `YYYY-MM-DD`; no labels).

extension EventDraft {
    /// `invoice.issued`: number, days, amounts, status; `source` says where it came from (`import`, `order`).
    public static func invoiceIssued(_ invoice: InvoiceRecord, id: Int64, source: String) -> EventDraft {
        EventDraft(.invoiceIssued, customerId: invoice.customerId, subject: "invoice", id: id, facts: [
            "invoice_id": .integer(id), "number": .string(invoice.number), "issued_on": .string(invoice.issuedOn),
            "due_on": .string(invoice.dueOn), "net_cents": .integer(invoice.netCents), "tax_cents": .integer(invoice.taxCents),
            "total_cents": .integer(invoice.totalCents), "status": .string(invoice.status.rawValue),
            "contract_id": .optional(invoice.contractId), "holder_user_id": .optional(invoice.holderUserId),
            "external_id": .optional(invoice.externalId), "source": .string(source),
        ])
    }

    /// `invoice.paid` (payment confirmed): the invoice, the day, the amount this payment covered (nil when an import
    /// marked it paid), the method and whether a demo integration wrote it.
    public static func invoicePaid(_ invoice: InvoiceRecord, paidOn: String, amountCents: Int64?, method: String?, paymentId: Int64?,
                                   simulated: Bool, source: String, actorUserId: Int64? = nil) -> EventDraft {
        EventDraft(.invoicePaid, customerId: invoice.customerId, subject: "invoice", id: invoice.id, actorUserId: actorUserId, facts: [
            "invoice_id": .optional(invoice.id), "number": .string(invoice.number), "total_cents": .integer(invoice.totalCents),
            "paid_on": .string(paidOn), "amount_cents": .optional(amountCents), "method": .optional(method),
            "payment_id": .optional(paymentId), "simulated": .bool(simulated), "holder_user_id": .optional(invoice.holderUserId),
            "source": .string(source),
        ])
    }

    /// `request.created`: id, number, form, group, subject, status, the submitting user.
    public static func requestCreated(_ request: RequestRecord, id: Int64, number: Int64) -> EventDraft {
        EventDraft(.requestCreated, customerId: request.customerId, subject: "request", id: id, actorUserId: request.userId, facts: [
            "request_id": .integer(id), "number": .integer(number), "form": .string(request.form), "form_group": .optional(request.formGroup),
            "subject": .string(request.subject), "status": .string(request.status), "user_id": .optional(request.userId),
        ])
    }

    /// `request.status_changed`: from and to, with the note written for the customer.
    public static func requestStatusChanged(_ request: RequestRecord, id: Int64, to status: String, note: String?,
                                            actorUserId: Int64?) -> EventDraft {
        EventDraft(.requestStatusChanged, customerId: request.customerId, subject: "request", id: id, actorUserId: actorUserId, facts: [
            "request_id": .integer(id), "number": .optional(request.number), "form": .string(request.form), "subject": .string(request.subject),
            "from": .string(request.status), "to": .string(status), "note": .optional(note), "user_id": .optional(request.userId),
        ])
    }

    /// `chat.replied`: the message and the user it answers (the text is read from the conversation, not carried).
    public static func chatReplied(messageId: Int64, customerId: Int64, userId: Int64, operatorName: String) -> EventDraft {
        EventDraft(.chatReplied, customerId: customerId, subject: "chat_message", id: messageId, facts: [
            "message_id": .integer(messageId), "user_id": .integer(userId), "operator": .string(operatorName),
        ])
    }

    /// `registration.completed`: the new user, their role, the flow, and whether the flow created the customer too.
    public static func registrationCompleted(_ user: UserRecord, flow: String, newCustomer: Bool, invitationId: Int64?) -> EventDraft {
        EventDraft(.registrationCompleted, customerId: user.customerId, subject: "user", id: user.id, actorUserId: user.id, facts: [
            "user_id": .optional(user.id), "role": .string(user.role), "flow": .string(flow), "new_customer": .bool(newCustomer),
            "invitation_id": .optional(invitationId),
        ])
    }

    /// `user.invited`: the invitation, the role offered, who invited (nil: staff) and until when the link works.
    public static func userInvited(invitationId: Int64, customerId: Int64, role: String, invitedBy: Int64?, expiresAt: Int64) -> EventDraft {
        EventDraft(.userInvited, customerId: customerId, subject: "invitation", id: invitationId, actorUserId: invitedBy, facts: [
            "invitation_id": .integer(invitationId), "role": .string(role), "expires_at": .integer(expiresAt),
        ])
    }

    /// `user.blocked` or `user.unblocked`.
    public static func userBlocked(_ user: UserRecord, blocked: Bool, actorUserId: Int64?) -> EventDraft {
        EventDraft(blocked ? .userBlocked : .userUnblocked, customerId: user.customerId, subject: "user", id: user.id,
                   actorUserId: actorUserId, facts: ["user_id": .optional(user.id), "role": .string(user.role), "status": .string(user.status.rawValue)])
    }

    /// `user.role_changed`: from and to.
    public static func userRoleChanged(_ user: UserRecord, from previous: String, actorUserId: Int64?) -> EventDraft {
        EventDraft(.userRoleChanged, customerId: user.customerId, subject: "user", id: user.id, actorUserId: actorUserId, facts: [
            "user_id": .optional(user.id), "from": .string(previous), "to": .string(user.role),
        ])
    }

    /// `line_activation.stage_reached`: the stage and percentage before and after, the expected day, the status.
    public static func lineActivationStageReached(before: LineActivationRecord, after: LineActivationRecord, actorUserId: Int64?) -> EventDraft {
        EventDraft(.lineActivationStageReached, customerId: after.customerId, subject: "line_activation", id: after.id, actorUserId: actorUserId, facts: [
            "activation_id": .optional(after.id), "line_id": .optional(after.lineId), "kind": .string(after.kind),
            "identifier": .optional(after.identifier), "offer": .string(after.offer), "stage": .string(after.stage),
            "previous_stage": .string(before.stage), "progress": .integer(after.progress), "previous_progress": .integer(before.progress),
            "expected_on": .optional(after.expectedOn), "status": .string(after.status.rawValue),
        ])
    }

    /// `record.created` or `record.changed`: kind, external id, owner and user, date, values (canonical), and for a
    /// change the fields whose value changed.
    public static func record(created: Bool, id: Int64, kind: String, externalId: String, customerId: Int64, ownerRecordId: Int64?,
                              userId: Int64?, date: String?, values: [String: String], changedFields: [String]) -> EventDraft {
        var facts: [String: EventFact] = [
            "record_id": .integer(id), "kind": .string(kind), "external_id": .string(externalId),
            "owner_record_id": .optional(ownerRecordId), "user_id": .optional(userId), "date": .optional(date),
        ]
        for (field, value) in values { facts["value." + field] = .string(value) }
        if !created { facts["changed"] = .strings(changedFields.sorted()) }
        return EventDraft(created ? .recordCreated : .recordChanged, customerId: customerId, subject: "record", id: id, facts: facts)
    }
}
