import Foundation
@_exported import SportelloTestSupport  // every file of the target sees the shared helpers
import Testing
import SportelloCore
@testable import SportelloStore

/// 21 November 2026, 12:00 in Rome: the injected "now" of window tests.
let fixedNow: Int64 = CalendarDay(year: 2026, month: 11, day: 21).startInstant + 12 * 3600

func sampleCustomer(_ code: String, type: String = "business", now: Int64 = fixedNow) -> CustomerRecord {
    CustomerRecord(externalId: "EXT-\(code)", customerType: type, customerCode: code, companyName: "Azienda \(code) S.r.l.",
                   vatNumber: ItalianIdentifiers.makePartitaIVA(serial: abs(code.hashValue) % 9_999_999, officeCode: 58),
                   createdAt: now)
}

