import ArgumentParser

/// `muster`: bring up clusters whose nodes depend on each other, and watch and steer the boot.
@main
struct Muster: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muster",
        abstract: "Bring up clusters whose nodes depend on each other.",
        discussion: """
            A cluster document (the Nimbus context broker's XML format) describes groups of nodes that provide \
            and require roles. Muster checks it, plans it, and boots it: each node is held until the nodes it \
            depends on have checked in, then handed their addresses, host names and SSH host keys.

            Examples:
              muster up Examples/cpe/cluster.xml    boot a cluster here, watch the console
              muster up cluster.xml --headless      the same, progress lines (scripts, CI)
              muster validate cluster.xml           check a document, compiler-style
              muster plan cluster.xml               show every node and what it waits on
              muster broker                         run a broker for nodes elsewhere
              muster status / events / logs NODE    look at a running broker
              muster kill NODE / retry NODE         steer it
              muster analyze                        what decided how long the boot took

            \(ExitCodes.summary)
            """,
        version: MusterVersion.current,
        subcommands: [
            Validate.self, Plan.self, UpCommand.self, ConsoleCommand.self, BrokerCommand.self, StatusCommand.self, EventsCommand.self,
            LogsCommand.self, KillCommand.self, RetryCommand.self, RemoveCommand.self, TerminateCommand.self, DeleteCommand.self, AnalyzeCommand.self,
            EC2ScriptCommand.self,
            BenchCommand.self,
        ]
    )
}

/// The version `muster --version` prints.
enum MusterVersion {
    static let current = "0.1.0"
}
