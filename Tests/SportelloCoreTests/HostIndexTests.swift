import Testing
@testable import SportelloCore

@Suite("Host index")
struct HostIndexTests {
    @Test func aHostIsFoundWhateverItsCaseAndPort() {
        let index = HostIndex(["portal.unidata.it", "area-clienti.windtre.localhost"])
        #expect(index.position(forHost: "portal.unidata.it") == 0)
        #expect(index.position(forHost: "Portal.UNIDATA.it:8080") == 0)
        #expect(index.position(forHost: "AREA-CLIENTI.windtre.localhost:443") == 1)
        #expect(index.count == 2)
    }

    @Test func unknownHostsPrefixesAndIPv6LiteralsAreNotFound() {
        let index = HostIndex(["portal.unidata.it", "[::1]"])
        #expect(index.position(forHost: "portal.unidata") == nil)
        #expect(index.position(forHost: "portal.unidata.it.evil.example") == nil)
        #expect(index.position(forHost: "xportal.unidata.it") == nil)
        #expect(index.position(forHost: "") == nil)
        #expect(index.position(forHost: "[::1]:8080") == nil)
        #expect(HostIndex([]).position(forHost: "portal.unidata.it") == nil)
    }

    @Test func aNameGivenTwiceKeepsItsFirstPosition() {
        let index = HostIndex(["a.localhost", "b.localhost", "A.LOCALHOST", "c.localhost"])
        #expect(index.position(forHost: "a.localhost") == 0)
        #expect(index.position(forHost: "b.localhost") == 1)
        #expect(index.position(forHost: "c.localhost") == 3, "names after a repeated one keep their own positions")
        #expect(index.count == 3)
    }

    @Test func tenThousandHostsAreEachFoundAtTheirOwnPosition() {
        let hosts = (0..<10_000).map { "tenant-\($0).example.localhost" }
        let index = HostIndex(hosts)
        #expect(index.count == 10_000)
        for (position, host) in hosts.enumerated() where index.position(forHost: host.uppercased()) != position {
            Issue.record("\(host) → \(String(describing: index.position(forHost: host))), expected \(position)")
        }
        #expect(index.position(forHost: "tenant-10000.example.localhost") == nil)
    }
}
