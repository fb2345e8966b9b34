import SQLKit

/// Every table that holds tenant data. Fenced queries name tables only through this type.
/// A table of the schema. The platform's tables are listed here; a module declares its own in its folder
/// (`extension StoredTable { static let devices = StoredTable("devices") }`).
public struct StoredTable: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    init(_ name: String) { rawValue = name }

    public static let customers = StoredTable("customers"), users = StoredTable("users"), contracts = StoredTable("contracts")
    public static let lines = StoredTable("lines"), services = StoredTable("services"), invoices = StoredTable("invoices")
    public static let documents = StoredTable("documents"), statementEntries = StoredTable("statement_entries")
    public static let payments = StoredTable("payments"), usageRecords = StoredTable("usage_records"), recharges = StoredTable("recharges")
    public static let requests = StoredTable("requests"), requestEvents = StoredTable("request_events")
    public static let notificationPreferences = StoredTable("notification_preferences")
    public static let invitations = StoredTable("invitations"), oneTimeTokens = StoredTable("one_time_tokens")
    public static let sessions = StoredTable("sessions"), auditLog = StoredTable("audit_log"), outbox = StoredTable("outbox")
    public static let flowStates = StoredTable("flow_states"), catalogItems = StoredTable("catalog_items")
    public static let sharedCounters = StoredTable("shared_counters"), dataVersions = StoredTable("data_versions")
    public static let customerFieldValues = StoredTable("customer_field_values"), userFieldValues = StoredTable("user_field_values")
}

/// The platform's tenant tables emptied before the modules' (`deleteAllTenantData`, children first).
let platformTablesBeforeModules: [StoredTable] = [.outbox, .auditLog, .sessions, .oneTimeTokens, .invitations, .notificationPreferences,
                                                   .userFieldValues, .customerFieldValues]
/// The platform's tenant tables emptied after the modules' (a module's tables point at these).
let platformTablesAfterModules: [StoredTable] = [.requestEvents, .requests, .recharges, .usageRecords, .payments, .statementEntries,
                                                  .documents, .invoices, .services, .lines]
/// The last platform tables emptied, after the modules' tables that platform tables point at (`lines.share_plan_id`).
let platformTablesLast: [StoredTable] = [.contracts, .users, .customers, .catalogItems]

/// A column's kind, rendered for each engine by SQLKit's dialects.
enum ColumnKind {
    case integer, text, bool, blob

    var dataType: SQLDataType {
        switch self {
        case .integer: .bigint
        case .text: .text
        case .bool: .custom(SQLRaw("BOOLEAN"))
        case .blob: .blob
        }
    }
}

struct ColumnSpec {
    var name: String
    var kind: ColumnKind
    var required: Bool
    /// The table this column points at (by `(tenant_id, id)`, so a row can only point within its tenant).
    var references: StoredTable?
}

/// One table, described once for both engines. Each also gets `id` (auto-increment primary key) and
/// `tenant_id` (text, required), a unique `(tenant_id, id)` for same-tenant foreign keys, and the
/// row-level security policy on PostgreSQL.
struct TableSpec {
    var table: StoredTable
    var columns: [ColumnSpec]
    var uniques: [[String]] = []
    var indexes: [[String]] = []
}

func col(_ name: String, _ kind: ColumnKind, required: Bool = false, references: StoredTable? = nil) -> ColumnSpec {
    ColumnSpec(name: name, kind: kind, required: required, references: references)
}

func req(_ name: String, _ kind: ColumnKind, references: StoredTable? = nil) -> ColumnSpec {
    ColumnSpec(name: name, kind: kind, required: true, references: references)
}

/// The tables of the first schema version, in creation order (referenced tables first).
let schemaVersion1: [TableSpec] = [
    TableSpec(table: .customers, columns: [
        col("external_id", .text), req("customer_type", .text), req("customer_code", .text),
        col("first_name", .text), col("last_name", .text), col("company_name", .text),
        col("tax_code", .text), col("vat_number", .text), col("birth_date", .text), col("birth_place", .text),
        col("email", .text), col("phone", .text), col("mobile", .text), col("pec", .text),
        col("recipient_code", .text), col("iban", .text), col("street", .text), col("postal_code", .text),
        col("city", .text), col("province", .text),
        col("legal_rep_first_name", .text), col("legal_rep_last_name", .text), col("legal_rep_birth_date", .text),
        col("legal_rep_tax_code", .text), col("legal_rep_email", .text), col("legal_rep_mobile", .text),
        req("administrative_status", .text), req("invoice_delivery", .text), req("payment_method", .text),
        req("created_at", .integer),
    ], uniques: [["tenant_id", "external_id"], ["tenant_id", "customer_code"]],
       indexes: [["tenant_id", "vat_number"], ["tenant_id", "tax_code"]]),
    TableSpec(table: .users, columns: [
        req("customer_id", .integer, references: .customers), req("username", .text), req("username_key", .text),
        col("email", .text), col("first_name", .text), col("last_name", .text), col("password_hash", .text),
        req("role", .text), req("toggles", .text), col("creator_user_id", .integer, references: .users),
        req("status", .text), col("security_question", .text), col("security_answer_hash", .text),
        req("failed_logins", .integer), col("locked_until", .integer), col("last_login_at", .integer),
        req("created_at", .integer),
    ], uniques: [["tenant_id", "username_key"]],
       indexes: [["tenant_id", "customer_id", "role"], ["tenant_id", "email"]]),
    TableSpec(table: .contracts, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers), req("code", .text),
        req("offer", .text), req("kind", .text), req("status", .text), req("starts_on", .text), col("expires_on", .text),
    ], uniques: [["tenant_id", "external_id"]], indexes: [["tenant_id", "customer_id"]]),
    TableSpec(table: .lines, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers),
        req("contract_id", .integer, references: .contracts), req("kind", .text), req("identifier", .text),
        col("description", .text), req("status", .text), col("activated_on", .text), col("expires_on", .text),
        col("assigned_user_id", .integer, references: .users),
    ], uniques: [["tenant_id", "external_id"]],
       indexes: [["tenant_id", "customer_id"], ["tenant_id", "contract_id"], ["tenant_id", "identifier"]]),
    TableSpec(table: .services, columns: [
        req("contract_id", .integer, references: .contracts), col("line_id", .integer, references: .lines),
        req("name", .text), req("status", .text), req("monthly_fee_cents", .integer), col("expires_on", .text),
    ], indexes: [["tenant_id", "contract_id"]]),
    TableSpec(table: .invoices, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers),
        col("contract_id", .integer, references: .contracts), req("number", .text), req("issued_on", .text),
        req("due_on", .text), col("period_from", .text), col("period_to", .text), req("net_cents", .integer),
        req("tax_cents", .integer), req("total_cents", .integer), req("status", .text), col("paid_on", .text),
    ], uniques: [["tenant_id", "external_id"], ["tenant_id", "number"]],
       indexes: [["tenant_id", "customer_id", "issued_on"]]),
    TableSpec(table: .documents, columns: [
        req("owner_kind", .text), req("owner_id", .integer), req("file_name", .text), req("content_type", .text),
        req("content", .blob), req("created_at", .integer),
    ], indexes: [["tenant_id", "owner_kind", "owner_id"]]),
    TableSpec(table: .statementEntries, columns: [
        req("customer_id", .integer, references: .customers), col("invoice_id", .integer, references: .invoices),
        req("booked_on", .text), col("due_on", .text), req("description", .text), req("amount_cents", .integer),
        req("is_open", .bool),
    ], indexes: [["tenant_id", "customer_id", "booked_on"]]),
    TableSpec(table: .payments, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers),
        col("invoice_id", .integer, references: .invoices), req("paid_on", .text), req("amount_cents", .integer),
        req("method", .text), col("reference", .text),
    ], uniques: [["tenant_id", "external_id"]], indexes: [["tenant_id", "customer_id", "paid_on"]]),
    TableSpec(table: .usageRecords, columns: [
        col("external_id", .text), req("customer_id", .integer), req("line_id", .integer, references: .lines),
        req("started_at", .integer), req("kind", .text), col("counterpart", .text), req("duration_seconds", .integer),
        req("volume_bytes", .integer), req("cost_cents", .integer), col("description", .text),
    ], uniques: [["tenant_id", "external_id"]],
       // The call-detail page: one line, a period, newest first, paged by (started_at, id).
       indexes: [["tenant_id", "line_id", "started_at", "id"]]),
    TableSpec(table: .recharges, columns: [
        col("external_id", .text), req("customer_id", .integer, references: .customers),
        req("line_id", .integer, references: .lines), req("recharged_at", .integer), req("amount_cents", .integer),
        req("channel", .text), req("status", .text),
    ], uniques: [["tenant_id", "external_id"]], indexes: [["tenant_id", "line_id", "recharged_at"]]),
    TableSpec(table: .requests, columns: [
        req("customer_id", .integer, references: .customers), col("user_id", .integer, references: .users),
        req("form", .text), col("form_group", .text), req("subject", .text), req("payload", .text),
        req("status", .text), req("created_at", .integer), req("updated_at", .integer), col("closed_at", .integer),
    ], indexes: [["tenant_id", "customer_id", "created_at"]]),
    TableSpec(table: .requestEvents, columns: [
        req("request_id", .integer, references: .requests), req("at", .integer), req("status", .text),
        col("note", .text), col("actor_user_id", .integer, references: .users),
    ], indexes: [["tenant_id", "request_id", "at"]]),
    TableSpec(table: .notificationPreferences, columns: [
        req("user_id", .integer, references: .users), req("rule", .text), req("channel", .text),
        req("enabled", .bool), col("threshold", .integer),
    ], uniques: [["tenant_id", "user_id", "rule", "channel"]]),
    TableSpec(table: .invitations, columns: [
        req("customer_id", .integer, references: .customers), req("email", .text), req("username", .text),
        req("role", .text), req("token_hash", .text), col("created_by", .integer, references: .users),
        req("created_at", .integer), req("expires_at", .integer), col("accepted_at", .integer), col("revoked_at", .integer),
    ], uniques: [["tenant_id", "token_hash"]], indexes: [["tenant_id", "customer_id"]]),
    TableSpec(table: .oneTimeTokens, columns: [
        col("user_id", .integer, references: .users), req("purpose", .text), req("token_hash", .text),
        req("created_at", .integer), req("expires_at", .integer), col("used_at", .integer), req("attempts", .integer),
    ], uniques: [["tenant_id", "token_hash"]], indexes: [["tenant_id", "user_id", "purpose"]]),
    TableSpec(table: .sessions, columns: [
        req("token_hash", .text), req("user_id", .integer, references: .users), req("created_at", .integer),
        req("last_seen_at", .integer), req("expires_at", .integer), req("csrf_token_hash", .text),
    ], uniques: [["tenant_id", "token_hash"]], indexes: [["tenant_id", "user_id"]]),
    TableSpec(table: .auditLog, columns: [
        req("at", .integer), col("actor_user_id", .integer), req("action", .text), col("target_kind", .text),
        col("target_id", .text), col("detail", .text),
    ], indexes: [["tenant_id", "at"]]),
    TableSpec(table: .outbox, columns: [
        req("created_at", .integer), req("kind", .text), req("recipient", .text), req("subject", .text),
        req("body_text", .text), col("body_html", .text), req("status", .text), req("attempts", .integer),
        req("next_attempt_at", .integer), col("last_error", .text), col("sent_at", .integer),
    ], indexes: [["tenant_id", "status", "next_attempt_at"], ["tenant_id", "created_at"]]),
]

/// Tables added by the second schema version (registration and recovery flows).
let schemaVersion2Tables: [TableSpec] = [
    // A registration or recovery in progress: the browser holds the secret, the store its hash and the
    // steps done so far (JSON of Core's `FlowProgress`).
    TableSpec(table: .flowStates, columns: [
        req("token_hash", .text), req("flow", .text), req("data", .text), req("created_at", .integer),
        req("updated_at", .integer), req("expires_at", .integer), col("completed_at", .integer),
    ], uniques: [["tenant_id", "token_hash"]], indexes: [["tenant_id", "expires_at"]]),
]

/// Columns added to existing tables by the second schema version.
let schemaVersion2Columns: [(StoredTable, ColumnSpec)] = [
    (.users, col("password_changed_at", .integer)),
    // Hashes of the previous passwords, newest first, separated by newlines (`history:` in the policy).
    (.users, col("password_history", .text)),
    // When the current run of failed logins began (lockout `window:`).
    (.users, col("first_failed_login_at", .integer)),
    // What a token carries besides its purpose (the flow state it belongs to, a pending e-mail…).
    (.oneTimeTokens, col("data", .text)),
]

/// Tables added by the fourth schema version: the tenant's catalogue (offers, promotions, products on sale),
/// read by several sections.
let schemaVersion4Tables: [TableSpec] = [
    // One thing the tenant offers: `kind` is `offer` (TIM), `promotion` (WINDTRE), `product` (Tunda)…;
    // `customer_type` limits it to one customer type; `data` is JSON for what only some kinds need.
    TableSpec(table: .catalogItems, columns: [
        req("kind", .text), req("code", .text), req("title", .text), col("description", .text), col("category", .text),
        col("customer_type", .text), col("price_cents", .integer), col("billing_period", .text),
        col("valid_from", .text), col("valid_to", .text), req("position", .integer), col("data", .text), req("active", .bool),
    ], uniques: [["tenant_id", "kind", "code"]], indexes: [["tenant_id", "kind", "position"]]),
]

/// Each tenant's data version: one row per tenant whose number grows with every committed write that changes data a
/// page may show (see `DataVersion`). Never emptied with the tenant's data, so a number is never handed out twice.
let dataVersionTables: [TableSpec] = [
    TableSpec(table: .dataVersions, columns: [req("version", .integer)], uniques: [["tenant_id"]]),
]

/// Counters every instance shares (login throttle, lockout and mail limits): hits of one key in one
/// fixed time bucket (`bucket` = start of the window, Unix seconds).
let sharedCounterTables: [TableSpec] = [
    TableSpec(table: .sharedCounters, columns: [
        req("counter_key", .text), req("bucket", .integer), req("hits", .integer), req("expires_at", .integer),
    ], uniques: [["tenant_id", "counter_key", "bucket"]], indexes: [["tenant_id", "expires_at"]]),
]

/// The values of a tenant's own fields (`customer_fields:`, `user_fields:`), one row per field set, in the
/// field's canonical form (see `FieldValue.stored`); indexed by value so that a flow can find the customer whose
/// field equals what a person typed.
let customFieldTables: [TableSpec] = [
    TableSpec(table: .customerFieldValues, columns: [
        req("customer_id", .integer, references: .customers), req("field", .text), req("value", .text),
    ], uniques: [["tenant_id", "customer_id", "field"]], indexes: [["tenant_id", "field", "value"]]),
    TableSpec(table: .userFieldValues, columns: [
        req("user_id", .integer, references: .users), req("field", .text), req("value", .text),
    ], uniques: [["tenant_id", "user_id", "field"]]),
]

extension TableSpec {
    func create(on sql: any SQLDatabase) async throws {
        let name = table.rawValue
        let builder = sql.create(table: name)
            .column("id", type: .bigint, .primaryKey(autoIncrement: true))
            .column("tenant_id", type: .text, .notNull)
        for column in columns {
            builder.column(column.name, type: column.kind.dataType, column.required ? [.notNull] : [])
        }
        builder.unique("tenant_id", "id")
        for unique in uniques { builder.unique(unique) }
        for column in columns {
            if let target = column.references {
                builder.foreignKey(["tenant_id", column.name], references: target.rawValue, ["tenant_id", "id"])
            }
        }
        try await builder.run()
        for (number, index) in indexes.enumerated() {
            let builder = sql.create(index: "\(name)_idx\(number + 1)").on(name)
            for column in index { _ = builder.column(column) }
            try await builder.run()
        }
    }

    /// The PostgreSQL wall behind the fenced handles: rows of other tenants do not exist for a transaction.
    func enableRowLevelSecurity(on sql: any SQLDatabase) async throws {
        let name = table.rawValue
        try await sql.raw("ALTER TABLE \(ident: name) ENABLE ROW LEVEL SECURITY").run()
        try await sql.raw("ALTER TABLE \(ident: name) FORCE ROW LEVEL SECURITY").run()
        try await sql.raw("""
            CREATE POLICY tenant_fence ON \(ident: name)
              USING (tenant_id = current_setting('sportello.tenant', true))
              WITH CHECK (tenant_id = current_setting('sportello.tenant', true))
            """).run()
    }
}
