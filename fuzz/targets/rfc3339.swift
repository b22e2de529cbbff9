import Engine
import FuzzSupport

/// `RFC3339.parse`, which reads every time a sender or client writes (event timestamps,
/// provider event times, filter bounds). Any text must give a time or `nil`; a time must be
/// answered (`RFC3339.format`) as text that reads back as the same instant, since clients send
/// Cortex's own times back to it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRFC3339(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = FuzzCheck.text(UnsafeBufferPointer(start: data, count: size))
    guard let time = RFC3339.parse(text) else { return 0 }
    FuzzCheck.requireRoundTrip(time, "the time \(text)")
    let answered = RFC3339.format(time)
    FuzzCheck.require(answered.utf8.count == 27, "a time is answered as YYYY-MM-DDTHH:MM:SS.ffffffZ, not \(answered)")
    return 0
}
