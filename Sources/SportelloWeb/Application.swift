import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SportelloCore
import SportelloStore

/// Builds the portal server for every tenant: used by `sportello serve` and by the tests alike.
/// `operations` (request ids, the request log, metrics, `/ready`, the 503 of a database outage): a default one when nil.
public func buildApplication(services: PortalServices, extraServices: [any Service] = [],
                             operations: Operations? = nil) -> some ApplicationProtocol {
    // Without operations of its own (tests, benchmarks): requests are logged only when they fail.
    let operations = operations ?? Operations(services: services, options: .quiet)
    let router = buildRouter(services: services, operations: operations)
    var app = Application(
        // Request id, log line, metrics and the database outage's 503 around every route (Observability/).
        router: ObservedRouter(router: router, services: services, operations: operations),
        // An absolute-form request line decides the host (RFC 9112 §3.2.2): see AbsoluteFormHost.swift.
        server: .http1(configuration: .init(additionalChannelHandlers: [AbsoluteFormHostInstaller()])),
        configuration: .init(address: .hostname(services.configuration.hostname, port: services.configuration.port),
                             serverName: "Sportello"),
        logger: services.logger
    )
    for service in extraServices { app.addServices(service) }
    return app
}

/// The routes: public assets and health at the top, tenant pages under `TenantContext`, the
/// logged-in portal under `UserContext` (a handler needing a user cannot be mounted without one).
public func buildRouter(services: PortalServices, operations: Operations? = nil) -> Router<PortalContext> {
    let router = Router(context: PortalContext.self)
    router.add(middleware: SecurityHeadersMiddleware(secure: services.configuration.secureCookies))
    router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok"))) }
    // Readiness (database, tenants, and what others add): on every host, like /health. /metrics is not served here.
    let operations = operations ?? Operations(services: services)
    router.get("/ready") { _, _ in await operations.readyResponse() }
    router.add(middleware: TenantMiddleware(services: services))

    let tenantRoutes = router.group(context: TenantContext.self)
    // Brand and static files revalidate on every use (a colour changed by a reload shows at once); an unchanged
    // file costs a 304 without a body.
    tenantRoutes.get("/brand.css") { request, context in
        EntityTag.response(request, body: ByteBuffer(string: context.tenant.brandStylesheet), etag: context.tenant.brandStylesheetETag,
                           contentType: "text/css; charset=utf-8")
    }
    tenantRoutes.get("/favicon.ico") { _, context in
        guard let favicon = context.tenant.definition.branding.favicon, context.tenant.theme.staticFiles[favicon] != nil else {
            throw PortalError.notFound
        }
        return Response(status: .movedPermanently, headers: [.location: "/static/\(favicon)", .cacheControl: "public, max-age=86400"])
    }
    tenantRoutes.get("/static/:file") { request, context in
        guard let name = context.parameters.get("file"), let data = context.tenant.theme.staticFiles[name],
              let etag = context.tenant.theme.staticETags[name] else { throw PortalError.notFound }
        return EntityTag.response(request, body: ByteBuffer(bytes: data), etag: etag, contentType: mediaType(for: name))
    }
    AuthController(services: services).addRoutes(to: tenantRoutes)
    FlowController(services: services).addRoutes(to: tenantRoutes)
    // Payments plugins' signed notifications: a tenant (Host header), no session.
    OnlinePaymentsController(services: services).addPublicRoutes(to: tenantRoutes)

    let userRoutes = tenantRoutes.group(context: UserContext.self)
    APIController(services: services).addRoutes(tenant: tenantRoutes, user: userRoutes)
    SectionsController(services: services).addRoutes(to: userRoutes)
    for module in services.catalog.modules { module.addRoutes(services: services, to: userRoutes) }
    return router
}

private func mediaType(for file: String) -> String {
    switch (file as NSString).pathExtension.lowercased() {
    case "css": "text/css; charset=utf-8"
    case "js": "text/javascript; charset=utf-8"
    case "svg": "image/svg+xml"
    case "png": "image/png"
    case "ico": "image/x-icon"
    case "woff2": "font/woff2"
    default: "application/octet-stream"
    }
}

/// Loads the theme of every tenant (templates folder) into a registry.
public func loadPortalTenants(_ definitions: [TenantDefinition], templates: URL, catalog: PortalCatalog = .standard) throws -> [PortalTenant] {
    try definitions.map { PortalTenant(definition: $0, theme: try PortalTheme.load(root: templates, tenantId: $0.id), catalog: catalog) }
}
