import OppsPostgres
import OppsStore

extension HubConfiguration {
    /// True when the store is PostgreSQL (several hubs may share it; no data directory).
    public var isPostgres: Bool { storeURL != nil }

    /// Opens the store this configuration names: PostgreSQL when `storeURL` is set, else the
    /// SQLite file in `dataDirectory`. `serving`: PostgreSQL's answers are bounded by
    /// `storeAnswerLimit` (a serving hub); the operator's commands wait as long as they take.
    public func openStore(serving: Bool = false) throws -> any HubStorage {
        if let storeURL { return try PostgresHubStore(url: storeURL, answerLimit: serving ? storeAnswerLimit : nil) }
        return try SQLiteHubStore(path: databasePath)
    }

    /// Where the store is, for messages: the directory, or the database without its password.
    public var storePlace: String {
        guard let storeURL else { return dataDirectory }
        return (try? PostgresLocation(url: storeURL))?.description ?? "the PostgreSQL database"
    }
}
