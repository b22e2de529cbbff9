extension String {
    /// Whether `needle` occurs in this string, comparing UTF-8 bytes with ASCII letters folded
    /// to lower case when `foldingASCIICase` (so `needle` must be lower case then).
    ///
    /// Not Foundation's `contains`: on Linux that bridges both strings to `NSString` for every
    /// call, which cost 7 % of the ingest path's CPU when every header and event body was
    /// searched with it (BENCHMARKS.md, "Ingest after the hardening and directory work").
    package func containsBytes(of needle: String, foldingASCIICase: Bool = false) -> Bool {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return true }
        return utf8.withContiguousStorageIfAvailable { Self.search($0, pattern, foldingASCIICase) }
            ?? Array(utf8).withUnsafeBufferPointer { Self.search($0, pattern, foldingASCIICase) }
    }

    private static func search(_ bytes: UnsafeBufferPointer<UInt8>, _ pattern: [UInt8], _ fold: Bool) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        let last = bytes.count - pattern.count
        var start = 0
        while start <= last {
            var offset = 0
            while offset < pattern.count {
                var byte = bytes[start + offset]
                if fold, byte >= 0x41, byte <= 0x5A { byte += 0x20 }
                guard byte == pattern[offset] else { break }
                offset += 1
            }
            if offset == pattern.count { return true }
            start += 1
        }
        return false
    }
}
