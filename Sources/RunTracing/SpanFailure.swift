import Tracing

/// How a failure shows on a span, the same for every ``RunSpan``: status ERROR with
/// `"<Type>: <message>"` and an `exception` event with `exception.type` and `exception.message`, and
/// the rule that an error status stays.
package enum SpanFailure {
    /// The `exception` event and the ERROR status for `error`, its message cut to `maxBytes`.
    package static func record<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: Instant, maxBytes: Int
    ) -> (event: SpanEvent, status: SpanStatus) {
        let type = String(describing: Swift.type(of: error))
        let message = Truncation.truncate(String(describing: error), maxBytes: maxBytes)
        var eventAttributes = attributes
        eventAttributes["exception.type"] = SpanAttribute.string(type)
        eventAttributes["exception.message"] = SpanAttribute.string(message)
        return (
            SpanEvent(name: "exception", at: instant, attributes: eventAttributes),
            SpanStatus(code: .error, message: "\(type): \(message)")
        )
    }

    /// Whether `new` may replace `current`: an error stays an error, so a later OK does not hide it,
    /// nor does a bare ERROR erase its message; an ERROR with a message replaces the earlier one.
    package static func replaces(_ current: SpanStatus?, with new: SpanStatus) -> Bool {
        guard let current, current.code == .error else { return true }
        return new.code == .error && !(new.message ?? "").isEmpty
    }
}
