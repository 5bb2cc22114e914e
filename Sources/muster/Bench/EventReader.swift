import MusterCore
import NIOCore
import Synchronization

/// One event stream reader (`GET /v1/events`, as a console follows the broker), on the load generator's own
/// connection: it reads raw bytes and counts events (``LoadEventStreamHandler``) and, when the broker closes the
/// stream (a reader that fell too far behind is cut off), resumes after the last event it read, as
/// MusterClient's stream does, until it is stopped.
final class EventReader: Sendable {
    let tally = EventTally()
    private let endpoint: LoadEndpoint
    private let token: String
    private let stopped = Atomic<Bool>(false)
    private let channel = Mutex<(any Channel)?>(nil)

    init(endpoint: LoadEndpoint, token: String) {
        self.endpoint = endpoint
        self.token = token
    }

    /// Reads until ``stop()``.
    func run() async {
        while !stopped.load(ordering: .acquiring) {
            let after = tally.lastID
            let tally = tally
            guard
                let channel = try? await LoadBootstrap.connect(to: endpoint, initialize: { try $0.addHandler(LoadEventStreamHandler(tally: tally)) })
            else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            self.channel.withLock { $0 = channel }
            if stopped.load(ordering: .acquiring) {
                try? await channel.close()
                break
            }
            channel.writeAndFlush(request(after: after).bytes, promise: nil)
            try? await channel.closeFuture.get()
        }
    }

    /// Stops reading and closes the stream.
    func stop() {
        stopped.store(true, ordering: .releasing)
        channel.withLock { $0 }?.close(promise: nil)
    }

    private func request(after: Int?) -> LoadRequest {
        guard let after else { return LoadRequest.get(BrokerRoutes.events, token: token, accept: "text/event-stream", at: endpoint) }
        return LoadRequest.get(
            BrokerRoutes.events + "?after=\(after)",
            token: token,
            accept: "text/event-stream",
            headers: [("Last-Event-ID", String(after))],
            at: endpoint
        )
    }
}
