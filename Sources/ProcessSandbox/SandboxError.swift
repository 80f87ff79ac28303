import Support

/// The ProcessSandbox module's error. ``code`` says which kind.
///
/// A script that fails, times out or is cancelled is not an error of this type: ``SandboxRunner/run(_:)``
/// never throws and reports such outcomes in its ``ExecutionRecord``.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    /// What kind of error, for code that acts on it.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The code's name, such as `invalidPolicies`.
        public var description: String { name }
        /// The policies file is invalid; ``SandboxError/problems`` lists every problem, and nothing
        /// from the file is used.
        public static let invalidPolicies = Code(name: "invalidPolicies")
        /// bubblewrap cannot isolate scripts here: not installed, or unable to create namespaces
        /// (seccomp, or no user namespaces in a container). ``SandboxError/description`` says which.
        public static let bubblewrapUnusable = Code(name: "bubblewrapUnusable")
    }

    /// A problem in a policies file:
    /// `schedules/policies.yaml:7:14: policy "analysis": timeout "5x" is not a duration; …`
    public typealias Problem = FileProblem

    /// What kind of error.
    public var code: Code
    /// For ``Code/invalidPolicies``: every problem, in the order found.
    public var problems: [Problem]
    private var message: String?

    /// An invalid policies file.
    package init(problems: [Problem]) {
        self.code = .invalidPolicies
        self.problems = problems
    }

    /// bubblewrap is not usable; `reason` is one line naming the executable and the cause.
    package init(bubblewrapUnusable reason: String) {
        self.code = .bubblewrapUnusable
        self.problems = []
        self.message = reason
    }

    /// For ``Code/invalidPolicies`` the problems, one per line; otherwise one line saying what is wrong.
    public var description: String { message ?? problems.map(\.description).joined(separator: "\n") }
}
