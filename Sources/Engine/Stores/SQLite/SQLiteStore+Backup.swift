import Foundation
import GRDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An online backup of the SQLite database (`cortex backup FILE`).
extension SQLiteStore {
    /// What a backup wrote.
    public struct BackupSummary: Sendable {
        /// The backup's absolute path.
        public let path: String
        /// Its size in bytes.
        public let bytes: Int64
        /// The database pages copied.
        public let pages: Int
    }

    /// Copies the database as it was at one moment into a new file at `destination`, while
    /// the server goes on reading and writing it.
    ///
    /// SQLite's online backup API copies every page in one step inside a read transaction of
    /// the store's own pool, so the copy is one consistent snapshot (WAL mode lets writers go on
    /// meanwhile: they append to the WAL, which the snapshot does not see). The copy is written
    /// beside `destination` under a hidden temporary name, checked (`quick_check`), flushed to
    /// disk, and only then renamed to `destination`, so `destination` is never a partial file.
    /// An existing `destination` is refused (`StoreError.conflict`) unless `replacing`.
    public func backup(to destination: String, replacing: Bool) async throws -> BackupSummary {
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        let source = URL(fileURLWithPath: path).standardizedFileURL
        guard target.resolvingSymlinksInPath().path != source.resolvingSymlinksInPath().path else {
            throw StoreError.invalid("the backup cannot replace the database it copies (\(source.path))")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw StoreError.invalid("\(target.path) is a directory") }
            guard replacing else { throw StoreError.conflict("\(target.path) exists") }
        }
        let directory = target.deletingLastPathComponent()
        let partial = directory.appendingPathComponent(".\(target.lastPathComponent).partial-\(UUID().uuidString)").path
        let pool = pool
        do {
            // GRDB's backup blocks its thread while it copies: off the cooperative pool.
            let pages = try await Task.detached { try Self.copy(pool, to: partial) }.value
            try Self.flush(partial)
            try Self.publish(partial, as: target.path, replacing: replacing)
            try Self.flush(directory.path)
            let size = (try FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)?.int64Value ?? 0
            return BackupSummary(path: target.path, bytes: size, pages: pages)
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            if let error = error as? DatabaseError { throw StoreError.unavailable("backup to \(target.path) failed: \(error)") }
            throw error
        }
    }

    /// Copies every page of `pool` into a new database at `path`; answers the page count.
    private static func copy(_ pool: DatabasePool, to path: String) throws -> Int {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let copy = try DatabaseQueue(path: path, configuration: configuration)
        var pages = 0
        try pool.backup(to: copy) { progress in pages = progress.totalPageCount }
        let check = try copy.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        guard check == ["ok"] else {
            throw StoreError.unavailable("the copy failed its check: \(check.prefix(3).joined(separator: "; "))")
        }
        // The copy carries the source's WAL flag; whatever sits in its WAL goes into the file
        // before it is closed, so the one file is the whole backup.
        try copy.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try copy.close()
        return pages
    }

    /// Renames the finished copy into place: `rename` replaces an existing file atomically;
    /// without `replacing`, `link` fails if the name was taken meanwhile, so nothing is overwritten.
    private static func publish(_ partial: String, as target: String, replacing: Bool) throws {
        if replacing {
            guard rename(partial, target) == 0 else { throw posixFailure("rename to \(target)") }
        } else {
            guard link(partial, target) == 0 else {
                if errno == EEXIST { throw StoreError.conflict("\(target) exists") }
                throw posixFailure("link to \(target)")
            }
            unlink(partial)
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
    }

    /// `fsync` of a file or a directory (so a rename survives a power cut).
    private static func flush(_ path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw posixFailure("open \(path)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw posixFailure("fsync \(path)") }
    }

    private static func posixFailure(_ what: String) -> StoreError {
        StoreError.unavailable("backup: \(what) failed: \(String(cString: strerror(errno)))")
    }

    /// `PRAGMA integrity_check`'s answer (`["ok"]` for a sound file); for tests of backups.
    package func integrityCheck() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// The number of rows in `table`; for tests of backups.
    package func rowCount(_ table: String) async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }
}
