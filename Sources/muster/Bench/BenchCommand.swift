import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Muster: the broker under virtual agents, its connections, local boots, idle nodes, the console, parsing, fuzzing.",
        discussion: """
            Each scenario prints a table, or with --json one JSON object per result (one line each). Build with \
            `swift build -c release` for figures worth comparing; the README's performance table says how they \
            were taken.

            Examples:
              muster bench broker --nodes 100,1000,10000
              muster bench broker --nodes 1000 --all-identities --json
              muster bench local --nodes 100
              muster bench idle --nodes 8 --seconds 10
              muster bench console --nodes 10000
              muster bench parse --workspaces 10000 --json
              muster bench auth --nodes 1,10000,100000
              muster bench connections --connections 1000,10000
              muster bench fuzz --iterations 100000
            """,
        subcommands: [
            BrokerBench.self, LocalBench.self, IdleBench.self, ConsoleBench.self, ParseBench.self, AuthBench.self, ConnectionsBench.self,
            FuzzBench.self,
        ]
    )
}

/// Options every scenario takes.
struct BenchOutput: ParsableArguments {
    @Flag(help: "One JSON object per result instead of a table.")
    var json = false
}
