import Foundation
import SportelloCore

/// What the requests pages show. Text that may be empty is nil when it is, so the sections over it stay hidden.
extension RequestsController {
    /// A request in a list, or at the top of its own page.
    struct RequestSummary: Encodable {
        var id, number: Int64
        var subject, form, status, statusId: String?
        var open: Bool
        var created, updated: String
        var closed: String?
    }

    /// The requests page: the forms the user may fill in, then the open and the closed requests.
    struct ListPage: Encodable {
        struct Form: Encodable, BlockedByOpenRequest {
            var id: String
            var label: String?
            var description: String?
            var blocked: String?
            var blockedId, blockedNumber: Int64?
            /// When a form with opening windows takes requests ("Opens on…", "Open until…").
            var window: String?
            var closed: Bool?
        }
        var openRequests, closedRequests: [RequestSummary]
        var hasRequests, hasOpen, hasClosed: Bool
        var forms: [Form]
        var canCreate: Bool
    }

    /// A request form: each field with its kind (one `is_…` flag), value, limits, hint and problem.
    struct FormPage: Encodable, BlockedByOpenRequest {
        struct Field: Encodable {
            var name: String
            var label: String?
            var required: Bool
            var value, error: String?
            var isInput, isTextarea, isLinesText, isSelect, isRadio, isCheckboxes, isFile, isPerson: Bool?
            var inputType, autocomplete, inputmode: String?
            var maxLength: Int?
            var accept: String?
            var options: [Option]?
            var personName, personPhone, personEmail, errorName, errorPhone, errorEmail: String?
            var hint, describedby: String?
            /// `integer`, `decimal` and `date` fields: the bounds on the day shown (`min`/`max` attributes).
            var minValue, maxValue: String?
            /// A conditional field: the field it waits for, the path read (`vehicle.fuel`), the values or filledness.
            var whenField, whenPath, whenValues, whenFilled: String?
        }
        struct Option: Encodable {
            var value, label: String?
            var selected: Bool
            var index: Int?
            /// A record's fields that conditions read, as `data-rf-<name>` attributes.
            var data: [DataAttribute]?
        }
        struct DataAttribute: Encodable { var name, value: String }
        var formId: String
        var formLabel: String?
        var description: String?
        /// Why the form takes no request now, naming when it opens next.
        var closed: String?
        var openUntil: String?
        var fields: [Field]
        var multipart: Bool
        var hasNotifyChoices: Bool?
        var notifyChoices: [Option]?
        var notifyError, rule: String?
        var blocked: String?
        var blockedId, blockedNumber: Int64?
    }

    /// One request: its fields, attachments, lifecycle and history.
    struct DetailPage: Encodable {
        struct Field: Encodable {
            var label, value: String?
            /// Said after the value: that the record a `record` field chose no longer exists.
            var note: String?
        }
        struct Attachment: Encodable {
            var id: Int64
            var fileName, field: String?
            var size: String
        }
        struct Event: Encodable {
            var at: String
            var status, note: String?
        }
        struct Step: Encodable {
            var label: String?
            var done, current: Bool
        }
        var request: RequestSummary
        var fields: [Field]
        var attachments: [Attachment]
        var history: [Event]
        var hasFields, hasAttachments, hasLifecycle: Bool
        var notify: String?
        var lifecycle: [Step]?
        var notice: String?
    }

    /// A form that takes no new request while another is open (`max_open`): the message and that request.
    protocol BlockedByOpenRequest {
        var blocked: String? { get set }
        var blockedId: Int64? { get set }
        var blockedNumber: Int64? { get set }
    }
}

extension RequestsController.BlockedByOpenRequest {
    mutating func block(by open: RequestRecord, message: String) {
        blocked = message.nonEmpty
        blockedId = open.id ?? 0
        blockedNumber = open.displayNumber
    }
}
