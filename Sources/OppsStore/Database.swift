// SQLite wrapper.
