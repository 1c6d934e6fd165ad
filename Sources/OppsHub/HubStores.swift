import OppsPostgres
import OppsStore

extension HubConfiguration {
    /// True when the store is PostgreSQL (several hubs may share it; no data directory).
    public var isPostgres: Bool { storeURL != nil }

    /// Opens the store this configuration names: PostgreSQL when `storeURL` is set, else the
    /// SQLite file in `dataDirectory`.
    public func openStore() throws -> any HubStorage {
        if let storeURL { return try PostgresHubStore(url: storeURL) }
        return try SQLiteHubStore(path: databasePath)
    }

    /// The store a serving hub opens: `openStore`'s, with PostgreSQL's answers bounded by
    /// `storeAnswerLimit` from the moment its schema is up to date (a migration at the start
    /// may rightly take longer).
    public func openServingStore() throws -> any HubStorage {
        let store = try openStore()
        if let postgres = store as? PostgresHubStore { postgres.database.answerLimit = storeAnswerLimit }
        return store
    }

    /// Where the store is, for messages: the directory, or the database without its password.
    public var storePlace: String {
        guard let storeURL else { return dataDirectory }
        return (try? PostgresLocation(url: storeURL))?.description ?? "the PostgreSQL database"
    }
}
