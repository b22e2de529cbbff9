/// What the archive keeps of a rejected delivery's body.
///
/// A rejected delivery is authentic but unusable; its body is kept so an operator can see why
/// it failed. The first 64 KiB show that; keeping all of a 1 MiB body would let a sender that
/// floods unusable payloads grow the database by a megabyte a request.
public enum RejectedBodyPrefix {
    /// The most bytes of a rejected body the archive keeps: 64 KiB.
    public static let limit = 65_536

    /// `body` when it fits in `limit` bytes, else its first bytes up to `limit`, cut before a
    /// UTF-8 character the limit would split (so a text body stays readable as text).
    public static func of(_ body: [UInt8], limit: Int = limit) -> [UInt8] {
        guard body.count > limit else { return body }
        var end = limit
        // `body[end]` is the first byte left out: while it continues a character, that
        // character's earlier bytes are left out too (at most three, the longest UTF-8 tail).
        while end > max(0, limit - 3), body[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(body[..<end])
    }
}
