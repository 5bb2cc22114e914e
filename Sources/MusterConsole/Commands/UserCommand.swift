/// A command of the user's own, bound to a key in the config file (as k9s plugins are): it runs for the
/// selected node with the node's variables in its environment (`$MUSTER_NODE`, `$MUSTER_IP`, …).
public struct UserCommand: Sendable, Hashable {
    /// The key that runs it (in the tree, the waits view and a node's detail).
    public var key: Key
    /// Its name, for the help and the status line.
    public var name: String
    /// What it does, for the help.
    public var summary: String
    /// The shell command line (`/bin/sh -c`).
    public var command: String
    /// Wait for Enter after it ends, so that its output can be read before the console comes back.
    public var wait: Bool

    /// Creates a command.
    public init(key: Key, name: String, summary: String, command: String, wait: Bool) {
        self.key = key
        self.name = name
        self.summary = summary
        self.command = command
        self.wait = wait
    }
}

/// A program the console runs in the foreground of its terminal (a shell on a node, a user command), while
/// the console steps aside.
public struct ForegroundCommand: Sendable, Hashable {
    /// The program and its arguments (the program is looked up on `PATH` unless it is a path).
    public var arguments: [String]
    /// Its whole environment.
    public var environment: [String: String]
    /// The folder it starts in (nil: the console's).
    public var directory: String?
    /// Wait for Enter after it ends.
    public var pauseAfter: Bool
    /// What it is, for the status line (`shell on app-0`).
    public var title: String
    /// Files to remove once it ends (a known_hosts written for it).
    public var temporaryFiles: [String]

    /// Creates a command.
    public init(
        arguments: [String],
        environment: [String: String],
        directory: String? = nil,
        pauseAfter: Bool = false,
        title: String,
        temporaryFiles: [String] = []
    ) {
        self.arguments = arguments
        self.environment = environment
        self.directory = directory
        self.pauseAfter = pauseAfter
        self.title = title
        self.temporaryFiles = temporaryFiles
    }
}
