extension Connection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (the error is
    /// rethrown unchanged). A nested call runs in a SAVEPOINT, so an inner failure undoes only the
    /// inner work.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        let depth = nestedDepth
        let savepoint = "masterplan_sp_\(depth)"
        if depth == 0 {
            try simpleQuery("BEGIN")
        } else {
            try simpleQuery("SAVEPOINT \(savepoint)")
        }
        nestedDepth = depth + 1
        do {
            let value = try body(self)
            nestedDepth = depth
            if depth == 0 {
                try simpleQuery("COMMIT")
            } else {
                try simpleQuery("RELEASE SAVEPOINT \(savepoint)")
            }
            return value
        } catch {
            nestedDepth = depth
            if isConnected {
                if depth == 0 {
                    _ = try? simpleQuery("ROLLBACK")
                } else {
                    _ = try? simpleQuery("ROLLBACK TO SAVEPOINT \(savepoint)")
                    _ = try? simpleQuery("RELEASE SAVEPOINT \(savepoint)")
                }
            }
            throw error
        }
    }
}
