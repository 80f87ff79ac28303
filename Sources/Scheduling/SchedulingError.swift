import Foundation

/// Why ``ScheduleService`` refused a change; nothing was stored.
///
/// The message is written for whoever asked (an API client, the daemon's log); it never holds a
/// secret.
public struct ScheduleServiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal it is; new kinds may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// No schedule has that name or id.
        public static let notFound = Code(name: "not found")
        /// The change clashes with a stored schedule (a name taken).
        public static let conflict = Code(name: "conflict")
        /// The request or the definitions are not valid: see ``ScheduleServiceError/problems``.
        public static let invalid = Code(name: "invalid")

        /// The kind's name.
        public var description: String { name }
    }

    /// A problem with one field of one definition.
    public struct Problem: Sendable, Hashable {
        /// The definition's file, when the definitions came from files; `nil` for a single one.
        public var source: String?
        /// The field as written in files and JSON (`cron`, `time_zone`, …).
        public var field: String
        /// What is wrong with it.
        public var message: String
    }

    /// What kind of refusal it is.
    public var code: Code
    /// One message saying what is wrong (for files, one line per problem after the first).
    public var message: String
    /// Each field's problem, when definitions were not valid; empty otherwise.
    public var problems: [Problem] = []

    /// The message.
    public var description: String { message }

    static func notFound(_ message: String) -> Self { Self(code: .notFound, message: message) }
    static func conflict(_ message: String) -> Self { Self(code: .conflict, message: message) }
    static func invalid(_ message: String, problems: [Problem] = []) -> Self {
        Self(code: .invalid, message: message, problems: problems)
    }
}
