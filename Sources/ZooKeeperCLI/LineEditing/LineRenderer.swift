/// The ANSI text that draws the line, and the completion list's layout. Pure, so tests can check it.
///
/// One screen row, as linenoise's single-line mode: a line wider than the terminal scrolls
/// sideways to keep the cursor visible, so redrawing never has to track wrapped rows.
public enum LineRenderer {
    static let eraseToEndOfLine = "\u{1B}[0K"

    /// Carriage return, the prompt and the visible part of `text`, erase the rest of the row, then
    /// put the cursor on `cursor` (a character offset into `text`).
    public static func render(prompt: String, text: String, cursor: Int, width: Int) -> String {
        // The last column stays empty: writing there leaves terminals in a pending-wrap state.
        let columns = max(2, width - 1)
        var prompt = Array(prompt)
        if prompt.count >= columns { prompt = Array(prompt.suffix(columns / 2)) }
        var visible = Array(text)[...]
        var position = min(max(0, cursor), visible.count)
        while prompt.count + position >= columns {
            visible = visible.dropFirst()
            position -= 1
        }
        if prompt.count + visible.count > columns { visible = visible.prefix(columns - prompt.count) }
        let column = prompt.count + position
        return "\r" + String(prompt) + String(visible) + eraseToEndOfLine + "\r" + (column > 0 ? "\u{1B}[\(column)C" : "")
    }

    /// `items` in columns across `width`, row by row (as readline lists completions).
    public static func columns(_ items: [String], width: Int) -> [String] {
        guard let longest = items.map(\.count).max() else { return [] }
        let cell = longest + 2
        let perRow = max(1, (width - 1) / cell)
        let rows = (items.count + perRow - 1) / perRow
        return (0..<rows).map { row in
            var line = ""
            for column in 0..<perRow {
                let index = column * rows + row
                guard index < items.count else { break }
                let item = items[index]
                let isLast = column == perRow - 1 || (column + 1) * rows + row >= items.count
                line += isLast ? item : item + String(repeating: " ", count: cell - item.count)
            }
            return line
        }
    }
}
