import ArgumentParser
import Foundation

struct ConnectionsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "The broker's memory per open connection: before any request, and kept alive after one.",
        discussion: """
            For each count N and each state, a fresh broker process (`muster broker`, SQLite) is started and this \
            process opens N TCP connections to it, one after another, and leaves each in the state measured: \
            `partial` (half a request head sent: the connection as the broker holds it before its first request) or \
            `idle` (one `GET /v1/healthz` answered, the connection kept alive: what a served connection keeps). \
            Reported: the broker's resident set (RSS) before and with the N connections, the difference per \
            connection, and its RSS after they are closed again. A held agent (its check-in waiting as a \
            long-poll) costs what `bench broker` reports as peak RSS; this scenario separates what the server \
            stack keeps per connection from what the broker keeps per node. The broker's header timeout is set to \
            120 s for the run, so that partial connections stay open while they are counted.

            Example:
              muster bench connections --connections 1000,10000 --json
            """
    )

    @Option(help: ArgumentHelp("Connection counts, comma-separated.", valueName: "n[,n…]"))
    var connections = "1000,10000"

    @Option(help: ArgumentHelp("States to measure, comma-separated: partial, idle.", valueName: "state[,…]"))
    var states = "partial,idle"

    @OptionGroup var output: BenchOutput

    func run() async throws {
        BenchLimits.raiseOpenFiles()
        let counts = try BenchSizes.parse(connections, name: "--connections")
        let kinds = try states.split(separator: ",").map { name in
            guard let kind = RawConnection.State(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--states: '\(name)' is not partial or idle")
            }
            return kind
        }
        var report = BenchReport(json: output.json)
        for count in counts {
            for kind in kinds {
                BenchReport.progress("connections: \(count) \(kind.rawValue)…")
                report.add(try await measure(count, kind))
            }
        }
        report.printTable(columns: [
            ("RSS before", "broker_rss_before_mb", Figure.megabytes),
            ("RSS with them", "broker_rss_mb", Figure.megabytes),
            ("per connection", "kb_per_connection", Figure.kilobytes),
            ("RSS after close", "broker_rss_after_close_mb", Figure.megabytes),
        ])
    }

    private func measure(_ count: Int, _ kind: RawConnection.State) async throws -> BenchResult {
        let broker = try await BrokerProcess.start(arguments: ["--header-timeout", "120"])
        guard let port = URL(string: broker.url)?.port else {
            await broker.stop()
            throw ValidationError("the broker's address \(broker.url) has no port")
        }
        let before = await Self.settled(pid: broker.pid)
        let opened: Result<[Int32], any Error> = await onThread { Result { try RawConnection.open(count, port: port, state: kind) } }
        guard case .success(let descriptors) = opened, descriptors.count == count else {
            await broker.stop()
            if case .failure(let error) = opened { throw error }
            throw ValidationError("fewer connections than asked for were opened")
        }
        // The broker accepts and closes connections on its own time: wait for its count (the reading's own
        // connection included) before reading its memory.
        try await Self.waitForOpenConnections(port: port) { $0 >= count + 1 }
        let with = await Self.settled(pid: broker.pid)
        for descriptor in descriptors { close(descriptor) }
        try await Self.waitForOpenConnections(port: port) { $0 <= 1 }
        let after = await Self.settled(pid: broker.pid)
        await broker.stop()
        return BenchResult(
            scenario: "connections-" + kind.rawValue,
            parameters: ["connections": count],
            figures: [
                "broker_rss_before_mb": before,
                "broker_rss_mb": with,
                "kb_per_connection": (with - before) * 1024 / Double(count),
                "broker_rss_after_close_mb": after,
            ]
        )
    }

    /// Waits until the broker's `muster_open_connections` gauge satisfies `condition` (up to 60 s).
    private static func waitForOpenConnections(port: Int, _ condition: (Int) -> Bool) async throws {
        var open = -1
        for _ in 0..<300 {
            let metrics = try RawConnection.get("/metrics", port: port)
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("muster_open_connections ") }
            open = line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? -1
            if condition(open) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError("the broker's open connections stayed at \(open) for 60 s (its /metrics muster_open_connections)")
    }

    /// The process's RSS once it has stopped moving: two readings 200 ms apart within 0.5 %, or after 10 s.
    private static func settled(pid: pid_t) async -> Double {
        var last = Memory.residentMegabytes(pid: pid)
        for _ in 0..<50 {
            try? await Task.sleep(for: .milliseconds(200))
            let now = Memory.residentMegabytes(pid: pid)
            if abs(now - last) <= last * 0.005 { return now }
            last = now
        }
        return last
    }

    /// Runs blocking work (10,000 connects in a row) on a thread of its own, off the cooperative pool.
    private func onThread<Value: Sendable>(_ work: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}

/// Plain TCP connections to a broker on loopback, left in a given state.
enum RawConnection {
    /// How far a connection gets before it is left open.
    enum State: String {
        /// Half a request head sent.
        case partial
        /// One `GET /v1/healthz` answered; kept alive.
        case idle
    }

    /// Opens `count` connections to 127.0.0.1:`port`, each left in `state`; the caller closes the descriptors.
    static func open(_ count: Int, port: Int, state: State) throws -> [Int32] {
        var descriptors: [Int32] = []
        descriptors.reserveCapacity(count)
        do {
            for index in 0..<count {
                let descriptor = try connect(port: port, index: index, of: count)
                descriptors.append(descriptor)
                switch state {
                case .partial: try send("GET /v1/healthz HTTP/1.1\r\nHost: bench\r\n", on: descriptor)
                case .idle:
                    try send("GET /v1/healthz HTTP/1.1\r\nHost: bench\r\n\r\n", on: descriptor)
                    try readResponse(on: descriptor, index: index)
                }
            }
        } catch {
            for descriptor in descriptors { close(descriptor) }
            throw error
        }
        return descriptors
    }

    /// The body of `GET path` on a connection of its own, closed afterwards.
    static func get(_ path: String, port: Int) throws -> String {
        let descriptor = try connect(port: port, index: 0, of: 1)
        defer { close(descriptor) }
        try send("GET \(path) HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", on: descriptor)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { throw ValidationError("GET \(path): no HTTP answer") }
        return String(text[headEnd.upperBound...])
    }

    private static func connect(port: Int, index: Int, of count: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw ValidationError("connection \(index + 1) of \(count): socket: \(String(cString: strerror(errno))) (raise ulimit -n?)")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ValidationError("connection \(index + 1) of \(count) to 127.0.0.1:\(port): connect: \(reason)")
        }
        return descriptor
    }

    private static func send(_ text: String, on descriptor: Int32) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { throw ValidationError("write: \(String(cString: strerror(errno)))") }
            sent += written
        }
    }

    /// Reads one response whose body is announced by Content-Length.
    private static func readResponse(on descriptor: Int32, index: Int) throws {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let end = Array("\r\n\r\n".utf8)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw ValidationError("connection \(index + 1): the broker closed it before answering /v1/healthz")
            }
            received += buffer[..<count]
            guard let headEnd = received.firstRange(of: end) else { continue }
            let head = String(decoding: received[..<headEnd.lowerBound], as: UTF8.self).lowercased()
            guard head.hasPrefix("http/1.1 200") else {
                throw ValidationError("connection \(index + 1): /v1/healthz answered \(head.prefix { $0 != "\r" })")
            }
            let length =
                head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            if received.count - headEnd.upperBound >= length { return }
        }
    }
}
