/// Comparisons whose duration does not depend on where two secrets first differ.
enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. Time depends only on the lengths, which for the
    /// digests compared here are fixed and public.
    static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) {
            difference |= x ^ y
        }
        return difference == 0
    }
}
