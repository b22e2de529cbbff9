import CortexTestSupport
import NIOCore
import Testing

@testable import Gateway

/// Slow, silent and idle clients against a live server with short timeouts: each is closed
/// within a bound, and none holds the server.
@Suite struct SlowClientTests {
    /// Short enough for a quick test, long enough for a loaded machine to send a request in.
    /// (2 s: with the whole suite running in parallel on two cores, a client has been seen to
    /// take over a second between connecting and sending its first byte.)
    static let fast = ["CORTEX_HTTP_HEADER_TIMEOUT": "2", "CORTEX_HTTP_IDLE_TIMEOUT": "6"]

    @Test func aPartialHeadIsAnswered408AndClosed() async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let start = ContinuousClock.now
            try await connection.send("GET /healthz HTTP/1.1\r\nHo")
            let response = try await connection.response(within: .seconds(10))
            #expect(ContinuousClock.now - start >= .milliseconds(1900))
            #expect(response.status == 408)
            #expect(LiveCortex.errorCode(response) == "request_timeout")
            #expect(response.header("content-type")?.hasPrefix("application/json") == true)
            #expect(response.header("connection") == "close")
            try await connection.closedByServer(within: .seconds(10))
        }
    }

    @Test func aConnectionThatSendsNothingIsClosed() async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let unread = try await connection.closedByServer(within: .seconds(10))
            #expect(unread.isEmpty)
        }
    }

    @Test func aStalledBodyIsAnswered408AndClosed() async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            try await connection.send(
                "POST /v1/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\":")
            let response = try await connection.response(within: .seconds(10))
            #expect(response.status == 408)
            #expect(LiveCortex.errorCode(response) == "request_timeout")
            #expect(response.header("connection") == "close")
            try await connection.closedByServer(within: .seconds(10))
            #expect(try await LiveCortex.serverErrorLines(port: port).isEmpty)
        }
    }

    /// A byte of body every 250 ms never stalls for the 2 s header timeout; before the minimum
    /// body rate the connection stayed open as long as the dribble went on.
    @Test(arguments: [
        "POST /v1/events HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(LiveCortex.apiKey)\r\n",
        "POST /webhooks/checkout HTTP/1.1\r\nHost: test\r\n",
    ])
    func aDribbledBodyIsAnswered408AndClosed(head: String) async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            try await connection.send(head + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            let start = ContinuousClock.now
            let dribble = Task {
                for _ in 0..<60 {
                    try await Task.sleep(for: .milliseconds(250))
                    try await connection.send(" ")
                }
            }
            defer { dribble.cancel() }
            let response = try await connection.response(within: .seconds(12))
            #expect(ContinuousClock.now - start < .seconds(8))
            #expect(response.status == 408)
            #expect(LiveCortex.errorCode(response) == "request_timeout")
            try await connection.closedByServer(within: .seconds(10))
        }
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeoutButNotBefore() async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
            try await connection.send(request)
            #expect(try await connection.response().status == 200)
            // Half the idle timeout, and past the header timeout: an idle connection is not a slow head.
            await #expect(throws: RawHTTPConnection.Timeout.self) {
                try await connection.closedByServer(within: .milliseconds(3000))
            }
            try await connection.send(request)
            #expect(try await connection.response().status == 200)
            let idleSince = ContinuousClock.now
            let unread = try await connection.closedByServer(within: .seconds(15))
            #expect(unread.isEmpty)  // closed silently, no 408 to a client that asked nothing
            #expect(ContinuousClock.now - idleSince >= .seconds(4))  // the idle timeout (6 s), not the header timeout (2 s)
        }
    }

    @Test func pipelinedRequestsOnOneConnectionAreAllAnswered() async throws {
        try await LiveCortex.run(Self.fast) { port in
            let connection = try await RawHTTPConnection.connect(port: port)
            let request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
            try await connection.send(request + request + request)
            for _ in 0..<3 { #expect(try await connection.response().status == 200) }
            #expect(try await connection.isClosed == false)
        }
    }

    @Test func connectionsBeyondTheMaximumAreRefusedWith503() async throws {
        try await LiveCortex.run(["CORTEX_HTTP_MAX_CONNECTIONS": "2"]) { port in
            let request = "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
            var open: [RawHTTPConnection] = []
            for _ in 0..<2 {
                let connection = try await RawHTTPConnection.connect(port: port)
                try await connection.send(request)  // answered: the server has counted it
                #expect(try await connection.response().status == 200)
                open.append(connection)
            }
            let refused = try await RawHTTPConnection.connect(port: port)
            // The refusal is written on accept, so the connection may already be closed when the
            // request goes out; the answer is what counts.
            try? await refused.send(request)
            let answer = try await refused.response()
            #expect(answer.status == 503)
            #expect(LiveCortex.errorCode(answer) == "too_many_connections")
            #expect(answer.header("connection") == "close")
            #expect(answer.header("retry-after") == "1")
            try await refused.closedByServer(within: .seconds(10))

            try await open[0].send(request)
            #expect(try await open[0].response().status == 200)

            await open[1].close()
            // The server frees the slot when it sees the close; retry until it has, within a bound.
            let deadline = ContinuousClock.now + .seconds(10)
            var status = 0
            while status != 200, ContinuousClock.now < deadline {
                // Still refused: a 503, or the close that follows it arriving before the request.
                status = (try? await LiveCortex.get("/healthz", port: port))?.status ?? 0
            }
            #expect(status == 200)
            await open[0].close()
        }
    }

    @Test func healthzAnswersWhile200SlowlorisConnectionsAreOpen() async throws {
        try await LiveCortex.run(["CORTEX_HTTP_HEADER_TIMEOUT": "3"]) { port in
            var slow: [RawHTTPConnection] = []
            for index in 0..<200 {
                let connection = try await RawHTTPConnection.connect(port: port)
                try await connection.send("GET /healthz HTTP/1.1\r\nX-Slow-\(index): ")
                slow.append(connection)
            }
            #expect(try await LiveCortex.get("/healthz", port: port).status == 200)
            for connection in slow {
                try await connection.closedByServer(within: .seconds(15))
            }
        }
    }
}
