/// The tenant-definition language: every key, its shape and its documentation, in one place.
/// `sportello validate` checks files against it, `sportello schema` prints it as JSON Schema and
/// `docs/REFERENCE.md` is generated from it.
public enum TenantSchema {
    static let fieldList = Shape.list(.identifier)
    static let scopes = FeatureScope.allCases.map(\.rawValue)

    public static let customerType = ObjectSchema("customer type", "A kind of customer and the master data it must have.", [
        .required("label", .text, "Name shown to customers and staff.", example: "{it: Privato, en: Private}"),
        .required("kind", .choice(CustomerKind.allCases.map(\.rawValue)), "person, business or public_body: decides which name fields apply."),
        .required("required_fields", fieldList, "Customer fields that must be present: the catalogue's or the tenant's own (`customer_fields`).", example: "[first_name, last_name, tax_code]"),
        .optional("optional_fields", fieldList, "Customer fields that may be present."),
    ])

    public static let passwordPolicy = ObjectSchema("password policy", "Rules every new password must meet, enforced on the server and shown in the browser.", [
        .required("min_length", .integer(min: 1, max: 256), "Minimum number of characters.", example: "8"),
        .optional("max_length", .integer(min: 8, max: 1024), "Maximum number of characters."),
        .optional("require", .list(.choice(PasswordRequirement.allCases.map(\.rawValue))), "Character classes that must appear.", example: "[lowercase, uppercase, digit, symbol]"),
        .optional("forbid_personal_data", .boolean, "Refuse passwords containing the user's names, username or tax code."),
        .optional("history", .integer(min: 0, max: 50), "How many previous passwords may not be reused."),
        .optional("max_age", .duration, "Force a change after this long."),
    ])

    public static let login = ObjectSchema("login", "How users sign in and how long sessions last.", [
        .required("identifiers", .list(.choice(LoginIdentifier.allCases.map(\.rawValue)), minItems: 1), "What the login field accepts.", example: "[username, email]"),
        .required("case_sensitive", .boolean, "Whether usernames are case sensitive (passwords always are)."),
        .required("password", .object(passwordPolicy), "Password policy."),
        .optional("lockout", .object(ObjectSchema("lockout", "Temporary lock after repeated wrong passwords.", [
            .required("max_attempts", .positiveInteger, "Wrong passwords allowed within the window.", example: "5"),
            .required("window", .duration, "Window in which attempts are counted.", example: "15m"),
            .required("duration", .duration, "How long the account stays locked.", example: "30m"),
        ])), "Account lockout."),
        .optional("throttle", .object(ObjectSchema("throttle", "Per-address limit on login and recovery attempts.", [
            .required("per_ip", .positiveInteger, "Attempts allowed from one IP address within the window.", example: "20"),
            .required("window", .duration, "Counting window.", example: "1m"),
        ])), "Per-IP throttling."),
        .required("session", .object(ObjectSchema("session", "Session lifetime.", [
            .required("idle_timeout", .duration, "Sign out after this much inactivity.", example: "30m"),
            .required("absolute_timeout", .duration, "Sign out after this long whatever happens.", example: "12h"),
        ])), "Session timeouts."),
        .optional("totp", .choice(TOTPMode.allCases.map(\.rawValue)), "Time-based one-time passwords: off, optional or required."),
    ])

    public static let feature = ObjectSchema("feature", "Something a user can see or do in the portal.", [
        .required("label", .text, "Name shown in navigation and in the matrix."),
        .required("section", .identifier, "Section (from `sections`) the feature belongs to."),
        .optional("capability", .identifier, "The capability slot the feature opens (see Capabilities); a feature named after a slot binds to it without this key.", example: "invoices.pay"),
        .optional("page_title", .text, "Title of the page the feature opens, in the tenant's words (page heading, browser title, home-page shortcut). Without it the page is called by its section's label when that section opens no other page, else by the platform's title.", example: "{it: Traffico, en: Traffic}"),
        .optional("scopes", .list(.choice(scopes)), "Data scopes the feature supports: own_line, all_lines."),
        .optional("plugin", .identifier, "Plugin (manifest under plugins/, listed in the tenant's `plugins:`) that provides the data or action."),
    ])

    public static let role = ObjectSchema("role", "A profile users are given; decides which features they see.", [
        .required("label", .text, "Name shown under the user's name."),
        .optional("description", .text, "What the role is for."),
        .optional("inherits", .list(.identifier), "Roles whose grants this role also has."),
        .optional("grants", .list(.identifier), "Features this role may use."),
        .optional("exclusive", .list(.identifier), "Features only this role may use: granted to it, forbidden to every other role, never inherited."),
        .optional("scopes", .map(.choice(scopes)), "Per feature, the widest scope this role gets (own_line or all_lines).", example: "{usage.view: own_line}"),
        .optional("toggles", .map(.object(ObjectSchema("toggle", "A per-user yes/no switch that adds features on top of the role.", [
            .required("label", .text, "Label on the user-management form."),
            .required("features", .list(.identifier, minItems: 1), "Features the switch enables."),
            .optional("default", .boolean, "Whether the switch starts on."),
        ]))), "Per-user switches (Referente Semplice, sub-accounts)."),
        .optional("manages", .map(.object(ObjectSchema("management", "What this role may do to users of another role.", [
            .required("actions", .list(.choice(UserAction.allCases.map(\.rawValue)), minItems: 1), "create, edit, change_role, change_toggles, block, delete."),
            .optional("creator_only", .list(.choice(UserAction.allCases.map(\.rawValue))), "Actions allowed only on users this user created."),
        ]))), "Roles this role may create, edit, block or delete.", example: "{telco_manager: {actions: [create, delete], creator_only: [delete]}}"),
        .optional("cardinality", .object(ObjectSchema("cardinality", "How many users may hold the role.", [
            .optional("min", .integer(min: 0, max: nil), "At least this many."),
            .optional("max", .integer(min: 0, max: nil), "At most this many."),
            .required("per", .choice(CardinalityScope.allCases.map(\.rawValue)), "Counted per customer, per VAT number or per contract."),
        ])), "Limits such as one User Admin per VAT number."),
        .optional("changeable_in_portal", .boolean, "false: nobody can assign or take away this role in the portal."),
        .optional("change_hint", .text, "What to do instead when the role cannot be changed here (e.g. call 191)."),
        .optional("customer_types", .list(.identifier), "Customer types that may have users of this role (default: all)."),
    ])

    static let stepOptions: [(String, [String])] = [
        ("invitation", ["expires", "issued_by", "reissue", "prefill_email", "admin_email_for", "message"]),
        ("verify_customer", ["match", "optional_fields", "max_attempts", "window", "message"]),
        ("customer_details", ["fields", "optional_fields", "message"]),
        ("identify", ["by", "message"]),
        ("credentials", ["username", "unique", "message"]),
        ("password", ["confirm", "strength_meter", "show_toggle", "message"]),
        ("security_question", ["confirm", "message"]),
        ("security_answer", ["max_attempts", "message"]),
        ("email_verification", ["expires", "deliver_to", "message"]),
        ("activation", ["expires", "deliver_to", "message"]),
        ("first_login_credentials", ["username", "message"]),
        ("control_code", ["length", "expires", "max_attempts", "message"]),
        ("temporary_password", ["length", "charset", "force_change", "expires", "message"]),
        ("reset_link", ["expires", "message"]),
        ("send_username", ["message"]),
        ("summary_email", ["message"]),
        ("confirmation", ["message"]),
        ("automatic_login", ["message"]),
    ]

    public static let step = ObjectSchema("flow step", "One step of a registration or recovery flow, from the step library.", [
        .required("step", .choice(StepKind.allCases.map(\.rawValue)), "Which step."),
        .optional("expires", .duration, "How long the link, code or invitation stays valid.", example: "30d"),
        .optional("issued_by", .choice(StaffOrUser.allCases.map(\.rawValue)), "invitation: who issues it (staff)."),
        .optional("reissue", .boolean, "invitation: staff may issue a new link after expiry."),
        .optional("prefill_email", .boolean, "invitation: the completion form shows the invited e-mail (editable)."),
        .optional("admin_email_for", .list(.identifier), "invitation: customer types whose completion must use the Administrator's e-mail."),
        .optional("match", fieldList, "verify_customer: what must match the customer: customer fields (the catalogue's or the tenant's own), and `<record kind>.<field>` for \"the customer has a record of that kind (`records:`) whose field equals what was typed\", validated and normalised as the field is (a policy number printed on a document the provider sent).", example: "[policies.policy_number, tax_code]"),
        .optional("fields", fieldList, "customer_details: customer fields (the catalogue's or the tenant's own) the customer must enter."),
        .optional("optional_fields", fieldList, "Fields the user may enter."),
        .optional("max_attempts", .positiveInteger, "Failed attempts allowed before throttling."),
        .optional("window", .duration, "Window for counting failed attempts."),
        .optional("by", .list(.identifier), "identify: what the user may give to be found (username, email, customer_code…)."),
        .optional("username", .choice(UsernameSource.allCases.map(\.rawValue)), "credentials: the username is the e-mail, chosen, or assigned by staff."),
        .optional("unique", .choice(UniquenessScope.allCases.map(\.rawValue)), "credentials: where the username must be unique (tenant, main_accounts, customer)."),
        .optional("confirm", .boolean, "password / security_question: type it twice."),
        .optional("strength_meter", .boolean, "password: show the requirements ticking and a strength bar."),
        .optional("show_toggle", .boolean, "password: a button to show the password in clear."),
        .optional("length", .integer(min: 4, max: 64), "control_code / temporary_password: number of characters."),
        .optional("charset", .choice(Charset.allCases.map(\.rawValue)), "temporary_password: numeric or alphanumeric."),
        .optional("force_change", .boolean, "temporary_password: must be replaced at the next login."),
        .optional("deliver_to", .list(.choice(DeliveryTarget.allCases.map(\.rawValue)), minItems: 1),
                  "email_verification / activation: where the link goes, the first the customer record has (`customer.legal_rep_email`, `customer.email`, `customer.pec`), or `entered` (the address typed in the flow, the default). A registration that verifies a customer must deliver to the record.",
                  example: "[customer.legal_rep_email]"),
        .optional("message", .text, "Text shown on the step's page."),
    ])

    public static let flow = ObjectSchema("flow", "A registration or recovery procedure made of library steps.", [
        .required("kind", .choice(FlowKind.allCases.map(\.rawValue)), "registration or recovery."),
        .optional("purpose", .choice(FlowPurpose.allCases.map(\.rawValue)), "register, forgot_username or reset_password (recovery flows)."),
        .required("label", .text, "Title of the flow's pages."),
        .optional("role", .identifier, "Role given to the user a registration flow creates."),
        .optional("customer_types", .list(.identifier), "Customer types the flow is for (default: all)."),
        .optional("excluded_roles", .list(.identifier), "Roles that may not use this flow."),
        .optional("excluded_message", .text, "What an excluded user is told instead."),
        .required("steps", .list(.tagged(discriminator: "step", object: step, variants: stepOptions), minItems: 1), "The steps, in order."),
    ])

    public static let retentionRule = ObjectSchema("retention rule", "How long a kind of record is visible and kept.", [
        .optional("visible_for", .duration, "Records older than this are not shown (e.g. 24mo invoices).", example: "24mo"),
        .optional("export_max_range", .duration, "Widest date range one export may cover.", example: "90d"),
        .optional("delete_after", .duration, "Records are deleted after this long."),
    ])

    public static let formCondition = ObjectSchema("form condition", "When a field is shown (or a window applies): another field of the form holds a value. With none of equals, in or filled, the field must simply have a value. The server decides with the same rule the page's script shows and hides fields with: a hidden field is neither required nor stored.", [
        .required("field", .identifier, "A field of the form, or `<record field>.<field of its kind>` for a field of the record picked there.", example: "vehicle.fuel"),
        .optional("equals", .string, "The value, as the field stores it: an option id, true/false, the text.", example: "crash"),
        .optional("in", .list(.string, minItems: 1), "Any of these values.", example: "[petrol, electric]"),
        .optional("filled", .boolean, "true: the field has any value; false: it is empty.", example: "true"),
    ])

    public static let openingWindow = ObjectSchema("opening window", "A calendar window in which the form takes requests, in the tenant's `time_zone`: every constraint given holds at once. A form with windows takes a request when any window that applies is open; outside them pages and the API refuse it naming when it opens next, and the forms list says when each form opens.", [
        .optional("days", .string, "Days of the month: numbers or ranges, comma-separated.", example: "\"1-10, 20-25\""),
        .optional("last_days", .integer(min: 1, max: 28), "The last N days of each month.", example: "5"),
        .optional("weekdays", .string, "Days of the week (mon…sun): names or ranges, which may wrap (fri-mon).", example: "mon-fri"),
        .optional("hours", .string, "Times of day, `HH:MM-HH:MM` ranges, comma-separated; the end is excluded and 24:00 is the day's end.", example: "\"09:00-13:00, 14:00-18:00\""),
        .optional("months", .string, "Months 1–12: numbers or ranges, which may wrap (11-2): a window that comes back every year.", example: "\"11-12\""),
        .optional("from", .string, "First day open, yyyy-mm-dd.", example: "2026-11-01"),
        .optional("until", .string, "Last day open (included), yyyy-mm-dd.", example: "2026-12-15"),
        .optional("when", .object(formCondition), "The window applies only to requests meeting this condition (a window per kind of record picked).", example: "{field: vehicle.fuel, equals: electric}"),
    ])

    public static let formDeadline = ObjectSchema("form deadline", "The form may be sent only within a time of the date a date field holds (a claim within 3 days of the event); a later request is refused next to the field, naming the last day.", [
        .required("field", .identifier, "A `date` field of the form.", example: "happened_on"),
        .required("within", .duration, "How long after that date the form may be sent, in days, weeks, months or years.", example: "3d"),
        .optional("message", .text, "What the customer is told instead of the platform's message.", example: "{it: \"Segnala il guasto entro 3 giorni.\", en: \"Report the fault within 3 days.\"}"),
    ])

    public static let formField = ObjectSchema("form field", "A field of a request form.", [
        .required("name", .identifier, "Field id, unique in the form."),
        .required("label", .text, "Label next to the input."),
        .required("type", .choice(FormFieldType.allCases.map(\.rawValue)), "Input type; `record` picks one of the customer's records of `kind` (the request keeps which one)."),
        .optional("required", .boolean, "Must be filled in."),
        .optional("max_length", .positiveInteger, "Maximum characters (e.g. 300 for notes)."),
        .optional("max_items", .positiveInteger, "Maximum selections for `lines` (e.g. 10)."),
        .optional("options", .list(.string, minItems: 1), "Choices for `choice`."),
        .optional("accept", .list(.string), "File extensions for `attachment`."),
        .optional("max_size_mb", .positiveInteger, "Largest attachment in MB."),
        .optional("kind", .identifier, "`record`: the record kind (from `records:`) the field picks one of; the list holds the user's customer's records of the kind that the user's role sees (only their own with scope `own`).", example: "vehicles"),
        .optional("filter", .map(.string), "`record`: only records whose field holds the value, by field id: enum (an option id or label), boolean or text fields of the kind, each value as the field normalises it.", example: "{fuel: electric}"),
        .optional("help", .text, "A short explanation shown under the input (and in the API's form list).", example: "{it: Come sul libretto., en: As on the registration document.}"),
        .optional("min", .string, "`integer`, `decimal`, `date`: the smallest value; dates also relative to the day of the request (`today`, `-3d`, `-1y`).", example: "-30d"),
        .optional("max", .string, "`integer`, `decimal`, `date`: the largest value.", example: "today"),
        .optional("scale", .integer(min: 0, max: 9), "`decimal`: decimal places kept (default 2); more are refused, never rounded, and `12.5` is stored as 12.50, never 125.", example: "2"),
        .optional("options_from", .string, "`choice`: offer the options of a tenant `enum` field, `<record kind>.<field>` or a customer field id (ids are sent and stored, labels shown).", example: "vehicles.fuel"),
        .optional("when", .object(formCondition), "Show, require and store the field only when this holds.", example: "{field: cause, equals: crash}"),
    ])

    public static let requestForm = ObjectSchema("request form", "A request or ticket customers can open.", [
        .required("label", .text, "Form title."),
        .required("feature", .identifier, "Feature a user needs to open it."),
        .optional("group", .identifier, "Forms sharing a group share `max_open`."),
        .optional("max_open", .positiveInteger, "Open requests allowed at once (1: one at a time)."),
        .required("fields", .list(.object(formField), minItems: 1), "The form's fields."),
        .optional("lifecycle", .list(.identifier, minItems: 2), "Statuses in order; the last one closes the request.", example: "[assigned, in_progress, closed]"),
        .optional("notify", .list(.choice(Channel.allCases.map(\.rawValue))), "Channels the requester can choose for updates."),
        .optional("description", .text, "Shown under the form's title and in the forms list.", example: "{it: Ti chiediamo solo ciò che serve., en: We only ask what is needed.}"),
        .optional("open", .list(.object(openingWindow), minItems: 1), "When the form takes requests (any window that applies); always when absent.", example: "[{days: \"1-10\", hours: \"08:00-20:00\"}]"),
        .optional("deadlines", .list(.object(formDeadline), minItems: 1), "How long after a date the form may be sent.", example: "[{field: happened_on, within: 3d}]"),
        .optional("status_labels", .map(.text), "Labels of lifecycle statuses, in every language of the tenant; required for a status the platform has no words for (\(RequestFormRules.platformStatuses.joined(separator: ", "))).", example: "{waiting: {it: In attesa, en: Waiting}}"),
    ])

    public static let notification = ObjectSchema("notification", "An event customers can be told about.", [
        .required("label", .text, "Shown in notification settings."),
        .optional("feature", .identifier, "Feature needed to change this setting."),
        .required("channels", .list(.choice(Channel.allCases.map(\.rawValue)), minItems: 1), "email, sms, portal."),
        .optional("thresholds", .list(.integer(min: 1, max: 100)), "Percentages that trigger it (e.g. [80, 100])."),
        .optional("recipients", .list(.identifier), "Who receives it (e.g. referent, line)."),
        .optional("default", .boolean, "On unless the user turns it off."),
    ] + NotificationRuleSyntax.properties)

    public static let lengthBounds = ObjectSchema("length bounds", "How many characters a value may have, counted after normalisation; at least one of min and max.", [
        .optional("min", .integer(min: 0, max: nil), "At least this many characters.", example: "7"),
        .optional("max", .integer(min: 1, max: nil), "At most this many characters.", example: "7"),
    ])

    public static let rangeBounds = ObjectSchema("range bounds", "The smallest and largest value of an integer, decimal or date field, both included; at least one of min and max. Decimals are written with a point and at most the field's `scale` places; dates as `yyyy-mm-dd`, or relative to the day of validation: `today`, or a sign, a number and `d`, `w`, `mo` or `y` (`-18y`: eighteen years ago, `+30d`: thirty days from now).", [
        .optional("min", .string, "The smallest value allowed.", example: "0.01"),
        .optional("max", .string, "The largest value allowed.", example: "-18y"),
    ])

    public static let fieldValidator = ObjectSchema("field validator", "One rule a field's value must meet: exactly one of `pattern`, `length`, `range` or `check` per entry, with an optional `message`. Every failing rule is reported, each with its own problem code: `pattern_mismatch`; `too_short`/`too_long`; `below_minimum`/`above_maximum` for numbers, `too_early`/`too_late` for dates; `invalid_<check>` for a check (`invalid_iban`).", [
        .optional("pattern", .string, "A regular expression (ICU syntax, as NSRegularExpression reads it) the whole value must match, after normalisation: no `^` or `$` needed. Text, email and phone fields. Write it in single quotes so backslashes stay as written.", example: "'[A-Z]{2}-[0-9]{8}'"),
        .optional("length", .object(lengthBounds), "Number of characters (text, email and phone fields).", example: "{min: 7, max: 7}"),
        .optional("range", .object(rangeBounds), "Smallest and largest value (integer, decimal and date fields).", example: "{min: 0, max: 9999.99}"),
        .optional("check", .identifier, "A named check from the platform's library (text fields, and email or phone fields for the checks of contacts), which also normalises the value it stores: \(FieldChecks.standard.names.joined(separator: ", ")). The named checks table lists what each accepts and how it stores it.", example: "tax_code"),
        .optional("message", .text, "What the customer is told when the rule fails, in every language of the tenant (else the platform's message). `{label}`, `{min}`, `{max}` and `{example}` are replaced by the field's label, the bounds and its first example.", example: "{it: \"La targa ha la forma AB123CD.\", en: \"A plate looks like AB123CD.\"}"),
    ])

    public static let fieldGenerator = ObjectSchema("field generator", "How demo data makes values of a field that gives no examples: exactly one of `template` or `check`. Without it, demo data uses the generator of the field's first named check, else its type, length and range.", [
        .optional("template", .string, "`#` a digit, `@` a capital letter, `*` a capital letter or a digit, `\\` takes the next character as it is; anything else is written as it is (text, email and phone fields).", example: "\"POL-########\""),
        .optional("check", .identifier, "A named check whose generator makes the values.", example: "luhn"),
    ])

    public static let field = ObjectSchema("field", "A field the tenant defines: its label, type and validators. A value is trimmed and its runs of whitespace become one space; text, email and phone values then go through `normalize` and the normalisation of their named checks; an empty value is missing (an error when the field is required), a value of the wrong type gives one problem (`invalid_integer`, `invalid_decimal`, `too_many_decimals`, `invalid_date`, `invalid_boolean`, `invalid_option`, `invalid_email`, `invalid_phone`, `invalid_characters`), else every failing validator gives one. Values are stored in canonical form: decimals as exact units of their scale (`12.5` at scale 2 is `12.50`, never `125`), dates as `yyyy-mm-dd`, booleans as `true`/`false`, options by id.", [
        .required("label", .text, "Name shown next to the input, in pages, exports and messages; in every language of the tenant.", example: "{it: Targa, en: Number plate}"),
        .required("type", .choice(FieldType.allCases.map(\.rawValue)), "text, integer, decimal (exact, with `scale`), date, boolean, enum (one of `options`), email or phone (digits, a leading `+` kept).", example: "text"),
        .optional("scale", .integer(min: 0, max: 9), "decimal: decimal places kept (default 2). More places than this are refused, never rounded.", example: "2"),
        .optional("options", .map(.text), "enum: option id → label. Customers may type the id or a label.", example: "{private: {it: Privato, en: Private}, business: {it: Aziendale, en: Business}}"),
        .optional("required", .boolean, "Must be filled in wherever the field appears (default false; a customer type's `required_fields` can also require it)."),
        .optional("help", .text, "A short explanation shown under the input.", example: "{it: Come sul libretto di circolazione., en: As on the registration document.}"),
        .optional("placeholder", .text, "A sample shown inside the empty input.", example: "AB123CD"),
        .optional("normalize", .list(.choice(FieldNormalization.allCases.map(\.rawValue))), "text, email and phone: changes made, in order, to what was typed before it is checked and stored: uppercase, lowercase, remove_spaces, remove_separators (spaces, `-`, `.` and `/`).", example: "[uppercase, remove_separators]"),
        .optional("validators", .list(.object(fieldValidator)), "Rules the value must meet, in order.", example: "[{check: italian_plate, message: {it: Targa non valida., en: Not a valid plate.}}, {length: {max: 7}}]"),
        .optional("messages", .map(.text), "The provider's messages for the problems the type itself finds (and for validators without `message:`), by problem code: required, invalid_date…; `{label}` and `{scale}` are replaced.", example: "{required: {it: Indica la targa del veicolo., en: Please give the vehicle's plate.}}"),
        .optional("examples", .list(.string, minItems: 1), "Values as a customer would type them; each must pass the field's validators. Demo data uses them first, and `{example}` in messages is the first.", example: "[AB123CD, \"FG 456 HL\"]"),
        .optional("generator", .object(fieldGenerator), "How demo data makes values when there are no examples.", example: "{template: \"POL-########\"}"),
    ])

    public static let recordAccess = ObjectSchema("record access", "A feature that opens a record kind, and how much of it the feature shows. A user sees the kind when they hold any of the kind's features, with the widest scope among those; `all` is narrowed to `own` when the user's role limits that feature to `own_line` (`roles.<role>.scopes`).", [
        .required("feature", .identifier, "A feature (from `features`) that opens the kind's pages, API and export.", example: "vehicles.view"),
        .optional("scope", .choice(RecordScope.allCases.map(\.rawValue)), "`all` (the default): every record of the user's customer; `own`: only the records assigned to the user (the `user` column of the import), as `own_line` shows a user only their line.", example: "own"),
    ])

    public static let recordList = ObjectSchema("record list", "The list page of a record kind: newest first by the kind's `date`, then by id.", [
        .optional("columns", fieldList, "Fields shown as columns, in order (default: the first four fields).", example: "[plate, model, registered_on]"),
        .optional("filters", fieldList, "Fields the list can be filtered by: enum, boolean and text fields by equality (typed values are normalised as the field stores them), date, integer and decimal fields by a from–to range.", example: "[fuel, registered_on]"),
        .optional("page_size", .integer(min: 1, max: 200), "Records per page (default 25).", example: "25"),
    ])

    public static let recordChartSeries = ObjectSchema("record chart series", "One line or set of bars: the sum of a numeric field per period.", [
        .required("field", .identifier, "An integer or decimal field of the kind.", example: "premium"),
        .optional("label", .text, "Legend, in every language of the tenant (default: the field's label).", example: "{it: Premi, en: Premiums}"),
    ])

    public static let recordChart = ObjectSchema("record chart", "A chart above a record kind's list (a server-rendered SVG with a data table alternative): per month or day along a date field, the sums of numeric fields over the records the list shows.", [
        .required("kind", .choice(RecordChartKind.allCases.map(\.rawValue)), "bar or line.", example: "bar"),
        .optional("x", .identifier, "The `date` field along the x axis (default: the kind's `date`).", example: "paid_on"),
        .required("series", .list(.object(recordChartSeries), minItems: 1), "The numeric fields summed, one series each.", example: "[{field: amount, label: {it: Importo, en: Amount}}]"),
        .optional("period", .choice(RecordChartPeriod.allCases.map(\.rawValue)), "month (the default) or day.", example: "month"),
    ])

    public static let recordKind = ObjectSchema("record kind", "A kind of record the tenant defines (vehicles, policies, meters, readings…), served with no code: list pages with filters and paging, detail pages, CSV/XLSX export, JSON API operations with their OpenAPI schemas, `sportello import` (JSON Lines rows with `type: <kind id>`, CSV with `--kind <kind id>`), demo data and a navigation entry, fenced by tenant, by customer and by scope as built-in data is. A record belongs to a customer, directly or through its owner record, and may be assigned to one of the customer's users.", [
        .required("label", .text, "One record, in every language of the tenant.", example: "{it: Veicolo, en: Vehicle}"),
        .required("label_plural", .text, "Several records, in every language of the tenant (page titles, navigation).", example: "{it: Veicoli, en: Vehicles}"),
        .optional("owner", .identifier, "Whose records these are: `customer` (the default), or the id of another kind whose records own these (a reading belongs to a meter; its customer is the meter's). Owners may not form a cycle.", example: "meters"),
        .required("section", .identifier, "The section (from `sections`) whose navigation lists the kind's pages.", example: "vehicles"),
        .required("fields", .map(.object(field)), "The kind's fields, by id (snake_case), in the order pages show them; the same field definitions as `customer_fields`. An id may not be one import rows and the API already use: \(RecordKindDefinition.reservedFieldIds.sorted().joined(separator: ", ")).", example: "{plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase], validators: [{check: italian_plate}], examples: [AB123CD]}, registered_on: {label: {it: Immatricolazione, en: Registered on}, type: date}}"),
        .required("external_id", .identifier, "The field (text, email, phone or integer) whose value identifies a record within the tenant and kind: imports update the record with the same value instead of adding one. Always required.", example: "plate"),
        .optional("date", .identifier, "A `date` field that orders the list (newest first), drives `retention` and is the chart's default x axis.", example: "registered_on"),
        .optional("retention", .object(retentionRule), "How long records stay visible (`visible_for`) and when they are deleted with the records they own (`delete_after`), counted from `date`; records with no date are always shown and kept.", example: "{visible_for: 10y, delete_after: 11y}"),
        .optional("access", .list(.object(recordAccess)), "The features that open the kind, with their scope; at least one.", example: "[{feature: vehicles.view, scope: all}, {feature: vehicles.mine, scope: own}]"),
        .optional("list", .object(recordList), "Columns, filters and page size of the list page.", example: "{columns: [plate, fuel, registered_on], filters: [fuel, registered_on], page_size: 25}"),
        .optional("chart", .object(recordChart), "A chart of numeric fields per month or day above the list.", example: "{kind: bar, x: paid_on, series: [{field: amount}], period: month}"),
    ])

    public static let tenantTest = ObjectSchema("tenant test", "An assertion about this definition, run by `sportello test`.", [
        .optional("name", .string, "What the assertion is about (shown when it fails)."),
        .optional("role", .identifier, "The role under test (a test names a role, a form, or both)."),
        .optional("form", .identifier, "A request form whose rules the test asserts, on the day `at` for the submission `values`.", example: "breakdown"),
        .optional("at", .string, "When, in the tenant's time zone: yyyy-mm-dd or yyyy-mm-ddThh:mm.", example: "2026-11-15T10:00"),
        .optional("values", .map(.string, keys: .any), "The submission's values by field, as stored (option ids, true/false, yyyy-mm-dd), with `<record field>.<field>` for a field of the picked record.", example: "{cause: crash, vehicle.fuel: electric}"),
        .optional("open", .boolean, "Whether the form takes the request at `at`."),
        .optional("opens_at", .string, "The form is closed at `at` and opens next at this time (yyyy-mm-ddThh:mm), or `never`.", example: "2026-11-01T00:00"),
        .optional("shown", .list(.identifier), "Fields shown for `values`."),
        .optional("hidden", .list(.identifier), "Fields hidden for `values` (neither required nor stored)."),
        .optional("required", .list(.identifier), "Fields shown and required for `values`."),
        .optional("missed_deadlines", .list(.identifier), "Date fields whose deadline `values` miss at `at` (an empty list: none)."),
        .optional("toggles", .list(.identifier), "Per-user toggles switched on."),
        .optional("customer_type", .identifier, "Customer type of the user."),
        .optional("can", .list(.identifier), "Features the user must be allowed."),
        .optional("cannot", .list(.identifier), "Features the user must be denied."),
        .optional("scope", .map(.choice(scopes)), "Expected scope per feature."),
        .optional("may", .map(.list(.identifier), keys: .identifier), "Per user action, roles the user may act on (as their creator).", example: "{create: [telco_manager]}"),
        .optional("may_not", .map(.list(.identifier), keys: .identifier), "Per user action, roles the user may not act on."),
        .optional("creator_only", .map(.list(.identifier), keys: .identifier), "Per action, roles the user may act on only when they created them."),
        .optional("can_use_flow", .list(.identifier), "Flows the user may use."),
        .optional("cannot_use_flow", .list(.identifier), "Flows the user may not use."),
        .optional("exclusive", .list(.identifier), "Features that must be exclusive to this role."),
        .optional("changeable_in_portal", .boolean, "Whether the role can be assigned or removed in the portal."),
    ])

    /// Keys every tenant file may use; a fragment may use any subset, with `fragment:` instead of `id:`.
    /// The tenant's keys; `capabilities:` offers the options of `catalogue`'s modules.
    public static func tenantProperties(_ catalogue: CapabilityCatalogue) -> [Property] { [
        .required("id", .identifier, "Tenant id: the file name and the development host `<id>.localhost`.", example: "tim"),
        .optional("extends", .list(.identifier), "Fragments (files with `fragment: <name>`) merged underneath this file."),
        .required("name", .string, "Provider's display name.", example: "TIM Business"),
        .required("hosts", .list(.string(.hostname), minItems: 1), "Host names that serve this portal.", example: "[tim.localhost, areaclienti.tim.example]"),
        .optional("time_zone", .string, "The IANA time zone the tenant's calendar rules (form opening windows, deadlines) are read in (default Europe/Rome).", example: "Europe/Rome"),
        .required("locales", .object(ObjectSchema("locales", "Languages of the portal.", [
            .required("default", .string(.locale), "Default language.", example: "it"),
            .required("available", .list(.string(.locale), minItems: 1), "Languages offered.", example: "[it, en]"),
        ])), "Languages."),
        .required("branding", .object(ObjectSchema("branding", "Colours and images of the white-label portal.", [
            .required("primary_color", .string(.color), "Main colour.", example: "\"#0a3d91\""),
            .optional("secondary_color", .string(.color), "Second colour."),
            .optional("accent_color", .string(.color), "Highlights and buttons."),
            .optional("text_color", .string(.color), "Body text."),
            .optional("background_color", .string(.color), "Page background."),
            .optional("logo", .string(.path), "Logo path or URL."),
            .optional("favicon", .string(.path), "Favicon path or URL."),
        ])), "Branding."),
        .optional("contacts", .object(ObjectSchema("contacts", "How customers reach the provider.", [
            .optional("customer_care", .string, "Customer care number.", example: "\"191\""),
            .optional("email", .string, "Support e-mail."),
            .optional("website", .string(.path), "Provider's site."),
            .optional("hours", .text, "Opening hours."),
        ])), "Contact points."),
        .optional("browsers", .map(.string), "Minimum supported browser versions.", example: "{edge: \"80\", chrome: \"61\"}"),
        .required("customer_types", .map(.object(customerType)), "Kinds of customer."),
        .optional("customer_fields", .map(.object(field)), "The tenant's own customer fields, by id (snake_case), beyond the platform's catalogue: customer types, flow steps and field policies name them like catalogue fields. An id may not be a catalogue field or a name the customer record already uses.", example: "{plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase], validators: [{check: italian_plate}], examples: [AB123CD]}}"),
        .optional("user_fields", .map(.object(field)), "The tenant's own fields of each user (login account), by id (snake_case); an id may not be one the user record already uses (username, email, first_name…).", example: "{employee_number: {label: {it: Matricola, en: Employee number}, type: text, validators: [{pattern: '[0-9]{6}'}], examples: [\"004217\"]}}"),
        .required("login", .object(login), "Login, password, lockout and session policy."),
        .optional("required_actions", .map(.object(requiredAction)), "Actions users must complete after login before anything else opens, by id.", example: "{privacy: {type: accept_terms, label: {it: Informativa privacy, en: Privacy notice}, version: \"2026-01\", text: {it: \"Ho letto l'informativa.\", en: \"I have read the notice.\"}}}"),
        .required("sections", .map(.object(ObjectSchema("section", "A group of features in the navigation.", [
            .required("label", .text, "Navigation label."),
        ]))), "Navigation sections."),
        .required("features", .map(.object(feature)), "Feature catalogue."),
        .optional("capabilities", .object(capabilityOptions(catalogue)), "Per module, the tenant's choices (see Capabilities)."),
        .required("roles", .map(.object(role)), "Roles."),
        .required("flows", .map(.object(flow)), "Registration and recovery flows."),
        .optional("retention", .map(.object(retentionRule)), "Visibility windows and retention per built-in record kind (invoices, usage…); a kind of `records:` carries its own `retention`."),
        .optional("records", .map(.object(recordKind)), "The tenant's own kinds of record, by id (snake_case; not a built-in kind such as invoices, usage or lines).", example: "{vehicles: {label: {it: Veicolo, en: Vehicle}, label_plural: {it: Veicoli, en: Vehicles}, section: vehicles, external_id: plate, date: registered_on, fields: {plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase], validators: [{check: italian_plate}], examples: [AB123CD]}, registered_on: {label: {it: Immatricolazione, en: Registered on}, type: date}, fuel: {label: {it: Alimentazione, en: Fuel}, type: enum, options: {petrol: {it: Benzina, en: Petrol}, electric: {it: Elettrica, en: Electric}}}}, access: [{feature: vehicles.view, scope: all}], list: {columns: [plate, fuel, registered_on], filters: [fuel, registered_on]}, retention: {visible_for: 10y}}}"),
        .optional("requests", .map(.object(requestForm)), "Request and ticket forms."),
        .optional("notifications", .map(.object(notification)), "Notification events."),
        .optional("field_policies", .object(ObjectSchema("field policies", "Rules on customer master data.", [
            .optional("immutable", fieldList, "Customer fields (the catalogue's or the tenant's own) customers can never change in the portal."),
            .optional("change_hint", .text, "What to do to change an immutable field."),
        ])), "Field policies."),
        .optional("plugins", .map(.object(PluginSchema.binding)), "Plugins (manifests `plugins/<id>.yaml`, see Plugin manifests) this tenant uses, by id, and the features each carries out.", example: "{sandbox_psp: {features: {proforma.pay: {methods: [paypal]}}}}"),
        .optional("tests", .list(.object(tenantTest)), "Assertions run by `sportello test`."),
    ] }

    /// One key per module that has options, each option a list chosen from the values the module knows.
    public static func capabilityOptions(_ catalogue: CapabilityCatalogue) -> ObjectSchema {
        ObjectSchema("capabilities", "The tenant's choices for the modules it uses.", catalogue.all.filter { !$0.options.isEmpty }.map { capability in
            .optional(capability.id, .object(ObjectSchema(capability.id, capability.summary, capability.options.map { option in
                .optional(option.name, .list(.choice(option.values), minItems: 1), option.summary,
                          example: "[\(option.values.joined(separator: ", "))]")
            })), capability.summary)
        })
    }

    public static func tenant(_ catalogue: CapabilityCatalogue) -> ObjectSchema {
        ObjectSchema("tenant", "A provider's customer area.", tenantProperties(catalogue))
    }

    /// A fragment has the tenant's keys, all optional, and `fragment:` naming it.
    public static func fragment(_ catalogue: CapabilityCatalogue) -> ObjectSchema {
        ObjectSchema("fragment", "Shared definitions that tenants extend.",
                     [.required("fragment", .identifier, "Fragment name used in `extends:`.")]
                        + tenantProperties(catalogue).filter { $0.key != "id" }.map { var property = $0; property.required = false; return property })
    }
}
