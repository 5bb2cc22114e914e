import Foundation

/// One benchmark result: a scenario, its parameters and its figures, printed as a table row or a JSON object.
struct BenchResult: Encodable {
    var scenario: String
    var parameters: [String: Int]
    var figures: [String: Double]
    var notes: [String: String] = [:]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        try container.encode(scenario, forKey: DynamicKey("scenario"))
        for (key, value) in parameters { try container.encode(value, forKey: DynamicKey(key)) }
        for (key, value) in figures { try container.encode((value * 1_000).rounded() / 1_000, forKey: DynamicKey(key)) }
        for (key, value) in notes { try container.encode(value, forKey: DynamicKey(key)) }
    }

    private struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Prints results: JSON lines, or one table per scenario with the given columns.
struct BenchReport {
    var json: Bool
    var results: [BenchResult] = []

    mutating func add(_ result: BenchResult) {
        results.append(result)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            if let data = try? encoder.encode(result) { Output.line(String(decoding: data, as: UTF8.self)) }
        }
    }

    /// Says on standard error what is being measured now, so a long run shows where it is (standard output
    /// keeps only results).
    static func progress(_ text: String) {
        Output.error("muster bench: \(text)")
    }

    /// The table of every result so far (not printed in JSON mode).
    func printTable(columns: [(title: String, key: String, format: (Double) -> String)]) {
        guard !json else { return }
        var table = Table(["scenario"] + columns.map(\.title))
        for result in results {
            var row = [result.scenario + (result.parameters.map { " \($0.key)=\($0.value)" }.sorted().joined())]
            for column in columns {
                row.append(result.figures[column.key].map(column.format) ?? result.notes[column.key] ?? "-")
            }
            table.rows.append(row)
        }
        Output.line(table.rendered())
    }
}

/// Formats figures for tables.
enum Figure {
    static func seconds(_ value: Double) -> String { String(format: "%.3f s", value) }
    static func milliseconds(_ value: Double) -> String { String(format: "%.2f ms", value) }
    static func microseconds(_ value: Double) -> String { String(format: "%.1f µs", value) }
    static func count(_ value: Double) -> String { String(format: "%.0f", value) }
    static func megabytes(_ value: Double) -> String { String(format: "%.1f MB", value) }
    static func kilobytes(_ value: Double) -> String { String(format: "%.1f KB", value) }
    static func percent(_ value: Double) -> String { String(format: "%.2f %%", value) }
    static func ratio(_ value: Double) -> String { String(format: "%.2f", value) }
    static func rate(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// Percentiles of samples.
struct Samples {
    private(set) var values: [Double] = []

    mutating func add(_ value: Double) { values.append(value) }

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = max(0, min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))
        return sorted[rank]
    }

    var maximum: Double { values.max() ?? 0 }
    var minimum: Double { values.min() ?? 0 }
    var count: Int { values.count }
}

/// Resident memory of processes, from /proc.
enum Memory {
    /// The peak resident set (VmHWM) of a process, in megabytes.
    static func peakMegabytes(pid: pid_t) -> Double { field("VmHWM", pid: pid) }

    /// The current resident set (VmRSS) of a process, in megabytes.
    static func residentMegabytes(pid: pid_t) -> Double { field("VmRSS", pid: pid) }

    /// The proportional set size (Pss) of a process, in megabytes: its private pages plus its share of pages it
    /// shares with others (the Swift runtime libraries of many agents), so that a sum over processes is the
    /// memory they really take.
    static func proportionalMegabytes(pid: pid_t) -> Double { field("Pss", pid: pid, file: "smaps_rollup") }

    private static func field(_ name: String, pid: pid_t, file: String = "status") -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1_024
    }

    /// CPU seconds (user + system) a process has used.
    static func cpuSeconds(pid: pid_t) -> Double {
        guard let fields = statFields(pid: pid), let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU seconds a server process and its children used: its own, what its ended children used (as the kernel
    /// counts it for the parent), and what its live children used so far (a PostgreSQL server and its backends).
    static func treeCPUSeconds(pid: pid_t) -> Double {
        guard let fields = statFields(pid: pid), fields.count > 14 else { return 0 }
        let own = [11, 12, 13, 14].compactMap { Double(fields[$0]) }.reduce(0, +) / Double(sysconf(Int32(_SC_CLK_TCK)))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var children = 0.0
        for entry in entries {
            guard let child = pid_t(entry), let childFields = statFields(pid: child), Int32(childFields[1]) == pid else { continue }
            children += cpuSeconds(pid: child)
        }
        return own + children
    }

    /// The fields of `/proc/PID/stat` after the command name (the state is the first), when there are enough.
    private static func statFields(pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 13 ? fields : nil
    }
}
