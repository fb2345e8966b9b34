import Foundation

/// Shows where a message went without giving the address away: `m•••@azienda.it`.
public enum ContactMasking {
    public static func email(_ address: String) -> String {
        let trimmed = address.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let at = trimmed.lastIndex(of: "@"), at != trimmed.startIndex else { return "•••" }
        let local = trimmed[..<at]
        let domain = trimmed[trimmed.index(after: at)...]
        return "\(local.prefix(1))•••@\(domain)"
    }
}
