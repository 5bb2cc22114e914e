/// The part of a shared text file that Muster owns, between a begin and an end marker line.
///
/// Rewriting replaces the block where it is (or appends it), and keeps every other line as it was, so a file
/// can be refreshed any number of times and the operator's own lines survive.
enum ManagedBlock {
    static let begin = "# BEGIN muster-agent (managed block: rewritten on every refresh)"
    static let end = "# END muster-agent"

    /// `existing` with its managed block replaced by `lines` (or the block appended, if it had none).
    ///
    /// An empty `lines` still writes an empty block, so a refresh that removes every host removes them from
    /// the file too.
    static func replace(in existing: String, with lines: [String]) -> String {
        var kept = existing.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if kept.last == "" { kept.removeLast() }
        let block = [begin] + lines + [end]
        if let start = kept.firstIndex(of: begin) {
            let stop = kept[start...].firstIndex(of: end) ?? kept.count - 1
            kept.replaceSubrange(start...stop, with: block)
        } else {
            kept += block
        }
        return kept.joined(separator: "\n") + "\n"
    }
}
