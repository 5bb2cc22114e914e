import Foundation
import MusterAgent
import MusterCore

extension TemporaryNode {
    /// A phase runner for the seed's provisioner in this node root. No test here is about the script timeout, and in
    /// a full test run on two cores a trivial script's exit has taken over 30 s to be seen: the default is generous.
    func phases(_ reporter: RecordingReporter, timeout: Duration = .seconds(300), generation: Int = 0) throws -> PhaseRunner {
        let progress = try ProgressStore.open(layout: layout, context: "ctx", node: "provisioner-0", generation: generation)
        return PhaseRunner(
            layout: layout,
            context: "ctx",
            node: "provisioner-0",
            scriptTimeout: timeout,
            runner: ScriptRunner(grace: .milliseconds(300)),
            reporter: reporter,
            progress: progress
        )
    }

    /// The full plan for the seed's provisioner from this node's ctx-scripts folder.
    func seedPlan(_ answer: NodeAnswer = SeedCluster.dependentAnswer()) throws -> ScriptPlan {
        try ScriptPlan.full(listing: ScriptListing.read(from: scripts), own: [SeedCluster.provisioner], answer: answer)
    }

    /// The lines of a text file under the root (empty if missing).
    func lines(_ path: String) -> [String] {
        (text(path) ?? "").split(separator: "\n").map(String.init)
    }
}

/// The seed page's `1-ipandhost/rabbitmq-head`, minus the rabbitmqctl calls.
let seedIPAndHostScript = """
    #!/bin/sh
    echo "RabbitMQ-head IP: $1"
    echo "RabbitMQ-head Short hostname: $2"
    echo "RabbitMQ-head Hostname: $3"
    exit 0
    """

/// A script that appends its arguments as one line to `<root>/<log>`.
func appendingScript(_ log: String) -> String { "#!/bin/sh\necho \"$*\" >> \"$MUSTER_ROOT/\(log)\"\n" }
