extension Int64 {
    /// `value` rounded toward zero and clamped into `Int64` (NaN is 0): for instants and durations
    /// turned into integer milliseconds or nanoseconds, where a plain `Int64(_:)` traps on a value
    /// out of range. Those values come from the clock or from rows the store wrote after checking
    /// them, so clamping only matters for a database edited by hand; it must not stop the daemon.
    package init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.223_372_036_854_775e18 {
            self = .max
        } else if value <= -9.223_372_036_854_775e18 {
            self = .min
        } else {
            self = Int64(value)
        }
    }
}
