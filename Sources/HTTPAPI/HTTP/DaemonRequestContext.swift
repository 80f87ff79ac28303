import Hummingbird
import NIOCore

/// The request context of the daemon's routes: Hummingbird's basics and the connection, so that a
/// request refused for its size can have its connection closed instead of its body read to the end.
public struct DaemonRequestContext: RequestContext {
    /// Hummingbird's part of the context.
    public var coreContext: CoreRequestContextStorage
    /// The request's connection.
    let channel: any Channel

    /// The context of one request on `source`'s connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
