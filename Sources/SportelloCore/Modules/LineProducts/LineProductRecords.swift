import Foundation

/// A Giga Smart Share package (WINDTRE): Giga bought for a company and shared by several SIMs.
public struct SharePlanRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var contractId: Int64?
    /// The package ID shown to the customer (`GSS-…`), unique in the tenant.
    public var code: String
    /// The `gss_package` catalogue item the package is (changed by an upgrade or downgrade).
    public var packageCode: String
    public var packageTitle: String
    /// Giga included each month.
    public var gigaAllowance: Int64
    /// Extra Giga bought on top of the allowance, valid in `extraGigaMonth` only.
    public var extraGiga: Int64
    /// The month (`YYYY-MM`) the extra Giga were bought for.
    public var extraGigaMonth: String?
    public var referentName: String?
    /// The referent's phone: the threshold SMS (80 %, 100 %) go there.
    public var referentPhone: String
    public var status: SharePlanStatus
    public var activatedOn: String
    public var updatedAt: Int64

    public init(id: Int64? = nil, customerId: Int64, contractId: Int64? = nil, code: String, packageCode: String, packageTitle: String,
                gigaAllowance: Int64, extraGiga: Int64 = 0, extraGigaMonth: String? = nil, referentName: String? = nil, referentPhone: String, status: SharePlanStatus = .active,
                activatedOn: String, updatedAt: Int64) {
        self.id = id; self.customerId = customerId; self.contractId = contractId; self.code = code; self.packageCode = packageCode
        self.packageTitle = packageTitle; self.gigaAllowance = gigaAllowance; self.extraGiga = extraGiga; self.extraGigaMonth = extraGigaMonth; self.referentName = referentName
        self.referentPhone = referentPhone; self.status = status; self.activatedOn = activatedOn; self.updatedAt = updatedAt
    }

    /// Extra Giga usable in `month` (`YYYY-MM`): those bought for an earlier month have expired.
    public func extraGiga(in month: String) -> Int64 { extraGigaMonth == month ? extraGiga : 0 }

    /// Giga available in `month`: the allowance plus the extra Giga bought for it.
    public func totalGiga(in month: String) -> Int64 { gigaAllowance + extraGiga(in: month) }

    /// `YYYY-MM` of a day.
    public static func month(of day: CalendarDay) -> String { LocalTime.pad(day.year, 4) + "-" + LocalTime.pad(day.month) }
}

/// Whether a Giga Smart Share package is in force.
public enum SharePlanStatus: String, Codable, Sendable, CaseIterable {
    case active, ceased
}

/// A device of the customer: model, IMEI or serial number, the line it is used with, the instalment
/// plan it is paid by and the maintenance (assistance) it comes with.
public struct DeviceRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var customerId: Int64
    public var lineId: Int64?
    /// `smartphone`, `tablet`, `router`, `modem`, `switchboard`…
    public var kind: String
    public var brand: String
    public var model: String
    /// `imei` or `serial`.
    public var identifierKind: String
    public var identifier: String
    /// The account (nome account) the device is registered to.
    public var accountName: String
    public var purchasedOn: String
    /// Monthly instalments of the plan; 0 when paid outright.
    public var instalmentCount: Int64
    public var instalmentsPaid: Int64
    public var instalmentCents: Int64
    public var maintenancePlan: String?
    /// Interventions the maintenance plan includes, and those already used.
    public var maintenanceInterventions: Int64
    public var maintenanceInterventionsUsed: Int64
    public var maintenanceExpiresOn: String?
    public var status: DeviceStatus

    public init(id: Int64? = nil, customerId: Int64, lineId: Int64? = nil, kind: String, brand: String, model: String,
                identifierKind: String, identifier: String, accountName: String, purchasedOn: String, instalmentCount: Int64 = 0,
                instalmentsPaid: Int64 = 0, instalmentCents: Int64 = 0, maintenancePlan: String? = nil, maintenanceInterventions: Int64 = 0,
                maintenanceInterventionsUsed: Int64 = 0, maintenanceExpiresOn: String? = nil, status: DeviceStatus = .active) {
        self.id = id; self.customerId = customerId; self.lineId = lineId; self.kind = kind; self.brand = brand; self.model = model
        self.identifierKind = identifierKind; self.identifier = identifier; self.accountName = accountName; self.purchasedOn = purchasedOn
        self.instalmentCount = instalmentCount; self.instalmentsPaid = instalmentsPaid; self.instalmentCents = instalmentCents
        self.maintenancePlan = maintenancePlan; self.maintenanceInterventions = maintenanceInterventions
        self.maintenanceInterventionsUsed = maintenanceInterventionsUsed; self.maintenanceExpiresOn = maintenanceExpiresOn; self.status = status
    }

    public var instalmentsLeft: Int64 { max(0, instalmentCount - instalmentsPaid) }
    /// What is still to pay, in cents.
    public var amountLeftCents: Int64 { instalmentsLeft * instalmentCents }
    public var interventionsLeft: Int64 { max(0, maintenanceInterventions - maintenanceInterventionsUsed) }
}

/// Where a device stands.
public enum DeviceStatus: String, Codable, Sendable, CaseIterable {
    case active
    /// IMEI blocked after theft or loss.
    case blocked
    case returned
}

/// A line with the product columns of WINDTRE's Prodotti area (card number, PIN and PUK, GSS package).
/// PIN and PUK are secrets of the customer: only read them to reveal them to a user who re-entered their password.
public struct ProductLineRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var customerId: Int64
    public var contractId: Int64
    public var kind: String
    public var identifier: String
    public var description: String?
    public var status: LineStatus
    public var assignedUserId: Int64?
    public var iccid: String?
    public var sharePlanId: Int64?

    public init(id: Int64, customerId: Int64, contractId: Int64, kind: String, identifier: String, description: String? = nil,
                status: LineStatus, assignedUserId: Int64? = nil, iccid: String? = nil, sharePlanId: Int64? = nil) {
        self.id = id; self.customerId = customerId; self.contractId = contractId; self.kind = kind; self.identifier = identifier
        self.description = description; self.status = status; self.assignedUserId = assignedUserId; self.iccid = iccid
        self.sharePlanId = sharePlanId
    }

    /// The card number with all but the last four digits hidden (`•••• 1234`), for lists.
    public var maskedICCID: String? {
        guard let iccid, iccid.count > 4 else { return iccid }
        return "•••• " + iccid.suffix(4)
    }
}

/// A SIM's codes, read only to reveal them.
public struct SimCodes: Codable, Sendable, Equatable {
    public var pin: String?
    public var puk: String?
    public init(pin: String?, puk: String?) { self.pin = pin; self.puk = puk }
}

/// The rules of Giga Smart Share changes, checked before the store is touched.
public enum SharePlanRules {
    public static let bytesPerGiga: Int64 = 1_000_000_000

    /// Giga used, rounded up to a tenth (what the customer sees as erosi).
    public static func giga(fromBytes bytes: Int64) -> Double {
        (Double(bytes) / Double(bytesPerGiga) * 10).rounded(.up) / 10
    }

    /// Why a package of `newAllowance` Giga cannot replace the current one, nil when it can: the same size, or a
    /// downgrade below the Giga the package's SIMs already used this month (extra Giga bought still count).
    public static func changeProblem(current: SharePlanRecord, newAllowance: Int64, usedBytes: Int64, month: String) -> String? {
        if newAllowance == current.gigaAllowance { return "same_package" }
        if newAllowance < current.gigaAllowance && (newAllowance + current.extraGiga(in: month)) * bytesPerGiga < usedBytes {
            return "below_used"
        }
        return nil
    }

    /// Why a SIM that used `simBytes` this month cannot move into `target` (whose SIMs used `targetBytes`), nil when it can.
    public static func moveProblem(target: SharePlanRecord, targetBytes: Int64, simBytes: Int64, month: String) -> String? {
        guard target.status == .active else { return "package_not_active" }
        if targetBytes + simBytes > target.totalGiga(in: month) * bytesPerGiga { return "target_exhausted" }
        return nil
    }
}
