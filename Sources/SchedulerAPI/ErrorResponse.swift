import Foundation

/// Every refusal, of the admin API and of webhooks: `{"error": {"message": …, "problems": […]}}`
/// with a 4xx (or 5xx) status.
///
/// ```swift
/// if let refusal = try? WireFormat.decode(ErrorResponse.self, from: body) {
///     print(refusal.error.message)
/// }
/// ```
public struct ErrorResponse: Codable, Sendable, Hashable {
    /// What went wrong.
    public struct Body: Codable, Sendable, Hashable {
        /// One line saying what is wrong and how to fix it.
        public var message: String
        /// One per field, when a schedule is not valid; `nil` otherwise.
        public var problems: [Problem]?

        /// An error's body.
        public init(message: String, problems: [Problem]? = nil) {
            self.message = message
            self.problems = problems
        }
    }

    /// A problem with one field of a schedule.
    public struct Problem: Codable, Sendable, Hashable {
        /// The schedule's file, for `POST /api/v1/apply`; `nil` for a single schedule.
        public var source: String?
        /// The field as written in files and JSON (`cron`, `time_zone`, …).
        public var field: String
        /// What is wrong with it.
        public var message: String

        /// A field's problem.
        public init(source: String? = nil, field: String, message: String) {
            self.source = source
            self.field = field
            self.message = message
        }
    }

    /// What went wrong.
    public var error: Body

    /// An error answer.
    public init(error: Body) {
        self.error = error
    }
}
