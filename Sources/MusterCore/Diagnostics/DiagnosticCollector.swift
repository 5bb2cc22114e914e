/// Collects the diagnostics of one document, keeping at most ``limit`` errors and ``limit`` warnings: the first
/// ones in document order, followed by one note per severity saying how many more there were.
///
/// A hostile or broken document can hold a problem every few bytes; nobody reads the hundred-thousandth, and
/// building each message and position would cost time in proportion to their number. So a diagnostic is
/// recorded with its byte offset and a message that is built only if the diagnostic is kept; once ``limit``
/// earlier ones are known, a later one only adds to a count. Offsets become lines and columns at the end, for
/// the kept diagnostics only, and messages are made inert for terminals (``TerminalText/inert(_:)``): they
/// quote the document.
struct DiagnosticCollector {
    /// How many errors (and, separately, warnings) a document reports by default.
    static let defaultLimit = 100

    private struct Entry {
        var severity: Diagnostic.Severity
        var code: String
        var message: String
        var offset: Int
        var sequence: Int
        var notes: [(message: String, offset: Int)]

        func precedes(_ other: Entry) -> Bool { (offset, sequence) < (other.offset, other.sequence) }
    }

    /// The kept candidates of one severity and what was left out.
    private struct Shelf {
        var entries: [Entry] = []
        /// Once set, a new entry at this offset or later (it comes after every kept one) cannot be among the first `limit`.
        var cutoff: Int?
        var total = 0
        var firstOmitted: Int?

        mutating func omit(at offset: Int) {
            firstOmitted = min(firstOmitted ?? offset, offset)
        }
    }

    /// The most errors (and warnings) reported.
    let limit: Int
    private var errors = Shelf()
    private var warnings = Shelf()
    private var sequence = 0
    /// How many messages were built: at most about twice ``limit`` per severity, whatever the input (for tests).
    private(set) var messagesBuilt = 0

    init(limit: Int = DiagnosticCollector.defaultLimit) {
        precondition(limit >= 1)
        self.limit = limit
    }

    /// How many errors were found, reported or not.
    var errorCount: Int { errors.total }
    /// How many warnings were found, reported or not.
    var warningCount: Int { warnings.total }

    /// Records an error or a warning at a byte offset; `notes` (messages with offsets) stay right after it.
    mutating func add(
        _ severity: Diagnostic.Severity,
        code: String,
        at offset: Int,
        notes: @autoclosure () -> [(message: String, offset: Int)] = [],
        _ message: @autoclosure () -> String
    ) {
        precondition(severity != .note, "notes belong to an error or a warning")
        sequence += 1
        let limit = limit
        let sequence = sequence
        func record(_ shelf: inout Shelf, built: inout Int) {
            shelf.total += 1
            if let cutoff = shelf.cutoff, offset >= cutoff {
                shelf.omit(at: offset)
                return
            }
            built += 1
            shelf.entries.append(Entry(severity: severity, code: code, message: message(), offset: offset, sequence: sequence, notes: notes()))
            if shelf.entries.count >= 2 * limit {
                shelf.entries.sort { $0.precedes($1) }
                for dropped in shelf.entries[limit...] { shelf.omit(at: dropped.offset) }
                shelf.entries.removeSubrange(limit...)
                shelf.cutoff = shelf.entries[limit - 1].offset
            }
        }
        if severity == .error {
            record(&errors, built: &messagesBuilt)
        } else {
            record(&warnings, built: &messagesBuilt)
        }
    }

    /// The kept diagnostics in document order (each note right after its diagnostic), then a note per severity
    /// that had more than ``limit``, at the first one left out.
    func diagnostics(lines: LineTable) -> [Diagnostic] {
        var kept: [Entry] = []
        var summaries: [Diagnostic] = []
        for (shelf, noun) in [(errors, "error"), (warnings, "warning")] {
            var entries = shelf.entries.sorted { $0.precedes($1) }
            var firstOmitted = shelf.firstOmitted
            if entries.count > limit {
                for dropped in entries[limit...] { firstOmitted = min(firstOmitted ?? dropped.offset, dropped.offset) }
                entries.removeSubrange(limit...)
            }
            kept += entries
            let omitted = shelf.total - entries.count
            if omitted > 0, let firstOmitted {
                summaries.append(
                    Diagnostic(
                        .note,
                        code: "more-diagnostics",
                        "… and \(omitted) more \(noun)\(omitted == 1 ? "" : "s") not shown (only the first \(limit) are reported); "
                            + "the next is here",
                        at: lines.location(of: firstOmitted)
                    )
                )
            }
        }
        kept.sort { $0.precedes($1) }
        var result: [Diagnostic] = []
        result.reserveCapacity(kept.count + summaries.count)
        for entry in kept {
            // Messages quote the document, which may hold C1 controls or bidi overrides (XML allows them).
            result.append(Diagnostic(entry.severity, code: entry.code, TerminalText.inert(entry.message), at: lines.location(of: entry.offset)))
            for note in entry.notes {
                result.append(Diagnostic(.note, code: entry.code, TerminalText.inert(note.message), at: lines.location(of: note.offset)))
            }
        }
        return result + summaries
    }
}
