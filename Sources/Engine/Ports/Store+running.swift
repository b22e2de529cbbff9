import ServiceLifecycle

extension Store {
    /// Runs the store's services (a connection pool) around `body`, for work outside the server's
    /// `ServiceGroup`: CLI commands and tests.
    public func withServicesRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        let services = self.services
        guard !services.isEmpty else { return try await body() }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
