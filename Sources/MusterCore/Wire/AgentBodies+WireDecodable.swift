import Foundation

// The bodies every agent sends, read without `JSONDecoder` when they are plain (see ``WireDecodable``).

extension CheckInRequest: WireDecodable {
    public static func wireDecoded(from bytes: [UInt8]) -> CheckInRequest? {
        WireJSONReader.read(bytes) { reader throws(WireJSONReader.Unsure) in
            var identities: [Identity]?
            try reader.object { reader, key throws(WireJSONReader.Unsure) in
                switch key {
                case "identities": identities = try reader.list(Identity.read)
                default: try reader.skip()
                }
            }
            guard let identities else { throw WireJSONReader.Unsure() }
            return CheckInRequest(identities: identities)
        }
    }
}

extension OutputAppendRequest: WireDecodable {
    public static func wireDecoded(from bytes: [UInt8]) -> OutputAppendRequest? {
        WireJSONReader.read(bytes) { reader throws(WireJSONReader.Unsure) in
            var lines: [OutputLine]?
            try reader.object { reader, key throws(WireJSONReader.Unsure) in
                switch key {
                case "lines": lines = try reader.list(OutputLine.read)
                default: try reader.skip()
                }
            }
            guard let lines else { throw WireJSONReader.Unsure() }
            return OutputAppendRequest(lines: lines)
        }
    }
}

extension ResultReport: WireDecodable {
    public static func wireDecoded(from bytes: [UInt8]) -> ResultReport? {
        WireJSONReader.read(bytes) { reader throws(WireJSONReader.Unsure) in
            var ok: Bool?
            var report = ResultReport(ok: false)
            try reader.object { reader, key throws(WireJSONReader.Unsure) in
                switch key {
                case "ok": ok = try reader.bool()
                case "code": report.code = try reader.null() ? nil : try reader.int()
                case "message": report.message = try reader.null() ? nil : try reader.string()
                case "lines": report.lines = try reader.null() ? nil : try reader.list(OutputLine.read)
                case "scripts": report.scripts = try reader.null() ? nil : try reader.list(ScriptReport.read)
                default: try reader.skip()
                }
            }
            guard let ok else { throw WireJSONReader.Unsure() }
            report.ok = ok
            return report
        }
    }
}

extension WireJSONReader {
    /// An array whose elements `element` reads.
    mutating func list<T>(_ element: (inout WireJSONReader) throws(WireJSONReader.Unsure) -> T) throws(WireJSONReader.Unsure) -> [T] {
        var values: [T] = []
        try array { reader throws(WireJSONReader.Unsure) in values.append(try element(&reader)) }
        return values
    }
}

extension Identity {
    static func read(_ reader: inout WireJSONReader) throws(WireJSONReader.Unsure) -> Identity {
        var interface: String?
        var ip: String?
        var hostname: String?
        var pubkey: String?
        try reader.object { reader, key throws(WireJSONReader.Unsure) in
            switch key {
            case "interface": interface = try reader.string()
            case "ip": ip = try reader.string()
            case "hostname": hostname = try reader.string()
            case "pubkey": pubkey = try reader.string()
            default: try reader.skip()
            }
        }
        guard let interface, let ip, let hostname, let pubkey else { throw WireJSONReader.Unsure() }
        return Identity(interface: interface, ip: ip, hostname: hostname, pubkey: pubkey)
    }
}

extension OutputLine {
    static func read(_ reader: inout WireJSONReader) throws(WireJSONReader.Unsure) -> OutputLine {
        var index: Int?
        var time: Date?
        var phase: Int?
        var script: String?
        var stream: OutputStream?
        var text: String?
        try reader.object { reader, key throws(WireJSONReader.Unsure) in
            switch key {
            case "index": index = try reader.int()
            case "time": time = try reader.date()
            case "phase": phase = try reader.int()
            case "script": script = try reader.string()
            case "stream":
                guard let value = OutputStream(rawValue: try reader.string()) else { throw WireJSONReader.Unsure() }
                stream = value
            case "text": text = try reader.string()
            default: try reader.skip()
            }
        }
        guard let index, let time, let phase, let script, let stream, let text else { throw WireJSONReader.Unsure() }
        return OutputLine(index: index, time: time, phase: phase, script: script, stream: stream, text: text)
    }
}

extension ScriptRef {
    static func read(_ reader: inout WireJSONReader) throws(WireJSONReader.Unsure) -> ScriptRef {
        var phase: Int?
        var script: String?
        var arguments: [String]?
        try reader.object { reader, key throws(WireJSONReader.Unsure) in
            switch key {
            case "phase": phase = try reader.int()
            case "script": script = try reader.string()
            case "arguments": arguments = try reader.list { reader throws(WireJSONReader.Unsure) in try reader.string() }
            default: try reader.skip()
            }
        }
        guard let phase, let script, let arguments else { throw WireJSONReader.Unsure() }
        return ScriptRef(phase: phase, script: script, arguments: arguments)
    }
}

extension ScriptReport {
    static func read(_ reader: inout WireJSONReader) throws(WireJSONReader.Unsure) -> ScriptReport {
        var script: ScriptRef?
        var exitCode: Int?
        try reader.object { reader, key throws(WireJSONReader.Unsure) in
            switch key {
            case "script": script = try ScriptRef.read(&reader)
            case "exitCode": exitCode = try reader.null() ? nil : try reader.int()
            default: try reader.skip()
            }
        }
        guard let script else { throw WireJSONReader.Unsure() }
        return ScriptReport(script: script, exitCode: exitCode)
    }
}
