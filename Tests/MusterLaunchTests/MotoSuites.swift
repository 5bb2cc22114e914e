import Testing

/// Every test that drives the AWS CLI against moto runs under this suite, one test at a time, with one moto
/// server: each CLI call is a Python process, and many at once beside the rest of the test run would starve the
/// machine's two cores (and make other suites' timing-sensitive tests fail).
@Suite("Against moto", .serialized)
enum MotoSuites {
    static let moto = SharedMoto()
}
