import ArgumentParser
import Engine
import Foundation

struct SendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send one test mail through the configured provider and print the outcome.",
        discussion: "The message goes through the send ledger like any other, so it also shows in GET /v1/messages."
    )

    @Option(help: "The recipient.")
    var to: String

    @Option(help: "The sender; defaults to CORTEX_MAIL_FROM.")
    var from: String?

    @OptionGroup var config: ConfigOptions

    func run() async throws {
        let configuration = try await CLIConfiguration.load(config)
        guard let recipient = EmailAddress(to) else { throw ValidationError("--to is not a valid email address") }
        guard let sender = from ?? configuration.mailFrom, Mailbox(sender) != nil else {
            throw ValidationError("give --from or set CORTEX_MAIL_FROM to a valid address")
        }
        let store = try CLIConfiguration.openStore(configuration)
        let dependencies = AppDependencies(configuration: configuration, store: store)
        let job = try await store.withServicesRunning { () async throws -> EmailJob? in
            try await store.migrate()
            let now = SystemWallClock().now()
            let queued = try await store.enqueueEmail(
                NewEmailJob(
                    idempotencyKey: "send-test-" + UUID().uuidString.lowercased(), recipient: recipient, sender: sender,
                    subject: "Cortex test message",
                    html: "<p>This is a test message from Cortex, sent at \(RFC3339.format(now)).</p>",
                    text: "This is a test message from Cortex, sent at \(RFC3339.format(now)).", tag: "send-test"),
                at: now)
            _ = try await dependencies.sender().runOnce()
            return try await store.emailJob(id: queued.job.id)
        }
        guard let job else { throw ValidationError("the test message vanished from the ledger") }
        let provider = job.provider ?? configuration.mailProvider.rawValue
        print("message \(job.id) to \(recipient.value): \(job.status.rawValue) via \(provider)"
            + (job.providerMessageID.map { ", provider message id \($0)" } ?? "")
            + (job.lastError.map { ", error: \($0)" } ?? ""))
        if job.status != .sent { throw ExitCode.failure }
    }
}
