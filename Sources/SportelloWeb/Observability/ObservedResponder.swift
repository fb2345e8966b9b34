import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SportelloApplication
import Synchronization

/// The `X-Request-Id` header: accepted from the client (or the proxy) when short and made of safe characters,
/// otherwise generated; echoed on every response, written in the request's log line and on error pages.
public enum RequestID {
    public static let header = HTTPField.Name("X-Request-Id")!
    static let maximumLength = 64

    /// `candidate` when it is 1…64 characters of `A-Z a-z 0-9 . _ : -`, else nil.
    public static func accepted(_ candidate: String?) -> String? {
        guard let candidate, !candidate.isEmpty, candidate.utf8.count <= maximumLength,
              candidate.utf8.allSatisfy({ byte in
                  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                      || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
              }) else { return nil }
        return candidate
    }

    /// 16 random hexadecimal digits.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Wraps the portal's router: every request gets a request id, one log line and its metrics; an error no handler
/// turned into a page becomes a 500 naming the request id (logged with the error's type); a request stuck behind
/// an unreachable database, or failing because of it, becomes a 503 with `Retry-After` (see `DatabaseAvailability`).
struct ObservedRouter: HTTPResponderBuilder {
    let router: Router<PortalContext>
    let services: PortalServices
    let operations: Operations

    func buildResponder() -> ObservedResponder<RouterResponder<PortalContext>> {
        ObservedResponder(inner: router.buildResponder(), services: services, operations: operations)
    }
}

struct ObservedResponder<Inner: HTTPResponder>: HTTPResponder where Inner.Context == PortalContext {
    let inner: Inner
    let services: PortalServices
    let operations: Operations

    /// Paths that never wait for nor fail on the database (probes, and assets held in memory).
    static func needsNoDatabase(_ path: String) -> Bool {
        path == "/health" || path == "/ready" || path == "/brand.css" || path == "/favicon.ico" || path.hasPrefix("/static/")
    }

    func respond(to request: Request, context: PortalContext) async throws -> Response {
        let started = ContinuousClock.now
        let requestId = RequestID.accepted(request.headers[RequestID.header]) ?? RequestID.generate()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestId)
        let path = request.uri.path
        let tenant = services.tenants.tenant(forHost: request.head.authority ?? "")
        let availability = operations.availability
        var response: Response
        var failure: (any Error)?
        var loginLocked = false
        if !Self.needsNoDatabase(path) && availability.isKnownDown {
            availability.recheckInBackground()
            response = unavailable(request, context: context, tenant: tenant, requestId: requestId)
        } else {
            do {
                if let note = LoginAttemptNote.forRequest(request) {
                    // A login attempt: the account code notes a refusal because of a lock, which answers like a wrong password.
                    response = try await LoginAttemptNote.$current.withValue(note) { try await guarded(request, context: context) }
                    if note.refusedBecauseLocked { loginLocked = true }
                } else {
                    response = try await Self.needsNoDatabase(path) ? inner.respond(to: request, context: context)
                                                                     : guarded(request, context: context)
                }
            } catch let error as DatabaseUnavailable {
                failure = error
                response = unavailable(request, context: context, tenant: tenant, requestId: requestId)
            } catch let error as any HTTPResponseError {
                response = (try? error.response(from: request, context: context)) ?? Response(status: error.status)
            } catch {
                // Was it the database? Ask it (bounded): a failing query during an outage is a 503, not a bug.
                failure = error
                if await availability.check() {
                    response = internalError(request, context: context, tenant: tenant, requestId: requestId)
                } else {
                    response = unavailable(request, context: context, tenant: tenant, requestId: requestId)
                }
            }
        }
        response.headers[RequestID.header] = requestId
        let duration = started.duration(to: .now)
        let route = context.endpointPath ?? "unmatched"
        let tenantLabel = tenant?.id ?? "-"
        let status = Int(response.status.code)
        PortalMetrics.request(tenant: tenantLabel, method: request.method.rawValue, route: route, status: status, duration: duration)
        countLogin(request, route: route, response: response, tenant: tenantLabel, locked: loginLocked)
        if operations.options.logRequests {
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
                "duration_ms": .stringConvertible((duration.milliseconds * 10).rounded() / 10), "tenant": .string(tenantLabel),
                "request_id": .string(requestId),
            ]
            if let failure {
                // The type and the driver's own words; never the request's fields (no body, no query string).
                metadata["error"] = .string(String(reflecting: type(of: failure)))
                metadata["cause"] = .string(Self.cause(failure))
                operations.options.requestLogger.error("request failed", metadata: metadata)
            } else if status >= 500 {
                // A 503 answered from a known outage (the router never ran: the route is `unmatched`).
                operations.options.requestLogger.warning("request", metadata: metadata)
            } else {
                operations.options.requestLogger.info("request", metadata: metadata)
            }
        }
        return response
    }

    /// Runs the handler in a task of its own and, every `timeout` it is still running, probes the database: when
    /// the probe fails the handler is cancelled and left behind, and `DatabaseUnavailable` is thrown. A slow
    /// handler on a healthy database (a plugin call, a large export) is left to finish.
    private func guarded(_ request: Request, context: PortalContext) async throws -> Response {
        let inner = inner, availability = operations.availability
        let once = Once<Result<Response, any Error>>()
        let work = TaskSlot()
        let outcome: Result<Response, any Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                once.set(continuation)
                let watchdog = Task {
                    while true {
                        do { try await Task.sleep(for: availability.timeout) } catch { return }
                        // Another request's probe may have found the outage meanwhile: then no need to probe again.
                        let down = availability.isKnownDown ? true : !(await availability.check())
                        if down {
                            if once.resume(.failure(DatabaseUnavailable())) { work.cancel() }
                            return
                        }
                    }
                }
                let task = Task {
                    let result: Result<Response, any Error>
                    do { result = .success(try await inner.respond(to: request, context: context)) } catch { result = .failure(error) }
                    watchdog.cancel()
                    once.resume(result)
                }
                work.set(task)
            }
        } onCancel: {
            work.cancel()
        }
        return try outcome.get()
    }

    /// 503 with `Retry-After`: JSON on the API, else the tenant's error page in its language (plain text off-tenant).
    private func unavailable(_ request: Request, context: PortalContext, tenant: PortalTenant?, requestId: String) -> Response {
        var response = errorResponse(request, context: context, tenant: tenant, requestId: requestId, status: .serviceUnavailable,
                                     code: DatabaseUnavailable.code, textKey: "operations.unavailable",
                                     fallback: "The service is unavailable for a moment: please try again shortly.")
        response.headers[.retryAfter] = String(operations.options.retryAfterSeconds)
        return response
    }

    /// 500 naming the request id (the log line has the cause).
    private func internalError(_ request: Request, context: PortalContext, tenant: PortalTenant?, requestId: String) -> Response {
        errorResponse(request, context: context, tenant: tenant, requestId: requestId, status: .internalServerError,
                      code: "internal_error", textKey: "operations.internal",
                      fallback: "Something went wrong on our side. Request id: \(requestId).")
    }

    private func errorResponse(_ request: Request, context: PortalContext, tenant: PortalTenant?, requestId: String,
                               status: HTTPResponse.Status, code: String, textKey: String, fallback: String) -> Response {
        var response: Response
        if let tenant {
            let locale = tenant.locale(preferring: request.uri.queryParameters["lang"].map(String.init) ?? RequestCookies(request)[CookieName.locale])
            let message = tenant.theme.text("\(textKey).message", locale: locale, ["request_id": requestId])
            if request.uri.path.hasPrefix("/api/") {
                response = API.json(APIErrorBody(error: .init(code: code, message: message)), status: status)
            } else {
                var pageContext = context
                pageContext.tenant = tenant
                pageContext.locale = locale
                if let page = try? TenantContext(context: pageContext) {
                    response = Pages.render("error", ErrorPage(message: message, code: code, status: Int(status.code)),
                                            title: tenant.theme.text("\(textKey).title", locale: locale), context: page, status: status)
                } else {
                    response = Pages.htmlResponse(message, status: status)
                }
            }
        } else {
            response = Response(status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                                body: .init(byteBuffer: ByteBuffer(string: fallback + "\n")))
        }
        response.headers[.cacheControl] = "no-store"
        SecurityHeadersMiddleware<PortalContext>.apply(to: &response, secure: services.configuration.secureCookies)
        return response
    }

    /// Logins counted from their answers (`OperationsMetrics.login`): the login form, its authenticator-code step
    /// and the API's `POST /api/v1/session`. A locked account answers like a wrong password (on purpose); the account
    /// code notes it (`LoginAttemptNote`), so the metric tells it apart.
    private func countLogin(_ request: Request, route: String, response: Response, tenant: String, locked: Bool) {
        guard request.method == .post, route == "/login" || route == "/login/code" || route == "\(API.prefix)/session" else { return }
        let status = response.status.code
        let api = route == "\(API.prefix)/session"
        let outcome: OperationsMetrics.LoginOutcome
        switch status {
        case 429: outcome = .throttled
        case 401: outcome = locked ? .locked : .failed
        // The API answers 403 to a right password that must be changed first.
        case 201 where api, 403 where api: outcome = .ok
        case 303 where !api:
            // The password step of a user with an authenticator app: the login is counted at its code step.
            if route == "/login", response.headers[.location]?.hasPrefix("/login/code") == true { return }
            outcome = .ok
        default: return  // not a login attempt (a CSRF failure, a form re-shown)
        }
        OperationsMetrics.login(tenant: tenant, outcome: outcome)
    }

    /// The error's own description, cut short (a driver's message names the failing operation, not the request).
    static func cause(_ error: any Error) -> String {
        String(String(describing: error).prefix(300)).replacingOccurrences(of: "\n", with: " ")
    }
}

/// What the account code found out about one login attempt that its answer does not say: the right password of a
/// locked account is refused like a wrong one, and only the metrics learn why.
final class LoginAttemptNote: Sendable {
    @TaskLocal static var current: LoginAttemptNote?

    private let locked = Mutex(false)

    var refusedBecauseLocked: Bool { locked.withLock { $0 } }

    func markRefusedBecauseLocked() { locked.withLock { $0 = true } }

    /// A note for the login attempts (`POST /login`, `/login/code`, `/api/v1/session`); nil for every other request.
    static func forRequest(_ request: Request) -> LoginAttemptNote? {
        guard request.method == .post else { return nil }
        let path = request.uri.path
        return path == "/login" || path == "/login/code" || path == "\(API.prefix)/session" ? LoginAttemptNote() : nil
    }
}

/// A task started inside a continuation, to be cancelled from elsewhere (a cancellation handler, a watchdog).
final class TaskSlot: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let cancelled = Mutex(false)

    func set(_ task: Task<Void, Never>) {
        let cancelNow = cancelled.withLock { $0 }
        self.task.withLock { $0 = task }
        if cancelNow { task.cancel() }
    }

    func cancel() {
        cancelled.withLock { $0 = true }
        task.withLock { $0 }?.cancel()
    }
}
