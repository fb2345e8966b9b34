import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the tenants while the server runs: when a tenant file, fragment or template changes (the sources'
/// fingerprint is compared every `interval`), and on `SIGHUP`. `sportello reload` asks the operations listener
/// (`POST /reload`) instead, and gets the report back.
///
/// Several instances sharing the tenant files (one volume, or the same deployment on each) converge within one
/// `interval` plus the time a reload takes: each watches the files itself, none waits on another.
public struct TenantWatcher: Service {
    public let reloader: TenantReloader
    /// How often the files are compared (nil: only `SIGHUP` and `sportello reload` reload).
    public let interval: Duration?
    /// Trap `SIGHUP` (the process would otherwise end on it).
    public let handlesHangup: Bool
    private let logger: Logger

    public init(reloader: TenantReloader, interval: Duration?, handlesHangup: Bool = true, logger: Logger = Logger(label: "sportello.tenants")) {
        self.reloader = reloader; self.interval = interval; self.handlesHangup = handlesHangup; self.logger = logger
    }

    public func run() async throws {
        logger.info("watching tenant files", metadata: ["interval": "\(interval.map { "\($0)" } ?? "off")", "sighup": "\(handlesHangup)"])
        let reloader = reloader, interval = interval, handlesHangup = handlesHangup
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if handlesHangup {
                    group.addTask {
                        for await _ in await UnixSignalsSequence(trapping: .sighup) {
                            await reloader.reload(trigger: "SIGHUP")
                        }
                    }
                }
                if let interval {
                    group.addTask {
                        while !Task.isCancelled {
                            do { try await Task.sleep(for: interval) } catch { break }
                            _ = await reloader.reloadIfChanged(trigger: "file change")
                        }
                    }
                }
                await group.waitForAll()
            }
        }
        logger.info("stopped watching tenant files")
    }
}
