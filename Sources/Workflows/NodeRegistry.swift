import RunTracing

/// Node kinds implemented in Swift, for programs that embed the runner as a library. A workflow file
/// uses one with `swift: <kind>` and passes configuration under `with:`.
///
/// ```swift
/// var registry = NodeRegistry()
/// registry.register("summarize") { invocation in
///     let words = invocation.configuration["max_words"]?.doubleValue ?? 50
///     return ["summary": .string(summarize(invocation.state, words: Int(words)))]
/// }
/// let runner = WorkflowRunner(catalog: catalog, registry: registry, …)
/// ```
public struct NodeRegistry: Sendable {
    /// Runs one attempt of a node and returns its state update. Throwing fails the attempt; the
    /// error's type and description become the span's exception.
    public typealias Handler = @Sendable (NodeInvocation) async throws -> [String: JSONValue]

    var handlers: [String: Handler] = [:]

    /// An empty registry; add node kinds with ``register(_:_:)``.
    public init() {}

    /// Registers a node kind; a later registration of the same name replaces the earlier one.
    /// - Parameter kind: the name workflow files use after `swift:`.
    public mutating func register(_ kind: String, _ handler: @escaping Handler) {
        handlers[kind] = handler
    }

    /// The registered kind names.
    public var kinds: Set<String> { Set(handlers.keys) }

    /// The Swift node kinds this build of schedulerd runs (none yet), beside the `script`, `http`,
    /// `workflow`, `route` and `set` nodes. The daemon's runner calls their handlers, and the daemon
    /// and `schedule validate` check workflow files against their names.
    ///
    /// To add a kind, write its handler in its own file in this module and register it here:
    ///
    /// ```swift
    /// registry.register("word_count") { invocation in
    ///     let text = invocation.state["text"]?.stringValue ?? ""
    ///     return ["words": .integer(Int64(text.split(separator: " ").count))]
    /// }
    /// ```
    public static var builtIn: NodeRegistry {
        let registry = NodeRegistry()
        return registry
    }
}

/// What a Swift node sees.
public struct NodeInvocation: Sendable {
    /// The node's id.
    public var node: String
    /// The workflow the node is in.
    public var workflow: String
    /// The state the node sees.
    public var state: [String: JSONValue]
    /// The mapping under `with:` in the file (an empty object when absent).
    public var configuration: JSONValue
    /// Which attempt this is: 1 for the first, up to the node's `retry.attempts`.
    public var attempt: Int
    /// The id of the run the node is in, as the run's request gave it (the root span's `run_id` tag).
    public var runID: String
    /// The node's span, to add attributes or events; child spans started inside the handler nest
    /// under it.
    public var span: any RunSpan
}
