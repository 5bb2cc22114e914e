import Foundation
import MusterCore

/// What a node's agent has done, kept in `<root>/.muster-agent/progress.json` so that an agent restarted
/// on the same node (crash, reboot, broker trouble) never runs a completed step again.
///
/// ```json
/// {
///   "format": 1,
///   "context": "c-7f3a",
///   "node": "provisioner-0",
///   "generation": 0,
///   "completed": [
///     { "phase": 0, "script": "0-etchosts.sh", "arguments": ["10.0.3.1", "head", "head.example.org"] },
///     { "phase": 3, "script": "3-data/foo", "arguments": [] }
///   ],
///   "applied": null,
///   "result": null,
///   "outputIndex": 42,
///   "checkedIn": true,
///   "updatedAt": "2025-01-01T12:00:00Z"
/// }
/// ```
///
/// - `completed` holds each script step that exited 0, by its ``ScriptStep/key`` (a `3-data` step without
///   its value file), in the order they finished.
/// - `applied` is the last answer whose steps all finished OK, with its data values removed (the record
///   never holds a value); a newer answer is applied with ``ScriptPlan/incremental(listing:own:from:to:)``.
/// - `result` is the node's final result for this generation once known: a failed node stays failed until
///   it is retried.
/// - `outputIndex` is the index of the next output line, as of the last step boundary.
/// - `checkedIn` says that the broker took this slot's check-in once: a token it refuses later was replaced (the
///   node was retried), not wrong from the start. Absent from records written before it existed.
/// - A record for another context, node or slot generation (a retry) is discarded: a retried node starts over.
public struct ProgressRecord: Sendable, Hashable, Codable {
    /// The version of this format.
    public static let currentFormat = 1

    /// The format version (``currentFormat``).
    public var format: Int
    /// The node's context.
    public var context: ContextID
    /// The node.
    public var node: String
    /// The slot generation the record is for.
    public var generation: Int
    /// The script steps that finished OK, by key, in order.
    public var completed: [ScriptRef]
    /// The last fully applied answer, without data values.
    public var applied: NodeAnswer?
    /// The final result, once known.
    public var result: NodeResult?
    /// The next output line's index, as of the last step boundary.
    public var outputIndex: Int
    /// Whether the broker took this slot's check-in once (`nil` in older records: not known).
    public var checkedIn: Bool?
    /// When the record was last written.
    public var updatedAt: Date

    /// A fresh record: nothing done yet.
    public init(context: ContextID, node: String, generation: Int, now: Date = Date()) {
        self.format = Self.currentFormat
        self.context = context
        self.node = node
        self.generation = generation
        self.completed = []
        self.applied = nil
        self.result = nil
        self.outputIndex = 0
        self.updatedAt = now
    }

    /// Whether the record belongs to this node's slot generation.
    public func belongs(to context: ContextID, node: String, generation: Int) -> Bool {
        self.context == context && self.node == node && self.generation == generation && format == Self.currentFormat
    }
}
