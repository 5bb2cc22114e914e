/// A response the load generator read: its status and its body bytes, undecoded.
struct LoadResponse: Sendable, Equatable {
    var status: Int
    var body: [UInt8]

    /// Whether the status is 2xx.
    var isSuccess: Bool { (200..<300).contains(status) }
}
