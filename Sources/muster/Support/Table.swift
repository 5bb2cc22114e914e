/// A plain text table with aligned columns, for command output.
struct Table {
    var headers: [String]
    var rows: [[String]] = []

    init(_ headers: String...) {
        self.headers = headers
    }

    init(_ headers: [String]) {
        self.headers = headers
    }

    mutating func add(_ cells: String...) { rows.append(cells) }

    /// The table as lines; the last column is not padded (it may be long).
    func rendered() -> String {
        let all = [headers] + rows
        let widths = headers.indices.map { column in all.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// Short, human durations: `850ms`, `12s`, `3m05s`, `2h10m`.
enum HumanDuration {
    static func text(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        let whole = Int(seconds.rounded(.down))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + format0(whole % 60) + "s" }
        return "\(whole / 3600)h" + format0((whole % 3600) / 60) + "m"
    }

    private static func format0(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
