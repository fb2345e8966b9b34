import ArgumentParser
import Foundation
import SportelloCore
import SportelloWeb

@main
struct Sportello: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sportello",
        abstract: "Multi-tenant, white-label customer areas described in YAML.",
        version: SportelloCoreInfo.version,
        subcommands: [Serve.self, Validate.self, Test.self, Explain.self, Matrix.self, Schema.self, Reference.self,
                      Migrate.self, Import.self, Demo.self, InviteCommand.self, RequestsCommand.self, UsersCommand.self, ChatCommand.self, MailCommand.self, SMSCommand.self, EventsCommand.self, RecordsCommand.self, ReloadCommand.self, PurgeCommand.self, BackupCommand.self, RestoreCommand.self, WriteProbe.self]
    )
}

/// Where tenant definitions and plugin manifests are read from.
struct DefinitionOptions: ParsableArguments {
    @Argument(help: "Tenant files or directories (default: tenants/).")
    var paths: [String] = []

    @Option(help: "Directory of plugin manifests.")
    var plugins: String = "plugins"

    /// The tenant files or directories given, else `tenants/`.
    var tenantPaths: [String] { paths.isEmpty ? ["tenants"] : paths }

    func load() throws -> LoadResult {
        let files = try TenantLoader.definitionFiles(in: tenantPaths)
        let loader = TenantLoader(capabilities: PortalModules.capabilities, plugins: PluginCatalogue.load(directory: plugins))
        return loader.load(files: files)
    }
}

extension LoadResult {
    /// The valid tenants' definitions, or only the one called `id` when given (an error naming the valid ones if none is).
    func definitions(only id: String?) throws -> [TenantDefinition] {
        let all = tenants.map(\.definition)
        guard let id else { return all }
        guard let found = all.first(where: { $0.id == id }) else {
            throw ValidationError("no valid tenant '\(id)' (tenants: \(all.map(\.id).joined(separator: ", ")))")
        }
        return [found]
    }
}

/// Selects one tenant by id from the definitions directory.
struct TenantOption: ParsableArguments {
    @Option(name: .long, help: "Tenant id, e.g. tim.")
    var tenant: String

    @Option(name: .customLong("tenants"), help: "Directory of tenant definitions.")
    var tenantsDirectory: String = "tenants"

    @Option(help: "Directory of plugin manifests.")
    var plugins: String = "plugins"

    func load() throws -> LoadedTenant {
        let files = try TenantLoader.definitionFiles(in: [tenantsDirectory])
        let result = TenantLoader(capabilities: PortalModules.capabilities, plugins: PluginCatalogue.load(directory: plugins)).load(files: files)
        guard let found = result.tenants.first(where: { $0.definition.id == tenant }) else {
            for diagnostic in result.errors where diagnostic.location.file.hasSuffix("/\(tenant).yaml") { printError(diagnostic.description) }
            let known = result.tenants.map(\.definition.id)
            throw ValidationError("no valid tenant '\(tenant)' in \(tenantsDirectory)" + (Suggest.hint(for: tenant, in: known).map { " (\($0))" } ?? " (tenants: \(known.joined(separator: ", ")))"))
        }
        return found
    }
}

/// The tenants a maintenance command works on: every valid tenant of the definitions directory, or only `--tenant`.
struct TenantSelection: ParsableArguments {
    @Option(help: "Only this tenant (default: every tenant in --tenants).")
    var tenant: String?

    @Option(name: .customLong("tenants"), help: "Directory of tenant definitions.")
    var tenantsDirectory: String = "tenants"

    @Option(help: "Directory of plugin manifests.")
    var plugins: String = "plugins"

    /// The chosen definitions (the files' errors are printed), and whether some file of the directory had errors.
    func load() throws -> (tenants: [TenantDefinition], hadErrors: Bool) {
        let files = try TenantLoader.definitionFiles(in: [tenantsDirectory])
        let result = TenantLoader(capabilities: PortalModules.capabilities, knownPlugins: TenantLoader.pluginIDs(in: plugins)).load(files: files)
        for diagnostic in result.errors { printError(diagnostic.description) }
        let tenants = result.tenants.map(\.definition)
        guard let tenant else { return (tenants, result.hasErrors) }
        guard let found = tenants.first(where: { $0.id == tenant }) else {
            let known = tenants.map(\.id)
            throw ValidationError("no valid tenant '\(tenant)' in \(tenantsDirectory)"
                                  + (Suggest.hint(for: tenant, in: known).map { " (\($0))" } ?? " (tenants: \(known.joined(separator: ", ")))"))
        }
        return ([found], false)
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func summary(_ tenant: LoadedTenant) -> String { summary(tenant.definition) }

func summary(_ definition: TenantDefinition) -> String {
    "\(definition.id): \(definition.name) — \(definition.roles.count) roles, \(definition.features.count) features, \(definition.flows.count) flows (\(definition.hosts.joined(separator: ", ")))"
}
