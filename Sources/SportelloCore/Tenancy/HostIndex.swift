/// Host names → their positions in the list given, looked up by the bytes of a request's `Host` header with no
/// allocation: ASCII letters compared without case, a `:port` suffix ignored, IPv6 literals (`[…]`) never found. The
/// names live in one byte buffer and the table in one array of 16-byte slots that also say where their name lies, so a
/// lookup among 10,000 tenants touches two cache lines: its slot and its name.
public struct HostIndex: Sendable {
    /// One table entry: `tag` 0 is empty; else the name hash's high 32 bits, then the entry number + 1 (never 0).
    private struct Slot: Sendable {
        var tag: UInt64 = 0
        /// The name's bytes in `names`.
        var start: UInt32 = 0
        var length: UInt32 = 0
    }

    /// Open addressing, linear probing.
    private var slots: [Slot]
    /// Every name, lowercased, one after the other.
    private var names: [UInt8] = []

    /// An index of `hosts`, each found at its position in the list; a name given twice keeps its first position (the
    /// later one is never found).
    public init(_ hosts: [String]) {
        var capacity = 8
        while capacity < hosts.count * 2 { capacity <<= 1 }
        slots = Array(repeating: Slot(), count: capacity)
        for (position, name) in hosts.enumerated() {
            // Every name has a position; a repeated one is left out of the table.
            let bytes = Array(name.utf8)
            guard bytes.withUnsafeBufferPointer({ entry(named: $0) }) == nil else { continue }
            let hash = bytes.withUnsafeBufferPointer { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot].tag != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Slot(tag: (hash & 0xffff_ffff_0000_0000) | UInt64(position + 1), start: UInt32(names.count),
                               length: UInt32(bytes.count))
            names.append(contentsOf: bytes.map(Self.lowercased))
            count += 1
        }
    }

    /// How many distinct names it holds.
    public private(set) var count = 0

    /// The position of the host named by `header` (a `Host` header's text: `portal.example.it` or `portal.example.it:8080`).
    public func position(forHost header: String) -> Int? {
        header.utf8.withContiguousStorageIfAvailable { entry(forHost: $0) }
            ?? Array(header.utf8).withUnsafeBufferPointer { entry(forHost: $0) }
    }

    private func entry(forHost header: UnsafeBufferPointer<UInt8>) -> Int? {
        guard header.first != UInt8(ascii: "[") else { return nil }
        let end = header.lastIndex(of: UInt8(ascii: ":")) ?? header.endIndex
        return entry(named: UnsafeBufferPointer(rebasing: header[..<end]))
    }

    /// The entry of `name`, compared without ASCII case.
    private func entry(named name: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(name)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            names.withUnsafeBufferPointer { stored in
                while true {
                    let entry = slots[slot]
                    if entry.tag == 0 { return nil }
                    if entry.tag & 0xffff_ffff_0000_0000 == hash & 0xffff_ffff_0000_0000, Int(entry.length) == name.count {
                        let start = Int(entry.start)
                        if !zip(name, stored[start..<start + name.count]).contains(where: { Self.lowercased($0) != $1 }) {
                            return Int(entry.tag & 0xffff_ffff) - 1
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// FNV-1a over the lowercased bytes, then a final mix so the high bits (the stored fingerprint) depend on every byte.
    private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name {
            hash ^= UInt64(lowercased(byte))
            hash = hash &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash = hash &* 0xff51_afd7_ed55_8ccd
        return hash ^ hash >> 33
    }
}
