import CortexTestSupport
import Foundation
import NIOCore
import Testing

@testable import Gateway

/// Malformed HTTP/1 from a client over a real socket: each fault is a 4xx with the JSON
/// error body and `Connection: close`, never a 5xx, in the answer or in `/metrics`.
@Suite struct HTTPFaultTests {
    static let authorized = "Host: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\nContent-Type: application/json\r\n"

    /// Sends `request` on a fresh connection; returns the answer after checking its shape and
    /// that the server then closes.
    func answer(_ request: String, port: Int) async throws -> RawHTTPConnection.Response {
        let connection = try await RawHTTPConnection.connect(port: port)
        try await connection.send(request)
        let response = try await connection.response()
        #expect(response.header("content-type")?.hasPrefix("application/json") == true)
        #expect(response.header("connection") == "close")
        #expect(LiveCortex.errorCode(response) != nil, "\(String(decoding: response.body, as: UTF8.self))")
        try await connection.closedByServer(within: .seconds(10))
        return response
    }

    @Test(arguments: [
        // A bad chunk size, read by the route: answered through ErrorMiddleware.
        ("POST /v1/events HTTP/1.1\r\n\(authorized)Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "invalid_chunk"),
        ("POST /v1/events HTTP/1.1\r\n\(authorized)Transfer-Encoding: bogus\r\n\r\n{}", 400, "unsupported_transfer_coding"),
        ("GET /healthz HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400, "unsupported_transfer_coding"),
        ("POST /v1/events HTTP/1.1\r\n\(authorized)Content-Length: abc\r\n\r\n{}", 400, "invalid_content_length"),
        ("POST /v1/events HTTP/1.1\r\n\(authorized)Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400, "invalid_content_length"),
        ("GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: \(String(repeating: "a", count: 100_000))\r\n\r\n", 431, "header_too_large"),
        ("GET /healthz HTTP/1.1\r\n" + (0..<1_100).map { "X-\($0): 1\r\n" }.joined() + "\r\n", 431, "header_too_large"),
        ("GET /he alth z HTTP/1.1\r\nHost: test\r\n\r\n", 400, "invalid_request"),
    ])
    func aMalformedRequestGetsItsJSONError(request: String, status: Int, code: String) async throws {
        try await LiveCortex.run([:]) { port in
            let response = try await answer(request, port: port)
            #expect(response.status == status)
            #expect(LiveCortex.errorCode(response) == code)
            #expect(try await LiveCortex.serverErrorLines(port: port).isEmpty)
        }
    }

    @Test func aClientThatVanishesMidBodyIsCountedAsA400NotA5xx() async throws {
        try await LiveCortex.run([:]) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            try await connection.send("POST /v1/events HTTP/1.1\r\n\(Self.authorized)Content-Length: 100\r\n\r\n{\"type\":")
            await connection.close()
            // The server notices the close on its own time; wait for the count, within a bound.
            let deadline = ContinuousClock.now + .seconds(10)
            var counted = false
            while !counted, ContinuousClock.now < deadline {
                let metrics = String(decoding: try await LiveCortex.get("/metrics", port: port).body, as: UTF8.self)
                counted = metrics.contains(#"path="/v1/events",status="400""#)
                if !counted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(counted)
            #expect(try await LiveCortex.serverErrorLines(port: port).isEmpty)
        }
    }
}
