/// A failure of the load generator's HTTP client, with a message that says what went wrong.
struct LoadFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
