/// The Storage module's error.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// A schedule with that name exists already.
        public static let duplicateName = Code(name: "duplicateName")
        /// No record with that id.
        public static let notFound = Code(name: "notFound")
        /// The database could not be opened, migrated, read or written.
        public static let database = Code(name: "database")
    }

    public var code: Code
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
