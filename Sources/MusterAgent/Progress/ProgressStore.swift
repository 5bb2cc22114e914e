import Foundation
import MusterCore
import MusterSystem

/// The node's ``ProgressRecord``, in memory and on disk: every change is written (atomically, see
/// ``AtomicFile``) before the call returns, so what the record says is done stays done across a crash.
public actor ProgressStore {
    /// The record file.
    public nonisolated let file: URL
    /// The record as it is now.
    public private(set) var record: ProgressRecord
    private var completedKeys: Set<ScriptRef>

    /// Opens the record of `layout`'s node for this slot generation; a record for another context, node or
    /// generation is replaced by a fresh one. An unreadable record is moved aside (to
    /// `progress.json.unreadable`) and reported, rather than silently starting over.
    ///
    /// - Throws: ``AgentError/environment(_:)`` (code 3) when the record cannot be read, moved or written.
    public static func open(layout: NodeLayout, context: ContextID, node: String, generation: Int) throws(AgentError) -> ProgressStore {
        let file = layout.progressFile
        do {
            try FileManager.default.createDirectory(at: layout.agentFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .environment("cannot create \(layout.agentFolder.path): \(error.localizedDescription)")
        }
        if let data = FileManager.default.contents(atPath: file.path) {
            if let record = try? decoder().decode(ProgressRecord.self, from: data) {
                if record.belongs(to: context, node: node, generation: generation) { return ProgressStore(file: file, record: record) }
            } else {
                let aside = file.appendingPathExtension("unreadable")
                try? FileManager.default.removeItem(at: aside)
                do { try FileManager.default.moveItem(at: file, to: aside) } catch {
                    throw .environment("\(file.path) is unreadable and cannot be moved aside: \(error.localizedDescription)")
                }
                throw .environment("\(file.path) was unreadable (moved to \(aside.lastPathComponent)); retry the node to start over")
            }
        }
        let fresh = ProgressRecord(context: context, node: node, generation: generation)
        try write(fresh, to: file)
        return ProgressStore(file: file, record: fresh)
    }

    private init(file: URL, record: ProgressRecord) {
        self.file = file
        self.record = record
        self.completedKeys = Set(record.completed)
    }

    /// Whether the script step with this key finished OK before.
    public func isCompleted(_ key: ScriptRef) -> Bool { completedKeys.contains(key) }

    /// Records that a script step finished OK, and where the output numbering stands.
    public func markCompleted(_ key: ScriptRef, outputIndex: Int) throws(AgentError) {
        if completedKeys.insert(key).inserted { record.completed.append(key) }
        record.outputIndex = max(record.outputIndex, outputIndex)
        try save()
    }

    /// Records where the output numbering stands.
    public func setOutputIndex(_ outputIndex: Int) throws(AgentError) {
        guard outputIndex > record.outputIndex else { return }
        record.outputIndex = outputIndex
        try save()
    }

    /// Records that every step of `answer` finished OK (its data values are not stored).
    public func markApplied(_ answer: NodeAnswer) throws(AgentError) {
        var stored = answer
        stored.data = answer.data.map { DataSpec(name: $0.name, value: "") }
        record.applied = stored
        try save()
    }

    /// Records that the broker took this slot's check-in.
    public func markCheckedIn() throws(AgentError) {
        guard record.checkedIn != true else { return }
        record.checkedIn = true
        try save()
    }

    /// Records the node's final result.
    public func markFinished(_ result: NodeResult) throws(AgentError) {
        record.result = result
        try save()
    }

    private func save() throws(AgentError) {
        record.updatedAt = Date()
        try Self.write(record, to: file)
    }

    private static func write(_ record: ProgressRecord, to file: URL) throws(AgentError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        do {
            try AtomicFile.write(try encoder.encode(record), to: file, mode: 0o600)
        } catch {
            throw .environment("cannot write \(file.path): \(error.localizedDescription)")
        }
    }
}

private func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
}
