import Foundation
import HTTPTypes
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// How a refused mail is answered: pages 429 with the wait, the API 429 with `Retry-After` and
/// `{"error":{"code":"mail_limit_reached",…}}`.
extension MailLimitExceeded {
    func message(tenant: PortalTenant, locale: String) -> String {
        let minutes = max(1, Int((retryAfter + 59) / 60))
        return tenant.theme.text("error.mail_limit_reached.message", locale: locale, ["minutes": String(minutes)])
    }

    func response(api: Bool, context: PortalContext) -> Response {
        var response: Response
        if let tenant = context.tenant, let page = try? TenantContext(context: context) {
            let text = message(tenant: tenant, locale: context.locale)
            if api {
                response = API.json(APIErrorBody(error: .init(code: Self.code, message: text)), status: .tooManyRequests)
            } else {
                response = Pages.render("error", ErrorPage(message: text, code: Self.code, status: 429),
                                        title: tenant.theme.text("error.mail_limit_reached.title", locale: context.locale),
                                        context: page, status: .tooManyRequests)
            }
        } else {
            response = Pages.htmlResponse("Too many requests", status: .tooManyRequests)
        }
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }
}
