/// Whether a terminal can host the console: it needs one that moves its cursor. `TERM=dumb` (Emacs shells, some
/// CI logs) and an unset `TERM` cannot; `muster up` then prints progress lines instead, and `muster console`
/// says so and ends.
public enum TerminalCapability {
    /// Whether `term` (the `TERM` variable, nil when unset) names a terminal the console cannot draw on.
    public static func isDumb(_ term: String?) -> Bool {
        guard let term, !term.isEmpty else { return true }
        return term == "dumb" || term == "unknown"
    }

    /// The one-line refusal for such a terminal.
    public static func refusal(term: String?) -> String {
        let shown = (term?.isEmpty ?? true) ? "TERM is not set" : "TERM=\(term!)"
        return "the console needs a terminal that can move its cursor (\(shown)); "
            + "use `muster status`, `muster events --follow` or `muster up --headless`, or set TERM (for example TERM=xterm-256color)"
    }
}
