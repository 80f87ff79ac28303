/// Where the daemon's trace export stands, as the overview page shows it.
public struct TraceExportState: Sendable, Hashable {
    /// Spans waiting in the spool for MLflow (or the collector).
    public var pending: Int
    /// Spans dropped since the start (the spool or the in-memory inbox was full).
    public var dropped: Int
    /// Whether MLflow took the last request: false while it is down or refusing the spans.
    public var reachable: Bool

    /// A state read from the exporter's counters.
    public init(pending: Int, dropped: Int, reachable: Bool) {
        self.pending = pending
        self.dropped = dropped
        self.reachable = reachable
    }
}
