/// Splits CSV bytes into records of cells (RFC 4180), holding only the record being read.
///
/// Separator `,`, records end at CRLF, LF or a lone CR outside quotes; a cell that starts with
/// `"` is quoted, may hold `,`, `""` (one quote) and line breaks, and ends at the next lone `"`.
/// Lines holding nothing but spaces and tabs are skipped. A quote in the middle of an unquoted
/// cell, or text after a closing quote, marks the record faulty rather than guessing.
///
/// A record whose bytes pass ``maximumRecordBytes`` stops being kept (the scanner still follows
/// its quotes, to find where it truly ends) and is handed back marked ``CSVRecord/tooLong``:
/// memory is bounded by one record, whatever the file holds. A quote never closed swallows the
/// rest of the file; ``finish()`` reports that as ``CSVRecord/Fault/unterminatedQuote``.
struct CSVRecordScanner {
    let maximumRecordBytes: Int
    /// Cells of a record beyond this are counted but not kept; the header sets it to its width.
    var cellLimit: Int

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted }
    private var state = State.fieldStart
    private var buffer: [UInt8] = []
    private var cellEnds: [Int] = []
    private var cellCount = 0
    private var rawCount = 0
    private var tooLong = false
    private var sawQuote = false
    private var fault: CSVRecord.Fault?
    private var lastWasCR = false
    private var lastWasBreak = false
    /// The physical line of the next byte, from 1.
    private var line: Int
    private var recordLine: Int

    init(maximumRecordBytes: Int, cellLimit: Int, firstLine: Int = 1) {
        self.maximumRecordBytes = maximumRecordBytes
        self.cellLimit = cellLimit
        self.line = firstLine
        self.recordLine = firstLine
    }

    /// Bytes held for the record being read.
    var bufferedByteCount: Int { buffer.count }

    /// Reads `bytes` from `index` until a record ends, and returns it; `nil` once `bytes` is
    /// exhausted with the record still open. `index` is left after the last byte read.
    mutating func next(in bytes: UnsafeBufferPointer<UInt8>, from index: inout Int) -> CSVRecord? {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            let wasCR = lastWasCR
            lastWasCR = byte == 0x0D
            lastWasBreak = byte == 0x0A || byte == 0x0D
            // CRLF is one line break, and so is a lone CR or LF.
            if lastWasBreak, !(byte == 0x0A && wasCR) { line += 1 }
            if state == .quoted {
                if byte == UInt8(ascii: "\"") { state = .quoteInQuoted } else { append(byte) }
                count()
                continue
            }
            if lastWasBreak {
                // The LF of a CRLF whose CR already ended the record.
                if byte == 0x0A && wasCR { continue }
                if let record = endRecord(lastLine: line - 1) { return record }
                continue
            }
            count()
            switch (state, byte) {
            case (.fieldStart, UInt8(ascii: "\"")):
                state = .quoted
                sawQuote = true
            case (.quoteInQuoted, UInt8(ascii: "\"")):
                append(byte)
                state = .quoted
            case (_, UInt8(ascii: ",")):
                endCell()
            case (.quoteInQuoted, _):
                noteFault(.textAfterClosingQuote(cell: cellCount))
                append(byte)
                state = .unquoted
            case (_, UInt8(ascii: "\"")):
                noteFault(.quoteInUnquotedCell(cell: cellCount))
                append(byte)
                state = .unquoted
            default:
                append(byte)
                state = .unquoted
            }
        }
        return nil
    }

    /// The last record, when the bytes did not end with a line break.
    mutating func finish() -> CSVRecord? {
        if state == .quoted { fault = .unterminatedQuote(cell: cellCount) }
        return endRecord(lastLine: lastWasBreak ? line - 1 : line)
    }

    private mutating func count() {
        rawCount += 1
        if rawCount > maximumRecordBytes, !tooLong {
            // Stop keeping the record; its end is still found by following its quotes.
            tooLong = true
            buffer.removeAll(keepingCapacity: true)
            cellEnds.removeAll(keepingCapacity: true)
        }
    }

    private mutating func noteFault(_ found: CSVRecord.Fault) {
        if fault == nil { fault = found }
    }

    private mutating func append(_ byte: UInt8) {
        if !tooLong { buffer.append(byte) }
    }

    private mutating func endCell() {
        if cellEnds.count < cellLimit, !tooLong { cellEnds.append(buffer.count) }
        cellCount += 1
        state = .fieldStart
    }

    private mutating func endRecord(lastLine: Int) -> CSVRecord? {
        defer {
            buffer = []
            cellEnds = []
            cellCount = 0
            rawCount = 0
            tooLong = false
            sawQuote = false
            fault = nil
            state = .fieldStart
            recordLine = line
        }
        let isBlank = !tooLong && fault == nil && !sawQuote && cellCount == 0
            && buffer.allSatisfy { $0 == UInt8(ascii: " ") || $0 == 0x09 }
        if isBlank { return nil }
        endCell()
        return CSVRecord(
            line: recordLine, lastLine: lastLine, bytes: buffer, cellEnds: cellEnds, cellCount: cellCount,
            tooLong: tooLong, fault: fault)
    }
}

/// One CSV record as ``CSVRecordScanner`` read it.
struct CSVRecord {
    /// The physical lines the record spans (more than one when a quoted cell holds line breaks).
    let line: Int
    let lastLine: Int
    /// The cells' unescaped bytes, back to back; `cellEnds` says where each ends.
    let bytes: [UInt8]
    let cellEnds: [Int]
    /// How many cells the record has, even beyond those kept.
    let cellCount: Int
    /// Longer than the record bound: no cell was kept.
    let tooLong: Bool
    let fault: Fault?

    enum Fault: Equatable {
        /// `ab"c`: quoting must cover the whole cell.
        case quoteInUnquotedCell(cell: Int)
        /// `"ab"c`: after a closing quote comes `,` or the end of the record.
        case textAfterClosingQuote(cell: Int)
        /// The file ended inside a quoted cell.
        case unterminatedQuote(cell: Int)
    }

    /// The bytes of cell `index`, which must be below `cellEnds.count`.
    func cell(_ index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : cellEnds[index - 1])..<cellEnds[index]]
    }
}
