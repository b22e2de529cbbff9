import Foundation

/// A file read in chunks of ``chunkSize`` bytes, as an async sequence, so an import reads a
/// file of any size in bounded memory.
struct FileChunks: AsyncSequence {
    typealias Element = Data

    /// 64 KiB: large enough to make reads cheap, small beside one import batch.
    static let chunkSize = 65_536

    let handle: FileHandle

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle

        mutating func next() async throws -> Data? {
            guard let data = try handle.read(upToCount: FileChunks.chunkSize), !data.isEmpty else { return nil }
            return data
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle) }
}
