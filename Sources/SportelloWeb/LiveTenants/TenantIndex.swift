import Crypto
import Foundation
import SportelloCore

/// What a start or reload learned about a tenant file that validated clean (and whose templates loaded): enough to
/// serve its hosts without parsing it again while its bytes, the fragments, the plugins, the templates and the
/// platform build stay the same.
struct TenantIndexEntry: Sendable, Equatable {
    var file: String
    /// SHA-256 of the file's bytes and of what every tenant shares (`TenantIndex.sharedDigest`).
    var contentKey: String
    var id: String
    var hosts: [String]
    /// The plugins the tenant binds (`plugins:`), so the webhooks know their tenants without building every one.
    var plugins: [String]
    /// `TenantReloader.contentDigest` of `templates/<id>`.
    var templatesDigest: String
    /// The file's warnings, reported again on every reload as if it had been parsed.
    var warnings: [Diagnostic]

    /// Identifies what is served (`TenantReloadReport.digest`).
    var digest: String { TenantIndex.hex(SHA256.hash(data: Data((contentKey + templatesDigest).utf8))) }
}

/// The validated tenant files by content, kept in memory between reloads and on disk between starts
/// (`serve --tenant-index`), so a start or reload parses and checks only the files that changed.
///
/// The key of a file is the SHA-256 of its bytes, of every fragment's bytes, of the default templates, of the plugin
/// manifests and of the running executable: a new build of the platform (new rules) validates everything again.
enum TenantIndex {
    static let formatLine = "sportello-tenant-index 2"

    /// What every tenant shares besides the fragments and templates: the platform build, the plugins, the loader's settings.
    static func environment(plugins: PluginCatalogue, loader: TenantLoader) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(formatLine)\n\(SportelloCoreInfo.version)\n\(loader.passwordFloor)\n".utf8))
        var info = stat()
        if stat("/proc/self/exe", &info) == 0 || stat(CommandLine.arguments.first ?? "", &info) == 0 {
            hasher.update(data: Data("\(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ino)\n".utf8))
        }
        for id in plugins.ids.sorted() {
            hasher.update(data: Data("plugin \(id)\n".utf8))
            if let file = plugins.manifests[id]?.file, let bytes = FileManager.default.contents(atPath: file) { hasher.update(data: bytes) }
        }
        for diagnostic in plugins.diagnostics { hasher.update(data: Data(diagnostic.description.utf8)) }
        return hex(hasher.finalize())
    }

    static func contentKey(fileDigest: String, shared: String) -> String {
        hex(SHA256.hash(data: Data((fileDigest + shared).utf8)))
    }

    /// The key of a file with these bytes.
    static func contentKey(of data: Data, shared: String) -> String { contentKey(fileDigest: digest(of: data), shared: shared) }

    /// SHA-256 of `data`, in hex.
    static func digest(of data: Data) -> String { hex(SHA256.hash(data: data)) }

    /// The entries stored at `path` for this `environment` (none when the file is missing, unreadable, from another
    /// build or damaged: then every file is validated as on a first start).
    static func read(path: String, environment: String) -> [String: TenantIndexEntry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        var entries: [String: TenantIndexEntry] = [:]
        var current: TenantIndexEntry?
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(formatLine), lines.popFirst() == Substring(environment) else { return [:] }
        for line in lines where !line.isEmpty {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(unescape)
            switch (fields.first, fields.count) {
            case ("T", 7):
                if let done = current { entries[done.file] = done }
                func words(_ field: String) -> [String] { field.split(separator: " ").map(String.init) }
                current = TenantIndexEntry(file: fields[1], contentKey: fields[2], id: fields[3], hosts: words(fields[4]),
                                           plugins: words(fields[5]), templatesDigest: fields[6], warnings: [])
            case ("W", 7):
                guard let line = Int(fields[3]), let column = Int(fields[4]) else { return [:] }
                current?.warnings.append(Diagnostic(.warning, code: fields[1], at: SourceLocation(file: fields[2], line: line, column: column),
                                                    fields[5], hint: fields[6].isEmpty ? nil : fields[6]))
            case ("E", 1):
                if let done = current { entries[done.file] = done }
                return entries
            default:
                return [:]
            }
        }
        // No end line: a write cut short.
        return [:]
    }

    /// Writes `entries` to `path` atomically (a temporary file renamed over the old one).
    static func write(_ entries: [TenantIndexEntry], environment: String, to path: String) throws {
        var text = "\(formatLine)\n\(environment)\n"
        for entry in entries.sorted(by: { $0.file < $1.file }) {
            text += ["T", entry.file, entry.contentKey, entry.id, entry.hosts.joined(separator: " "), entry.plugins.joined(separator: " "),
                     entry.templatesDigest]
                .map(escape).joined(separator: "\t") + "\n"
            for warning in entry.warnings {
                text += ["W", warning.code, warning.location.file, "\(warning.location.line)", "\(warning.location.column)",
                         warning.message, warning.hint ?? ""].map(escape).joined(separator: "\t") + "\n"
            }
        }
        text += "E\n"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    /// The folder beside the index file holding a copy of each validated file by content key, so a tenant the index
    /// serves can be built (or kept as the last good version) after its file changed or broke.
    static func copies(of indexPath: String) -> String { indexPath + ".d" }

    static func copyPath(_ key: String, in indexPath: String) -> String {
        (copies(of: indexPath) as NSString).appendingPathComponent(key + ".yaml")
    }

    /// Keeps `data` as the validated bytes of `key` (written once; the name is the content's own key).
    static func keepCopy(_ data: Data, key: String, in indexPath: String) {
        let path = copyPath(key, in: indexPath)
        guard !FileManager.default.fileExists(atPath: path) else { return }
        try? FileManager.default.createDirectory(atPath: copies(of: indexPath), withIntermediateDirectories: true)
        let temporary = path + ".\(ProcessInfo.processInfo.processIdentifier).tmp"
        guard (try? data.write(to: URL(fileURLWithPath: temporary))) != nil else { return }
        if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
    }

    /// Removes the copies of keys no longer indexed once they are a day old: instances sharing one index folder may
    /// still serve a version another has moved on from (until their own next reload).
    static func removeCopies(except keys: Set<String>, in indexPath: String, olderThan age: TimeInterval = 86_400) {
        let folder = copies(of: indexPath)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        let cutoff = Date().addingTimeInterval(-age)
        for name in names where name.hasSuffix(".yaml") && !keys.contains(String(name.dropLast(5))) {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    private static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return field }
        return field.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
    }

    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var result = ""
        var escaping = false
        for character in field {
            if escaping {
                switch character {
                case "t": result.append("\t")
                case "n": result.append("\n")
                case "r": result.append("\r")
                default: result.append(character)
                }
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for byte in digest {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
