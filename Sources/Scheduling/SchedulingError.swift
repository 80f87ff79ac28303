import Foundation

/// The Scheduling module's error: why a schedule definition, a plan of schedule files or a change
/// through ``ScheduleService`` was refused. Nothing was stored.
///
/// The message is written for whoever asked (an API client, the daemon's log, `schedule validate`);
/// it never holds a secret. ``problems`` says which field of which definition is wrong.
public struct SchedulingError: Error, Sendable, CustomStringConvertible {
    /// What kind of refusal it is; new kinds may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// No schedule has that name or id.
        public static let notFound = Code(name: "not found")
        /// The change clashes with a stored schedule (a name taken).
        public static let conflict = Code(name: "conflict")
        /// The request or the definitions are not valid: see ``SchedulingError/problems``.
        public static let invalid = Code(name: "invalid")

        /// The kind's name.
        public var description: String { name }
    }

    /// A problem with one field of one definition.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The definition's file, when the definitions came from files; `nil` for a single one.
        public var source: String?
        /// The field as written in files and JSON (`cron`, `time_zone`, …).
        public var field: String
        /// What is wrong with it, and how to fix it.
        public var message: String

        /// A problem with `field`, of the definition from `source` (`nil`: a single definition).
        public init(source: String? = nil, field: String, message: String) {
            self.source = source
            self.field = field
            self.message = message
        }

        /// `field: message`, after `source: ` when there is a source.
        public var description: String { (source.map { "\($0): " } ?? "") + "\(field): \(message)" }
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
    /// Invalid definitions, the message listing every problem, joined by `separator`.
    static func invalid(problems: [Problem], separator: String) -> Self {
        Self(code: .invalid, message: problems.map(\.description).joined(separator: separator), problems: problems)
    }
}
