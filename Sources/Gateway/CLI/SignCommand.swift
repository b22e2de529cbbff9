import ArgumentParser
import Engine
import Foundation

struct SignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print Standard Webhooks headers for a body, to test a signed call with curl.",
        discussion: """
            Reads the body from FILE (or standard input) and prints three header lines: webhook-id, \
            webhook-timestamp and webhook-signature. Send the body byte for byte as signed \
            (curl --data-binary @FILE).
            """
    )

    @Option(help: "The whsec_ secret; defaults to CORTEX_CHECKOUT_SECRET.")
    var secret: String?

    @Option(help: "The webhook-id; defaults to a new random msg_ id.")
    var id: String?

    @Option(help: "The webhook-timestamp in Unix seconds; defaults to now.")
    var timestamp: Int64?

    @Argument(help: "The body file; standard input when omitted.")
    var file: String?

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let chosenSecret: String
        if let secret {
            chosenSecret = secret
        } else if let configured = try await CLIConfiguration.load(config).checkoutSecret {
            chosenSecret = configured
        } else {
            throw ValidationError("give --secret or set CORTEX_CHECKOUT_SECRET")
        }
        let verifier: StandardWebhooksVerifier
        do {
            verifier = try StandardWebhooksVerifier(secret: chosenSecret, variable: "--secret")
        } catch {
            throw ValidationError(error.message)
        }
        let body: [UInt8]
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            body = [UInt8](data)
        } else {
            body = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        }
        let messageID = id ?? "msg_" + RandomToken.make(bytes: 16)
        let time = timestamp ?? SystemWallClock().now().seconds
        print("webhook-id: \(messageID)")
        print("webhook-timestamp: \(time)")
        print("webhook-signature: \(verifier.signature(id: messageID, timestamp: time, body: body))")
    }
}

/// Random URL-safe tokens from the system's cryptographic generator.
enum RandomToken {
    static func make(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
