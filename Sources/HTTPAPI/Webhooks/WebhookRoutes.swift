import Hummingbird

/// `POST /hooks/{schedule name or id}`, with its own answers to refusals: the JSON problem answer,
/// and for a body over the limit (or a stop) the connection closed once the answer is out.
struct WebhookRoutes: Sendable {
    let receiver: WebhookReceiver

    init(_ deps: AdminAPI.Dependencies) {
        receiver = WebhookReceiver(deps)
    }

    /// The route, to add under `/hooks`.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.add(middleware: WebhookErrorMiddleware())
        routes.post(":hook") { request, context in
            try await receiver.receive(request, hook: try context.parameters.require("hook"), context: context)
        }
        return routes
    }
}
