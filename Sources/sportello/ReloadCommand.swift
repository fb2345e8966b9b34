import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SportelloWeb

/// `sportello reload`: running instances read their tenant files again now, and say what they did.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make running 'serve' instances reload their tenant files and templates now, and print what each did.",
        discussion: """
            Each instance is asked on its operations listener (POST /reload on --metrics-port), which answers with what \
            it applied, removed and rejected: a file that fails validation is kept out and the tenant's last good version \
            goes on serving. With --pid the instance is sent SIGHUP instead (no report; see its log and /ready). Without \
            either, the instance at SPORTELLO_METRICS_HOST:SPORTELLO_METRICS_PORT is asked. Instances also reload by \
            themselves when a file changes (serve --watch-interval). Exit status 1 when a file was rejected or an \
            instance could not be reached.
            """)

    @Option(name: .customLong("url"), help: "Base URL of an instance's operations listener, e.g. http://10.0.0.5:9090 (repeatable).")
    var urls: [String] = []

    @Option(name: .customLong("pid"), help: "Process id of a local 'serve' to send SIGHUP (repeatable).")
    var pids: [Int32] = []

    func run() async throws {
        var targets = urls
        if targets.isEmpty && pids.isEmpty {
            let environment = ProcessInfo.processInfo.environment
            guard let port = environment["SPORTELLO_METRICS_PORT"], !port.isEmpty else {
                throw ValidationError("say which instances: --url http://HOST:METRICS_PORT (serve --metrics-port) or --pid PID "
                                      + "(or set SPORTELLO_METRICS_PORT as for serve)")
            }
            targets = ["http://\(environment["SPORTELLO_METRICS_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"):\(port)"]
        }
        var failed = false
        for pid in pids {
            if kill(pid, SIGHUP) == 0 {
                print("\(pid): SIGHUP sent (the outcome is in its log and on /ready)")
            } else {
                printError("\(pid): error: cannot signal the process (\(String(cString: strerror(errno))))")
                failed = true
            }
        }
        for target in targets {
            do {
                let report = try await Self.reload(at: target)
                print(Self.describe(report, instance: target))
                if !report.rejected.isEmpty { failed = true }
            } catch {
                printError("\(target): error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }

    struct Report: Decodable {
        struct Rejection: Decodable {
            var file: String
            var tenant: String?
            var keptLastGood: Bool
            var errors: [String]
        }

        var trigger: String
        var applied: [String]
        var unchanged: [String]
        var removed: [String]
        var rejected: [Rejection]
        var served: [String]
        var digest: String
    }

    struct ReloadFailure: Error, CustomStringConvertible {
        var description: String
    }

    static func reload(at base: String) async throws -> Report {
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: trimmed + "/reload"), url.scheme == "http" || url.scheme == "https" else {
            throw ReloadFailure(description: "not an http(s) URL: \(base)")
        }
        var request = URLRequest(url: url, timeoutInterval: 60)
        request.httpMethod = "POST"
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            throw ReloadFailure(description: "HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Report.self, from: data)
    }

    static func describe(_ report: Report, instance: String) -> String {
        var lines = ["\(instance): \(report.served.count) tenant(s) served (set \(report.digest.prefix(12)))"]
        if !report.applied.isEmpty { lines.append("  applied: \(report.applied.joined(separator: ", "))") }
        if !report.removed.isEmpty { lines.append("  removed: \(report.removed.joined(separator: ", "))") }
        if report.applied.isEmpty && report.removed.isEmpty && report.rejected.isEmpty { lines.append("  nothing changed") }
        for rejection in report.rejected {
            lines.append("  rejected: \(rejection.file)\(rejection.tenant.map { " (\($0))" } ?? "") — "
                         + (rejection.keptLastGood ? "its last good version goes on serving" : "not served; its hosts answer 503"))
            for error in rejection.errors { lines.append("    \(error)") }
        }
        return lines.joined(separator: "\n")
    }
}
