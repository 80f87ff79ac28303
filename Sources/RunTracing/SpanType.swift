/// What a span is in the trace's story, as MLflow names it (`mlflow.spanType`), sent as a plain string.
/// The run's root span and its nodes are chains, a script or an `http` request is a tool, a
/// `workflow:` node is an agent.
public struct SpanType: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral {
    /// The string sent as the span's type; MLflow's own types are upper case (`TOOL`).
    public var rawValue: String
    /// A span type from its string, for the types MLflow knows that have no constant here
    /// (`EMBEDDING`, `PARSER`, …). Nothing is checked; MLflow shows an unknown string as it is.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A span type written as a string literal: `span.setSpanType("RERANKER")`.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// A step that runs other steps: a workflow run's root span, its nodes and a sub-workflow's run.
    public static let chain: SpanType = "CHAIN"
    /// A call out of the process: the span of a sandboxed script or of an `http` node's request.
    public static let tool: SpanType = "TOOL"
    /// A `workflow:` node, which hands its work to another workflow.
    public static let agent: SpanType = "AGENT"
    /// A call to a chat model: each model call of an `llm` node. MLflow shows its inputs and outputs
    /// in OpenAI's chat format as a conversation.
    public static let chatModel: SpanType = "CHAT_MODEL"
    /// A call to a language model that is not a chat; for Swift nodes that make one.
    public static let llm: SpanType = "LLM"
    /// A search for documents to give a model. schedulerd makes none itself; it is here for Swift nodes.
    public static let retriever: SpanType = "RETRIEVER"
    /// The type for a span whose role is not known.
    public static let unknown: SpanType = "UNKNOWN"
}
