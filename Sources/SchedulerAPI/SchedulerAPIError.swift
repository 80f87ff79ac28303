import Foundation

/// Why a request body was refused while it was read into its wire type.
///
/// Request types refuse fields they do not have: a misspelt one (`timezone`) would otherwise be
/// dropped, and its default stored without a word.
public struct SchedulerAPIError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem it is; new kinds may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String

        /// An object has a field its type does not know.
        public static let unknownField = Code(name: "unknown field")

        /// The kind's name.
        public var description: String { name }
    }

    /// What kind of problem it is.
    public var code: Code
    /// What is wrong and what the fields are, quoting the field's path (`schedules[0].schedule.owner`).
    public var message: String

    /// The message.
    public var description: String { message }
}
