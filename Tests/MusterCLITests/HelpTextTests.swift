import Foundation
import Testing

/// What `--help` shows stays usable in an 80-column terminal: every example can be copied as printed.
@Suite("Help text")
struct HelpTextTests {
    /// Runs a built program's `--help` with `COLUMNS` set; its standard output.
    static func help(_ program: String, _ arguments: [String], columns: Int) throws -> String {
        try CommandRunner.run(
            arguments + ["--help"],
            executable: CommandRunner.productsFolder.appendingPathComponent(program),
            stdin: nil,
            environment: ["COLUMNS": String(columns)]
        ).stdout
    }

    /// The subcommand names a help text lists under SUBCOMMANDS.
    static func subcommands(_ help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        return help[start.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { return nil }
            return name == "See" ? nil : String(name)
        }
    }

    /// The lines of the "Examples:" block (up to the next blank line).
    static func examples(_ help: String) -> [Substring] {
        guard let start = help.range(of: "Examples:\n") else { return [] }
        return Array(help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.isEmpty })
    }

    /// Every command line of `muster` (the tool, its subcommands and theirs) and `muster-agent`.
    static func commands() throws -> [(program: String, path: [String])] {
        var found: [(String, [String])] = [("muster-agent", []), ("muster", [])]
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            for name in subcommands(try help("muster", path, columns: 400)) where name != "help" {
                found.append(("muster", path + [name]))
                queue.append(path + [name])
            }
        }
        return found
    }

    @Test func `every example in every command's help fits in 80 columns, so none is wrapped mid-command`() throws {
        let commands = try Self.commands()
        #expect(commands.count > 15, "\(commands.map(\.path))")
        var withExamples = 0
        for (program, path) in commands {
            let name = ([program] + path).joined(separator: " ")
            let wide = try Self.help(program, path, columns: 400)
            let examples = Self.examples(wide)
            if !examples.isEmpty { withExamples += 1 }
            for line in examples {
                #expect(line.count <= 80, "\(name) --help: \(line.count) columns: \(line)")
            }
            // At 80 columns ArgumentParser prints them unchanged.
            #expect(Self.examples(try Self.help(program, path, columns: 80)) == examples, "\(name) --help at 80 columns")
        }
        #expect(withExamples >= 12, "most commands show examples")
    }

    @Test func `a long example is continued with a backslash, so it can be pasted into a shell as printed`() throws {
        let agent = Self.examples(try Self.help("muster-agent", [], columns: 80))
        let continued = agent.filter { $0.hasSuffix(" \\") }
        #expect(continued.count >= 3, "\(agent)")
        for (index, line) in agent.enumerated() where line.hasSuffix(" \\") {
            #expect(index + 1 < agent.count && agent[index + 1].hasPrefix("    "), "the continuation is indented: \(agent)")
        }
        let validate = Self.examples(try Self.help("muster", ["validate"], columns: 80))
        #expect(validate.contains { $0.hasSuffix("--json \\") } && validate.contains { $0.contains("| jq '.files[]") }, "\(validate)")
    }
}
