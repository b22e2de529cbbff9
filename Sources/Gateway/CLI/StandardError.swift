import Foundation

/// Writes `line` and a newline to standard error: what a command says besides its output.
func printToStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
