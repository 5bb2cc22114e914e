import MusterCore

/// What a cell shows, by meaning; a ``Theme`` maps each role to colours and attributes.
///
/// The grid stores roles, not colours, so one rendered frame can be shown with any theme (or in monochrome).
public enum StyleRole: UInt8, CaseIterable, Sendable, Hashable {
    /// Ordinary text.
    case text
    /// Secondary text (column hints, separators, times).
    case dim
    /// Something to notice (names, key hints).
    case accent
    /// The header lines.
    case header
    /// A view's title rule.
    case title
    /// The selected row.
    case selection
    /// The connection-lost banner.
    case banner
    /// A line of standard error.
    case stderr
    /// A line the agent wrote about its own work.
    case agent
    /// A search match in the output.
    case match
    /// An error in the status line.
    case error
    /// A success in the status line.
    case success
    /// A dialog box (confirmation, help).
    case dialog
    /// The `:` command line and `/` prompts.
    case prompt
    /// Pending nodes.
    case pending
    /// Launching nodes.
    case launching
    /// Booted nodes.
    case booted
    /// Registered nodes.
    case registered
    /// Waiting nodes.
    case waiting
    /// Configuring nodes.
    case configuring
    /// Nodes that finished OK.
    case ok
    /// Failed nodes.
    case failed
    /// Killed nodes.
    case killed
    /// Timed-out nodes.
    case timedOut
    /// The critical chain in the timeline.
    case critical
    /// Marked nodes (the mark and the name).
    case marked

    /// The role for a node state.
    public static func state(_ state: NodeState) -> StyleRole {
        switch state {
        case .pending: .pending
        case .launching: .launching
        case .booted: .booted
        case .registered: .registered
        case .waiting: .waiting
        case .configuring: .configuring
        case .ok: .ok
        case .failed: .failed
        case .killed: .killed
        case .timedOut: .timedOut
        }
    }

    /// The name used in theme files (`timed-out` for ``timedOut``).
    public var themeKey: String { self == .timedOut ? "timed-out" : String(describing: self) }

    /// One letter per role for the style maps of text snapshots (a space for plain text).
    public var legendLetter: Character {
        switch self {
        case .text: " "
        case .dim: "d"
        case .accent: "a"
        case .header: "h"
        case .title: "t"
        case .selection: "s"
        case .banner: "b"
        case .stderr: "e"
        case .agent: "g"
        case .match: "m"
        case .error: "E"
        case .success: "S"
        case .dialog: "D"
        case .prompt: "p"
        case .pending: "P"
        case .launching: "L"
        case .booted: "B"
        case .registered: "R"
        case .waiting: "W"
        case .configuring: "C"
        case .ok: "O"
        case .failed: "F"
        case .killed: "K"
        case .timedOut: "T"
        case .critical: "c"
        case .marked: "k"
        }
    }
}
