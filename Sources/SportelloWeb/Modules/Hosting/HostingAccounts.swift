import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Shared hosting: the accounts with their usage and PHP version, and the firewall's blocked addresses.
extension HostingController {
    static let accountOperations: [APIOperation] = [
        APIOperation("GET", Routes.hosting, summary: "The customer's shared-hosting accounts: plan, server, disk and traffic used, mailboxes, PHP version, status and expiry",
                     feature: Feature.hosting, success: (200, "HostingAccountList")),
        APIOperation("POST", Routes.hostingPHP, summary: "Switches a hosting account to another supported PHP version",
                     feature: Feature.hosting, parameters: [.init("id", in: "path", description: "Hosting account id", schema: .integer)],
                     requestBody: "PHPVersionRequest", success: (200, "HostingAccount")),
        APIOperation("GET", Routes.hostingFirewall, summary: "Addresses blocked by the shared-hosting firewall (in force, and lifted in the last 30 days)",
                     feature: Feature.unblock, success: (200, "FirewallState")),
        APIOperation("POST", Routes.hostingFirewallUnblock, summary: "Checks an IPv4 or IPv6 address and lifts its blocks on the customer's shared hosting",
                     feature: Feature.unblock, requestBody: "UnblockRequest", success: (200, "UnblockResult")),
    ]

    static let accountSchemas: [String: JSONSchema] = [
        "HostingAccount": .object([
            "id": .integer, "domain": .string(), "plan_code": .string(), "plan": .string(), "server": .string(), "username": .string(),
            "disk_used_mb": .integer, "disk_quota_mb": .integer, "traffic_used_mb": .integer, "traffic_quota_mb": .integer,
            "mailboxes": .integer, "mailbox_quota": .integer, "php_version": .string(), "php_versions": .array(.string()),
            "status": .enumeration(HostingAccountStatus.allCases.map(\.rawValue)), "expires_on": .string(format: "date"), "blocked_addresses": .integer,
        ], required: ["id", "domain", "plan", "server", "disk_used_mb", "disk_quota_mb", "traffic_used_mb", "traffic_quota_mb",
                      "mailboxes", "mailbox_quota", "php_version", "php_versions", "status", "expires_on"]),
        "HostingAccountList": .object(["accounts": .array(.reference("HostingAccount"))], required: ["accounts"]),
        "PHPVersionRequest": .object(["php_version": .enumeration(HostingPolicy.phpVersions)], required: ["php_version"]),
        "BlockedAddress": .object([
            "id": .integer, "address": .string(), "domain": .string(), "hosting_account_id": .integer,
            "reason": .enumeration(["ftp_login", "mail_login", "cms_login", "ssh_login", "port_scan"]), "service": .nullable(.string()),
            "blocked_at": .string(format: "date-time"), "unblocked_at": .nullable(.string(format: "date-time")),
        ], required: ["id", "address", "domain", "hosting_account_id", "reason", "blocked_at"]),
        "FirewallState": .object([
            "blocked": .array(.reference("BlockedAddress")), "recently_unblocked": .array(.reference("BlockedAddress")),
            "your_address": .nullable(.string(description: "The address this request came from")),
        ], required: ["blocked", "recently_unblocked"]),
        "UnblockRequest": .object(["address": .string(description: "IPv4 or IPv6")], required: ["address"]),
        "UnblockResult": .object([
            "address": .string(), "was_blocked": .boolean, "unblocked": .array(.reference("BlockedAddress")),
        ], required: ["address", "was_blocked", "unblocked"]),
    ]

    struct HostingAccountView: Encodable {
        var id: Int64
        var domain, planCode, plan, server, username: String
        var diskUsedMb, diskQuotaMb, trafficUsedMb, trafficQuotaMb, mailboxes, mailboxQuota: Int64
        var phpVersion: String
        var phpVersions: [String]
        var status, expiresOn: String
        var blockedAddresses: Int
    }

    struct HostingAccountList: Encodable { var accounts: [HostingAccountView] }
    struct PHPVersionRequest: Decodable { var phpVersion: String? }

    struct BlockedAddressView: Encodable {
        var id: Int64
        var address, domain: String
        var hostingAccountId: Int64
        var reason: String
        var service: String?
        var blockedAt: String
        var unblockedAt: String?
    }

    struct FirewallState: Encodable {
        var blocked: [BlockedAddressView]
        var recentlyUnblocked: [BlockedAddressView]
        var yourAddress: String?
    }

    struct UnblockRequest: Decodable { var address: String? }
    struct UnblockResult: Encodable { var address: String; var wasBlocked: Bool; var unblocked: [BlockedAddressView] }

    func addAccountRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.hosting) { request, context in try await accountsPage(context: context, notice: notice(request, allowed: ["php"], prefix: "hosting.done", context)) }
        group.post(Routes.hostingPHP) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            let id = try context.pathId("id")
            do {
                _ = try await changePHP(accountId: id, version: form.value("php_version"), context: context)
            } catch PortalError.invalid(let problems) {
                return try await accountsPage(context: context, problems: problems, failedAccount: id)
            }
            return Pages.redirect(Routes.hosting.done("php"))
        }
        group.get(Routes.hostingFirewall) { _, context in try await firewallPage(context: context) }
        group.post(Routes.hostingFirewallUnblock) { request, context in
            let form = try await SubmittedForm.read(request, context: context)
            do {
                let result = try await unblock(address: form["address"], context: context)
                return try await firewallPage(context: context, result: result)
            } catch PortalError.invalid(let problems) {
                return try await firewallPage(context: context, typed: form["address"], problems: problems)
            }
        }

        group.get(Routes.hosting.api) { _, context in
            API.json(HostingAccountList(accounts: try await accountViews(context)))
        }
        group.post(Routes.hostingPHP.api) { request, context in
            let body = try await API.decode(PHPVersionRequest.self, from: request, context: context)
            let id = try context.pathId("id")
            _ = try await changePHP(accountId: id, version: body.phpVersion, context: context)
            guard let view = try await accountViews(context).first(where: { $0.id == id }) else { throw PortalError.notFound }
            return API.json(view)
        }
        group.get(Routes.hostingFirewall.api) { _, context in
            let (blocked, lifted, domains) = try await firewallData(context)
            return API.json(FirewallState(blocked: blocked.map { blockedView($0, domains) }, recentlyUnblocked: lifted.map { blockedView($0, domains) },
                                          yourAddress: context.remoteAddress.flatMap(IPAddress.normalize)))
        }
        group.post(Routes.hostingFirewallUnblock.api) { request, context in
            let body = try await API.decode(UnblockRequest.self, from: request, context: context)
            return API.json(try await unblock(address: body.address ?? "", context: context))
        }
    }

    // MARK: Accounts

    /// The hosting accounts the user may see for `feature`: all the customer's, or only their own line's
    /// where the role's scope is the user's own line.
    func visibleAccounts(_ context: UserContext, feature: String, in transaction: TenantTransaction) async throws -> [HostingAccountRecord] {
        let customerId = context.customer.id ?? 0
        let accounts = try await transaction.hostingAccounts(customerId: customerId)
        guard context.tenant.authorization.scope(context.session.principal, feature) == .ownLine else { return accounts }
        let own = Set(try await transaction.lines(customerId: customerId).filter { $0.assignedUserId == context.user.id }.compactMap(\.id))
        return accounts.filter { $0.lineId.map(own.contains) ?? false }
    }

    func accountViews(_ context: UserContext) async throws -> [HostingAccountView] {
        try context.require(page: Self.hostingPage)
        try await activatePaidOrders(context)
        let customerId = context.customer.id ?? 0
        let since = now - 30 * 86_400
        let (accounts, blocks) = try await read(context) { transaction in
            (try await visibleAccounts(context, feature: Feature.hosting, in: transaction),
             try await transaction.blockedAddresses(customerId: customerId, liftedSince: since).filter { $0.unblockedAt == nil })
        }
        return accounts.map { account in
            HostingAccountView(id: account.id ?? 0, domain: account.domain, planCode: account.planCode, plan: account.planTitle, server: account.server,
                               username: account.username, diskUsedMb: account.diskUsedMb, diskQuotaMb: account.diskQuotaMb,
                               trafficUsedMb: account.trafficUsedMb, trafficQuotaMb: account.trafficQuotaMb, mailboxes: account.mailboxes,
                               mailboxQuota: account.mailboxQuota, phpVersion: account.phpVersion, phpVersions: HostingPolicy.phpVersions,
                               status: account.status.rawValue, expiresOn: account.expiresOn,
                               blockedAddresses: blocks.filter { $0.hostingAccountId == account.id }.count)
        }
    }

    /// Switches the PHP version of one of the customer's accounts; 404 for another customer's, 409 when not active.
    func changePHP(accountId: Int64, version: String?, context: UserContext) async throws -> HostingAccountRecord {
        try context.require(page: Self.hostingPage)
        try context.require(Feature.hosting)
        let account = try await read(context) { transaction in
            try await visibleAccounts(context, feature: Feature.hosting, in: transaction).first { $0.id == accountId }
        }
        guard var account else { throw PortalError.notFound }
        guard let version, HostingPolicy.phpVersions.contains(version) else {
            throw PortalError.invalid([problem("php_version", version == nil ? "required" : "invalid", "hosting.error.php_version", context,
                                               ["versions": HostingPolicy.phpVersions.joined(separator: ", ")])])
        }
        guard account.status == .active else { throw PortalError.conflict(string("hosting.error.not_active", context)) }
        guard account.phpVersion != version else { return account }
        let previous = account.phpVersion
        let domain = account.domain
        let customerId = context.customer.id ?? 0
        let userId = context.user.id
        try await write(context) { transaction in
            try await transaction.setPHPVersion(version, hostingAccountId: accountId, customerId: customerId)
            try await transaction.audit("hosting.php_changed", actorUserId: userId, targetKind: "hosting_account", targetId: String(accountId),
                                        detail: "\(domain): PHP \(previous) -> \(version)")
        }
        account.phpVersion = version
        return account
    }

    /// What the hosting accounts page shows.
    struct AccountsPage: Encodable {
        struct Account: Encodable {
            struct PHPVersion: Encodable { var value: String; var selected: Bool }
            var id: Int64
            var domain, plan, server, username, disk: String
            var diskUsed, diskQuota, diskPercent: Int64
            var diskHigh: Bool
            var traffic: String
            var trafficUsed, trafficQuota, trafficPercent: Int64
            var mailboxes, phpVersion: String
            var phpVersions: [PHPVersion]
            var status, statusClass: String
            var active: Bool
            var expires: String
            var blocked: Int
            var hasBlocked: Bool
            var phpError: String?
        }
        var accounts: [Account]
        var hasAccounts, mayUnblock, mayShop: Bool
        var notice: String?
    }

    private func accountsPage(context: UserContext, notice: String? = nil, problems: [FieldProblem] = [], failedAccount: Int64? = nil) async throws -> Response {
        let accounts = try await accountViews(context)
        let mayUnblock = context.may(Feature.unblock) && context.tenant.definition.feature(Feature.unblock) != nil
        let phpError = problems.first { $0.field == "php_version" }?.message.resolve(context.locale)
        func percent(_ used: Int64, _ quota: Int64) -> Int64 { quota > 0 ? min(100, used * 100 / quota) : 0 }
        let model = AccountsPage(
            accounts: accounts.map { account in
                AccountsPage.Account(
                    id: account.id, domain: account.domain, plan: account.plan, server: account.server, username: account.username,
                    disk: string("hosting.usage.of", context, ["used": Self.size(account.diskUsedMb), "quota": Self.size(account.diskQuotaMb)]),
                    diskUsed: account.diskUsedMb, diskQuota: max(account.diskQuotaMb, 1), diskPercent: percent(account.diskUsedMb, account.diskQuotaMb),
                    diskHigh: percent(account.diskUsedMb, account.diskQuotaMb) >= 80,
                    traffic: string("hosting.usage.of", context, ["used": Self.size(account.trafficUsedMb), "quota": Self.size(account.trafficQuotaMb)]),
                    trafficUsed: account.trafficUsedMb, trafficQuota: max(account.trafficQuotaMb, 1),
                    trafficPercent: percent(account.trafficUsedMb, account.trafficQuotaMb),
                    mailboxes: string("hosting.usage.count_of", context, ["used": String(account.mailboxes), "quota": String(account.mailboxQuota)]),
                    phpVersion: account.phpVersion,
                    phpVersions: account.phpVersions.map { .init(value: $0, selected: $0 == account.phpVersion) },
                    status: label("hosting.status", account.status, context), statusClass: account.status,
                    active: account.status == HostingAccountStatus.active.rawValue, expires: Formatting.day(account.expiresOn),
                    blocked: account.blockedAddresses, hasBlocked: account.blockedAddresses > 0 && mayUnblock,
                    phpError: account.id == failedAccount ? phpError : nil)
            },
            hasAccounts: !accounts.isEmpty, mayUnblock: mayUnblock,
            mayShop: context.may(Feature.buy) && context.tenant.definition.feature(Feature.buy) != nil,
            notice: notice)
        return Pages.render("hosting_accounts", model, errors: problems, title: string("hosting.accounts.title", context), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }

    // MARK: Firewall

    func firewallData(_ context: UserContext) async throws -> ([BlockedAddressRecord], [BlockedAddressRecord], [Int64: String]) {
        try context.require(page: Self.firewall)
        let customerId = context.customer.id ?? 0
        let since = now - 30 * 86_400
        return try await read(context) { transaction in
            let accounts = try await visibleAccounts(context, feature: Feature.unblock, in: transaction)
            let domains = Dictionary(accounts.compactMap { account in account.id.map { ($0, account.domain) } }, uniquingKeysWith: { first, _ in first })
            let rows = try await transaction.blockedAddresses(customerId: customerId, liftedSince: since).filter { domains[$0.hostingAccountId] != nil }
            return (rows.filter { $0.unblockedAt == nil }, rows.filter { $0.unblockedAt != nil }, domains)
        }
    }

    func blockedView(_ row: BlockedAddressRecord, _ domains: [Int64: String]) -> BlockedAddressView {
        BlockedAddressView(id: row.id ?? 0, address: row.address, domain: domains[row.hostingAccountId] ?? "", hostingAccountId: row.hostingAccountId,
                           reason: row.reason, service: row.service, blockedAt: LocalTime.isoUTC(row.blockedAt),
                           unblockedAt: row.unblockedAt.map { LocalTime.isoUTC($0) })
    }

    /// Checks `address` and lifts its blocks on the customer's shared-hosting accounts (only shared hosting
    /// has a firewall the customer may open). A well-formed address that is not blocked is not an error.
    func unblock(address typed: String, context: UserContext) async throws -> UnblockResult {
        try context.require(page: Self.firewall)
        try context.require(Feature.unblock)
        let trimmed = typed.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let address = IPAddress.normalize(trimmed) else {
            throw PortalError.invalid([problem("address", trimmed.isEmpty ? "required" : "invalid_address",
                                               trimmed.isEmpty ? "hosting.error.address_required" : "hosting.error.address", context)])
        }
        let customerId = context.customer.id ?? 0
        let userId = context.user.id
        return try await write(context) { transaction in
            let accounts = try await visibleAccounts(context, feature: Feature.unblock, in: transaction)
            let domains = Dictionary(accounts.compactMap { account in account.id.map { ($0, account.domain) } }, uniquingKeysWith: { first, _ in first })
            let blocks = try await transaction.activeBlocks(customerId: customerId, address: address).filter { domains[$0.hostingAccountId] != nil }
            let lifted = Set(try await transaction.unblock(ids: blocks.compactMap(\.id), customerId: customerId, by: userId))
            var views: [BlockedAddressView] = []
            for var block in blocks where block.id.map(lifted.contains) ?? false {
                block.unblockedAt = transaction.now
                views.append(blockedView(block, domains))
                try await transaction.audit("firewall.unblocked", actorUserId: userId, targetKind: "blocked_address", targetId: String(block.id ?? 0),
                                            detail: "\(address) on \(domains[block.hostingAccountId] ?? "") (\(block.reason))")
            }
            if views.isEmpty {
                try await transaction.audit("firewall.checked", actorUserId: userId, targetKind: "address", targetId: address, detail: "not blocked")
            }
            return UnblockResult(address: address, wasBlocked: !views.isEmpty, unblocked: views)
        }
    }

    /// What the firewall page shows: the blocks in force and those lifted lately, and the unblock form.
    struct FirewallPage: Encodable {
        struct Block: Encodable {
            var id: Int64
            var address, domain, reason, service, blockedAt: String
            var unblockedAt: String?
        }
        var blocked: [Block]
        var hasBlocked: Bool
        var lifted: [Block]
        var hasLifted: Bool
        var address: String
        var hasAccounts: Bool
        var yourAddress, notice: String?
    }

    private func firewallPage(context: UserContext, result: UnblockResult? = nil, typed: String? = nil, problems: [FieldProblem] = []) async throws -> Response {
        let (blocked, lifted, domains) = try await firewallData(context)
        let locale = context.locale
        func row(_ block: BlockedAddressRecord) -> FirewallPage.Block {
            FirewallPage.Block(id: block.id ?? 0, address: block.address, domain: domains[block.hostingAccountId] ?? "",
                               reason: label("hosting.firewall.reason", block.reason, context), service: block.service ?? "",
                               blockedAt: Formatting.dateTime(block.blockedAt, locale: locale),
                               unblockedAt: block.unblockedAt.map { Formatting.dateTime($0, locale: locale) })
        }
        let yourAddress = context.remoteAddress.flatMap(IPAddress.normalize)
        let notice = result.map { result in
            result.wasBlocked
                ? string("hosting.firewall.unblocked", context,
                         ["address": result.address, "domains": Set(result.unblocked.map(\.domain)).sorted().joined(separator: ", ")])
                : string("hosting.firewall.not_blocked", context, ["address": result.address])
        }
        let model = FirewallPage(
            blocked: blocked.map(row), hasBlocked: !blocked.isEmpty, lifted: lifted.map(row), hasLifted: !lifted.isEmpty,
            address: typed ?? yourAddress ?? "", hasAccounts: !domains.isEmpty,
            yourAddress: yourAddress.map { string("hosting.firewall.your_address", context, ["address": $0]) }, notice: notice)
        return Pages.render("hosting_firewall", model, errors: problems, title: string("hosting.firewall.title", context), context: context,
                            status: problems.isEmpty ? .ok : .unprocessableContent)
    }
}
