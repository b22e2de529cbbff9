/// Splits NDJSON bytes into lines, holding only the line being read.
///
/// A line ends at LF (a CR before it is dropped); JSON text cannot hold a raw line break, so no
/// quote tracking is needed. Lines of nothing but JSON whitespace are skipped. A line longer
/// than ``maximumLineBytes`` stops being kept and is handed back marked `tooLong` when its LF
/// arrives, so memory is bounded by one line.
struct NDJSONLineScanner {
    let maximumLineBytes: Int
    private var buffer: [UInt8] = []
    private var rawCount = 0
    private var tooLong = false
    /// The physical line of the next byte, from 1.
    private var line: Int

    init(maximumLineBytes: Int, firstLine: Int = 1) {
        self.maximumLineBytes = maximumLineBytes
        self.line = firstLine
    }

    /// Bytes held for the line being read.
    var bufferedByteCount: Int { buffer.count }

    /// Reads `bytes` from `index` until a non-blank line ends, and returns it; `nil` once
    /// `bytes` is exhausted.
    mutating func next(in bytes: UnsafeBufferPointer<UInt8>, from index: inout Int) -> NDJSONLine? {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == 0x0A {
                if let line = endLine() { return line }
                continue
            }
            rawCount += 1
            if rawCount > maximumLineBytes {
                if !tooLong { buffer.removeAll(keepingCapacity: true) }
                tooLong = true
            } else {
                buffer.append(byte)
            }
        }
        return nil
    }

    /// The last line, when the bytes did not end with LF.
    mutating func finish() -> NDJSONLine? {
        endLine()
    }

    private mutating func endLine() -> NDJSONLine? {
        defer {
            buffer = []
            rawCount = 0
            tooLong = false
            line += 1
        }
        if buffer.last == 0x0D { buffer.removeLast() }
        if !tooLong, buffer.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        return NDJSONLine(line: line, bytes: buffer, tooLong: tooLong)
    }
}

/// One NDJSON line as ``NDJSONLineScanner`` read it.
struct NDJSONLine {
    let line: Int
    /// Empty when `tooLong`.
    let bytes: [UInt8]
    let tooLong: Bool
}
