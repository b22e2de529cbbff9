import Crypto
import HTTPTypes
import Hummingbird

/// The console's files, compiled into the binary (SwiftPM `embedInCode`): no network, no build
/// step, nothing to install beside `cortex`. Scripts and styles are named by a hash of their
/// content (`core.3f2a9c1b7d4e.js`), so browsers keep them for good and a new binary's files get
/// new names; the page itself is never cached.
enum ConsoleAssets {
    struct Asset {
        let name: String
        let contentType: String
        let bytes: [UInt8]
    }

    /// The scripts and styles, by their plain names (as `index.html` refers to them), in order.
    private static let files: [(name: String, contentType: String, bytes: [UInt8])] = [
        ("app.css", "text/css; charset=utf-8", PackageResources.app_css),
        ("core.js", "text/javascript; charset=utf-8", PackageResources.core_js),
        ("feed.js", "text/javascript; charset=utf-8", PackageResources.feed_js),
        ("directory.js", "text/javascript; charset=utf-8", PackageResources.directory_js),
        ("lists.js", "text/javascript; charset=utf-8", PackageResources.lists_js),
        ("automations.js", "text/javascript; charset=utf-8", PackageResources.automations_js),
        ("canvas.js", "text/javascript; charset=utf-8", PackageResources.canvas_js),
        ("nodeforms.js", "text/javascript; charset=utf-8", PackageResources.nodeforms_js),
        ("campaigns.js", "text/javascript; charset=utf-8", PackageResources.campaigns_js),
        ("ledger.js", "text/javascript; charset=utf-8", PackageResources.ledger_js),
        ("settings.js", "text/javascript; charset=utf-8", PackageResources.settings_js),
    ]

    /// The scripts and styles by their hashed names (`core.3f2a9c1b7d4e.js`).
    static let assets: [String: Asset] = {
        var assets: [String: Asset] = [:]
        for file in files {
            let name = hashedName(file.name, file.bytes)
            assets[name] = Asset(name: name, contentType: file.contentType, bytes: file.bytes)
        }
        return assets
    }()

    /// `index.html` with its references to the plain names replaced by the hashed ones.
    static let html: String = {
        var page = String(decoding: PackageResources.index_html, as: UTF8.self)
        for file in files {
            page = page.replacingOccurrences(of: "\"/console/\(file.name)\"", with: "\"/console/\(hashedName(file.name, file.bytes))\"")
        }
        return page
    }()

    private static func hashedName(_ name: String, _ bytes: [UInt8]) -> String {
        let dot = name.lastIndex(of: ".")!
        return "\(name[..<dot]).\(hash(bytes))\(name[dot...])"
    }

    /// What every console response carries: scripts and styles from this origin only (no inline
    /// script, no third party), no framing, no sniffing, no referrer.
    static let securityHeaders: HTTPFields = [
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Frame-Options")!: "DENY",
    ]

    static func page() -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(named name: String) -> Response {
        guard let asset = assets[name] else {
            return JSONResponse.make(.notFound, APIError(.notFound, code: "not_found", "no such console file").body)
        }
        var headers = securityHeaders
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "public, max-age=31536000, immutable"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    private static func hash(_ bytes: [UInt8]) -> String {
        HexHMAC.hex(Array(SHA256.hash(data: bytes).prefix(6)))
    }
}
