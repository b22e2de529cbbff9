import Engine

// The mail transports (Postmark, SMTP, dry-run) and the outbound webhook signer live in this
// module; they arrive with the outbound issue. The target exists now so that the dependency
// direction Engine ← Adapters ← Gateway is fixed from the first build.
