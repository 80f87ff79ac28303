/// The Storage module's error.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is: compare it with the static members, such as ``notFound``. A struct rather
    /// than an enum, so that adding a code does not break callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// The code's name, like `notFound`.
        public var description: String { name }
        /// A schedule with that name exists already.
        public static let duplicateName = Code(name: "duplicateName")
        /// No record with that id.
        public static let notFound = Code(name: "notFound")
        /// The database could not be opened, migrated, read or written.
        public static let database = Code(name: "database")
        /// The database server could not be reached at all (refused, timed out, no such host): it may
        /// answer later, unlike a server that answered with a refusal (`database`).
        public static let unreachable = Code(name: "unreachable")
        /// The database's schema is newer than this version knows: a newer daemon migrated it.
        public static let newerSchema = Code(name: "newerSchema")
    }

    /// What kind of failure it is.
    public var code: Code
    /// What went wrong, in one line for people.
    public var message: String

    /// An error of kind `code` saying `message`.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The ``message``.
    public var description: String { message }
}
