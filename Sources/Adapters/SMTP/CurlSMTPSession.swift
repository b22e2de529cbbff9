import CCurlShim
import Dispatch
import Foundation

/// One libcurl easy handle speaking SMTP, kept between messages so the connection (and its TLS
/// session and authentication) is reused. libcurl calls block, so they run on the session's own
/// serial queue, never on Swift's cooperative threads.
final class CurlSMTPSession: @unchecked Sendable {
    // @unchecked: `handle` and `errorBuffer` are touched only on `queue`.
    private let queue = DispatchQueue(label: "cortex.smtp")
    private let settings: SMTPSettings
    private var handle: UnsafeMutableRawPointer?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private let timeoutSeconds: Int

    /// What the server (or libcurl) said about one message.
    struct Reply: Sendable, Equatable {
        /// libcurl's result code; 0 is success.
        var curlCode: Int
        /// The last SMTP reply code, 0 when none was read (no connection).
        var smtpCode: Int
        var detail: String
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(settings: SMTPSettings, timeoutSeconds: Int = 60) {
        _ = Self.globalInit
        self.settings = settings
        self.timeoutSeconds = timeoutSeconds
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
        errorBuffer.deallocate()
    }

    /// Sends `message` from `sender` to `recipient` (bare addresses), reusing the connection.
    func send(_ message: [UInt8], from sender: String, to recipient: String) async -> Reply {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.perform(message, from: sender, to: recipient)) }
        }
    }

    private func perform(_ message: [UInt8], from sender: String, to recipient: String) -> Reply {
        guard let handle = handle ?? makeHandle() else {
            return Reply(curlCode: Int(CURLE_FAILED_INIT.rawValue), smtpCode: 0, detail: "libcurl could not start")
        }
        self.handle = handle
        errorBuffer[0] = 0
        let recipients = curl_slist_append(nil, "<\(recipient)>")
        defer { curl_slist_free_all(recipients) }
        _ = cortex_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(sender)>")
        _ = cortex_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        let code: CURLcode = message.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { start in
                var upload = cortex_curl_upload(bytes: start, length: bytes.count, offset: 0)
                _ = cortex_curl_set_upload(handle, &upload)
                let result = curl_easy_perform(handle)
                // The upload lives on this stack frame: unhook it before returning.
                _ = cortex_curl_setopt_long(handle, CURLOPT_UPLOAD, 0)
                return result
            }
        }
        var smtpCode = 0
        _ = cortex_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &smtpCode)
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        return Reply(curlCode: Int(code.rawValue), smtpCode: smtpCode, detail: detail)
    }

    private func makeHandle() -> UnsafeMutableRawPointer? {
        guard let handle = curl_easy_init() else { return nil }
        _ = cortex_curl_setopt_string(handle, CURLOPT_URL, settings.connectURL)
        if let username = settings.username, let password = settings.password {
            // Given apart from the URL, so they never appear in an error message.
            _ = cortex_curl_setopt_string(handle, CURLOPT_USERNAME, username)
            _ = cortex_curl_setopt_string(handle, CURLOPT_PASSWORD, password)
        }
        // STARTTLS must succeed on smtp://; libcurl then never authenticates in cleartext.
        _ = cortex_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        _ = cortex_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        _ = cortex_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        if let bundle = settings.trustBundle() {
            _ = bundle.withUnsafeBytes { cortex_curl_setopt_cainfo_blob(handle, $0.baseAddress, $0.count) }
        }
        _ = cortex_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 15)
        _ = cortex_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        // Signals cannot interrupt a multi-threaded process safely; timeouts still apply.
        _ = cortex_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = cortex_curl_setopt_string(handle, CURLOPT_ERRORBUFFER, errorBuffer)
        return handle
    }
}
