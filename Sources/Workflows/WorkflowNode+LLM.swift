extension WorkflowNode {
    /// A call to a chat model behind an OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM,
    /// Ollama, llama.cpp's server), as an `llm:` node declares it:
    ///
    /// ```yaml
    /// ask:
    ///   llm:
    ///     model: "${LLM_MODEL}"
    ///     system: "You are the Architect."
    ///     messages: [{role: user, content: "{{ question }}"}]
    ///     temperature: 0.2
    ///     max_tokens: 800
    ///     response_format: json
    ///     output: proposal
    /// ```
    ///
    /// With `tools:`, the model may ask for other nodes of the workflow to run; their results go back
    /// to it until it replies without asking (at most `max_turns` calls).
    ///
    /// Each call is a `CHAT_MODEL` span under the node's span, with the request's messages as inputs,
    /// the provider's answer as outputs and the token usage. The API key is read from the daemon's
    /// environment when the request is made and is never in a span, a log line or the state.
    public struct LLMCall: Sendable {
        /// How the reply goes into the state.
        public enum ResponseFormat: String, Sendable, Hashable {
            /// The reply's text, under ``LLMCall/output``.
            case text
            /// The reply parsed as JSON (the provider is asked for a JSON object): under
            /// ``LLMCall/output`` when set, else an object reply is the node's update.
            case json
        }

        /// The model's name. It may name environment variables as `${NAME}` and read the state.
        public var model: Template
        /// The system message, sent first; `nil` sends none.
        public var system: Template?
        /// The conversation, in order: each message's role (`system`, `user`, `assistant`) and its
        /// content, rendered from the state.
        public var messages: [(role: String, content: Template)]
        /// Sampling temperature, 0 to 2; `nil` leaves it to the provider.
        public var temperature: Double?
        /// The most tokens the reply may have; `nil` leaves it to the provider.
        public var maxTokens: Int?
        /// Text (the default) or JSON.
        public var responseFormat: ResponseFormat
        /// The state key for the reply; required for text replies.
        public var output: String?
        /// The provider's base URL, up to and including the API version (`https://api.openai.com/v1`,
        /// `http://localhost:11434/v1`); it may name environment variables. `nil`: the daemon's
        /// `OPENAI_BASE_URL`.
        public var baseURL: Template?
        /// The environment variable holding the API key; `nil`: `OPENAI_API_KEY`. When the variable is
        /// not set the request is sent without a key (local servers need none).
        public var apiKeyEnvironment: String?
        /// The provider's name as spans show it (`mlflow.llm.provider`, `gen_ai.provider.name`);
        /// `nil`: `openai` for `api.openai.com`, else the base URL's host.
        public var provider: String?
        /// Nodes of the same workflow the model may call as tools (`tools:`), by id: each is offered
        /// with its `description:` and its `parameters:` schema, runs as a TOOL span (a `workflow:`
        /// node as an AGENT span) under this node when the model asks for it, and its update goes back
        /// to the model as the tool's result. Empty: no tools.
        public var tools: [String] = []
        /// How many model calls one attempt may make while the model keeps asking for tools
        /// (`max_turns`, 1 to 100); 8 by default.
        public var maxTurns: Int = 8
    }
}
