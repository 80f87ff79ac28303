import GRDB

/// A row of one of the store's tables as a GRDB record: its properties are the table's columns
/// (`Decodable`, named by `CodingKeys`), so GRDB fetches, inserts and updates it without hand-written
/// column lists. Each table's row type converts to and from the public record it stores.
protocol SQLiteRow: Decodable, FetchableRecord, PersistableRecord {}

extension SQLiteRow {
    /// Decodes `row` through the `Decodable` columns. Nothing here traps: a value that does not fit its
    /// column's Swift type (text in an integer column, `NULL` where a value belongs, as only a
    /// hand-edited database can hold) is thrown as ``StorageError`` `.database`, naming the table and
    /// the row's id but none of its values, which may hold webhook secrets or payloads.
    ///
    /// The row is copied first: GRDB reads a row still on its statement through SQLite's own
    /// conversions, which turn text in an integer column into 0 instead of failing.
    /// - Throws: ``StorageError`` `.database`.
    static func decodeColumns(of row: Row) throws -> Self {
        do {
            return try FetchableRecordDecoder().decode(Self.self, from: row.copy())
        } catch {
            throw wrongType(row)
        }
    }

    /// The error for `row` when one of its values does not fit its column: names the table and the
    /// row's id, none of its values.
    static func wrongType(_ row: Row) -> StorageError {
        let id = (try? row.decode(String.self, forColumn: "id")).map { " \($0.prefix(100))" } ?? ""
        return StorageError(
            code: .database,
            message: "the \(databaseTableName) row\(id) has a value of the wrong type for its column"
                + " (was the database edited by hand?)")
    }
}
