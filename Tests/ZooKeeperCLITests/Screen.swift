/// A tiny terminal for assertions: applies what zk-cli writes (text, CR, LF, backspace, erase in
/// line, cursor right/left/home, clear screen) to rows of characters. Other sequences are ignored.
struct Screen {
    private(set) var rows: [[Character]] = [[]]
    private(set) var row = 0
    private(set) var column = 0
    private var pendingEscape: [Character] = []
    private var inEscape = false

    /// Every row, trailing spaces trimmed.
    var lines: [String] { rows.map { String($0).replacing(/\ +$/, with: "") } }
    /// The row the cursor is on.
    var cursorLine: String { lines[row] }
    /// The text right of the cursor on its row.
    var afterCursor: String { String(rows[row].dropFirst(column)) }

    mutating func feed(_ text: String) {
        for character in text { apply(character) }
    }

    private mutating func apply(_ character: Character) {
        if inEscape {
            pendingEscape.append(character)
            if pendingEscape.count == 1 {
                if character != "[" { inEscape = false; pendingEscape = [] }  // ESC x: ignored
                return
            }
            guard let scalar = character.unicodeScalars.first, (0x40...0x7E).contains(scalar.value) else { return }
            let parameters = String(pendingEscape.dropFirst().dropLast())
            inEscape = false
            pendingEscape = []
            control(parameters: parameters, final: character)
            return
        }
        switch character {
        case "\u{1B}": inEscape = true
        case "\r": column = 0
        case "\n", "\r\n":
            if character == "\r\n" { column = 0 }
            row += 1
            while rows.count <= row { rows.append([]) }
        case "\u{8}": column = max(0, column - 1)
        case "\u{7}": break
        default:
            while rows[row].count < column { rows[row].append(" ") }
            if column < rows[row].count { rows[row][column] = character } else { rows[row].append(character) }
            column += 1
        }
    }

    private mutating func control(parameters: String, final: Character) {
        let numbers = parameters.split(separator: ";").map { Int($0) ?? 0 }
        let count = max(1, numbers.first ?? 1)
        switch final {
        case "K":
            switch numbers.first ?? 0 {
            case 0: if column < rows[row].count { rows[row].removeSubrange(column...) }
            case 2: rows[row] = []
            default: break
            }
        case "C": column += count
        case "D": column = max(0, column - count)
        case "H":
            row = max(0, (numbers.first ?? 1) - 1)
            column = max(0, (numbers.count > 1 ? numbers[1] : 1) - 1)
            while rows.count <= row { rows.append([]) }
        case "J" where numbers.first == 2:
            rows = Array(repeating: [], count: row + 1)
        default: break
        }
    }
}
