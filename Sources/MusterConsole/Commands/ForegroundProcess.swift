import Foundation
import MusterSystem

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program in the foreground of the console's terminal, as a job-control shell does: in a process group
/// of its own that owns the terminal while it runs, so that Ctrl-C and Ctrl-Z reach it and not the console
/// (nor, under `muster up`, the nodes); the terminal is taken back when it ends.
enum ForegroundProcess {
    /// Why a program could not be started.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `command` and returns its exit status (128 + the signal that ended it).
    static func run(_ command: ForegroundCommand) -> Result<Int32, Failure> {
        guard let program = command.arguments.first else { return .failure(Failure(description: "no command to run")) }
        var arguments = command.arguments
        if let directory = command.directory {
            // `cd` first, through sh: posix_spawn cannot change the child's folder portably.
            arguments = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory] + command.arguments
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // Signals the console ignores or handles must be back to their defaults in the child.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGCHLD, SIGPIPE, SIGWINCH] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        // The terminal's three streams and nothing else: not the console's connections to the broker, nor its log.
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        SpawnCloseFrom.add(to: &actions)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = command.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, argv[0]!, &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            return .failure(Failure(description: "cannot run \(program): \(String(cString: strerror(spawned)))"))
        }
        let terminal = isatty(STDIN_FILENO) == 1
        let previousTTOU = signal(SIGTTOU, SIG_IGN)
        if terminal { _ = tcsetpgrp(STDIN_FILENO, pid) }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WUNTRACED)
            if result == -1 && errno == EINTR { continue }
            if result == -1 { break }
            // Stopped (Ctrl-Z): there is no shell to resume it from, so it goes on.
            if status & 0xFF == 0x7F {
                kill(-pid, SIGCONT)
                continue
            }
            break
        }
        if terminal { _ = tcsetpgrp(STDIN_FILENO, getpgrp()) }
        signal(SIGTTOU, previousTTOU)
        for file in command.temporaryFiles { try? FileManager.default.removeItem(atPath: file) }
        let signalNumber = status & 0x7F
        return .success(signalNumber == 0 ? (status >> 8) & 0xFF : 128 + signalNumber)
    }

    /// Waits for Enter (or any line) on the terminal, after a command that asked to be read before it goes.
    static func pause() {
        let prompt = "\n[press Enter to return to the console] "
        _ = prompt.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        var byte: UInt8 = 0
        while read(STDIN_FILENO, &byte, 1) == 1 && byte != 10 && byte != 13 {}
    }
}
