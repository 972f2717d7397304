import Foundation

/// Printing: human-readable tables on stdout by default, one JSON line with `--json`, diagnostics on stderr.
enum Output {
    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("zk-bench: \(message)\n".utf8))
    }

    /// Progress lines (stderr, so stdout stays the result alone).
    static func progress(_ message: String) {
        FileHandle.standardError.write(Data("zk-bench: \(message)\n".utf8))
    }

    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// One JSON object on one line (keys sorted, so runs diff cleanly).
    static func json(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// A plain text table: the first column left-aligned, the others right-aligned.
    static func table(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        func render(_ row: [String]) -> String {
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }.joined(separator: " | ")
        }
        let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "-|-")
        return ([render(header), rule] + rows.map(render)).joined(separator: "\n")
    }

    static func number(_ value: Double, decimals: Int = 1) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
