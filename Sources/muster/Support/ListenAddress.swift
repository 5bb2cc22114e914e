import ArgumentParser

/// `HOST:PORT` for `--listen` (`[::1]:7077` for IPv6; port 0 picks a free one).
struct ListenAddress: ExpressibleByArgument, Sendable {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        let hostPart: Substring
        let portPart: Substring
        if argument.hasPrefix("["), let close = argument.firstIndex(of: "]") {
            hostPart = argument[argument.index(after: argument.startIndex)..<close]
            let rest = argument[argument.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portPart = rest.dropFirst()
        } else if let colon = argument.lastIndex(of: ":") {
            hostPart = argument[..<colon]
            portPart = argument[argument.index(after: colon)...]
        } else {
            return nil
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65_535).contains(port) else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    var defaultValueDescription: String { "\(host):\(port)" }
}
