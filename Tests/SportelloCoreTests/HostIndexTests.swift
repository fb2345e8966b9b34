import Testing
@testable import SportelloCore

@Suite("Host index")
struct HostIndexTests {
    @Test func aHostIsFoundWhateverItsCaseAndPort() {
        let index = HostIndex([("portal.unidata.it", 1), ("area-clienti.windtre.localhost", 2)])
        #expect(index.value(forHost: "portal.unidata.it") == 1)
        #expect(index.value(forHost: "Portal.UNIDATA.it:8080") == 1)
        #expect(index.value(forHost: "AREA-CLIENTI.windtre.localhost:443") == 2)
        #expect(index.count == 2)
    }

    @Test func unknownHostsPrefixesAndIPv6LiteralsAreNotFound() {
        let index = HostIndex([("portal.unidata.it", 1), ("[::1]", 9)])
        #expect(index.value(forHost: "portal.unidata") == nil)
        #expect(index.value(forHost: "portal.unidata.it.evil.example") == nil)
        #expect(index.value(forHost: "xportal.unidata.it") == nil)
        #expect(index.value(forHost: "") == nil)
        #expect(index.value(forHost: "[::1]:8080") == nil)
        #expect(HostIndex<Int>([]).value(forHost: "portal.unidata.it") == nil)
    }

    @Test func aNameGivenTwiceKeepsItsFirstValue() {
        let index = HostIndex([("a.localhost", 1), ("A.LOCALHOST", 2)])
        #expect(index.value(forHost: "a.localhost") == 1)
        #expect(index.count == 1)
    }

    @Test func tenThousandHostsAreEachFoundWithTheirOwnValue() {
        let hosts = (0..<10_000).map { ("tenant-\($0).example.localhost", $0) }
        let index = HostIndex(hosts)
        #expect(index.count == 10_000)
        for (host, value) in hosts where index.value(forHost: host.uppercased()) != value {
            Issue.record("\(host) → \(String(describing: index.value(forHost: host))), expected \(value)")
        }
        #expect(index.value(forHost: "tenant-10000.example.localhost") == nil)
    }
}
