import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live progress line on stderr: rewritten in place on a terminal, one line every 2 s otherwise.
struct Progress {
    private let terminal = isatty(2) == 1
    private var lastCount = 0
    private var lastNanos: Int64 = 0
    private var lastPrinted: Int64 = 0

    mutating func update(elapsed: Double, count: Int, now: Int64, note: String) {
        let rate = lastNanos == 0 ? 0 : Double(count - lastCount) / (Double(now - lastNanos) / 1e9)
        lastCount = count
        lastNanos = now
        let text = String(format: "[%5.1fs] %6d acquisitions  %7.0f/s  ", elapsed, count, rate) + note
        if terminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        } else if now - lastPrinted >= 2_000_000_000 {
            lastPrinted = now
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
