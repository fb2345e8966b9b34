import Testing
@testable import SportelloWeb

@Suite("Routes")
struct RoutesTests {
    @Test("a path fills captures in order: ids and plain names as they are, anything else percent-encoded, the query encoded too")
    func paths() {
        let route = Route("/records/:kind/:id")
        #expect(route.path("claims", 42) == "/records/claims/42")
        #expect(route.path("a-b_c.d~e", "X9") == "/records/a-b_c.d~e/X9")
        #expect(route.path("a b", "x/y") == "/records/a%20b/x%2Fy")
        #expect(route.path("città", "?&#") == "/records/citt%C3%A0/%3F%26%23")
        #expect(route.path("claims", 1, query: ["q": "a&b c", "page": "2"]) == "/records/claims/1?q=a%26b%20c&page=2")
        #expect(route.api.pattern == "/api/v1/records/:kind/:id")
    }
}
