import Testing

@testable import MusterBroker

/// The `Authorization` header as the authenticators read it.
@Suite("Bearer token header")
struct BearerTokenTests {
    @Test(arguments: [
        ("Bearer mst_abc", "mst_abc"), ("bearer mst_abc", "mst_abc"), ("BEARER mst_abc", "mst_abc"), ("BeArEr mst_abc", "mst_abc"),
        ("Bearer   mst_abc  ", "mst_abc"), ("Bearer \tmst_abc\t", "mst_abc"), ("Bearer a b", "a b"), ("Bearer é", "é"),
    ])
    func `a bearer token is read whatever the scheme's case and the blanks around it`(header: String, token: String) {
        #expect(bearerToken(header: header) == token)
    }

    @Test(arguments: [
        "", "Bearer", "Bearer ", "Bearer    ", "Bearer \t ", "Basic dXNlcjpwYXNz", "Bearers x", "Beare x", "Xearer x", " Bearer x", "Bearer\tx",
    ])
    func `anything else is no token`(header: String) {
        #expect(bearerToken(header: header) == nil)
    }
}
