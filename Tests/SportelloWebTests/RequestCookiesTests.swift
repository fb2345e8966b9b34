import Testing
@testable import SportelloWeb

@Suite("Request cookies")
struct RequestCookiesTests {
    @Test("cookies are read from every Cookie header; the first of a name wins and values keep their = signs")
    func cookiesAreRead() {
        let cookies = RequestCookies(headers: ["sportello_session=abc=; sportello_lang=en", "junk;  sportello_csrf=x1", "sportello_lang=it"])
        #expect(cookies["sportello_session"] == "abc=")
        #expect(cookies["sportello_lang"] == "en")
        #expect(cookies["sportello_csrf"] == "x1")
        #expect(cookies["junk"] == nil && cookies["missing"] == nil)
    }
}
