/// Fire resolution across UTC-offset changes (docs/cron.md, "Time zones and daylight saving").
///
/// Real time is cut into segments of constant offset. Inside a segment, wall time and UTC map one to
/// one, so the search for a matching wall time is a plain field search. At the edges:
/// - a forward transition opens a gap of wall times that never happen; a wall-anchored schedule fires
///   for them at the first instant after the gap (coalesced), shifted, or not at all;
/// - a backward transition repeats a range of wall times; a wall-anchored schedule fires the first,
///   the last or both occurrences, which amounts to narrowing the search window of one segment.
/// Interval-like schedules simply fire at every real instant whose wall time matches.
extension CronExpression {
    func nextCalendarFire(_ spec: CronSpec, after t: Int64) -> CronFire? {
        let wallAnchored = !spec.isIntervalLike
        var u = t + 1
        let limit = u + Self.horizon
        var segment = zone.segment(containing: u)
        while true {
            var best: CronFire?
            if wallAnchored, options.dstGap != .skip, let before = segment.previousOffset, before < segment.offset {
                let gap = (start: segment.start + before, end: segment.start + segment.offset)
                if options.dstGap == .coalesce {
                    if segment.start >= u, let nominal = spec.nextMatch(atOrAfter: gap.start, before: gap.end) {
                        best = fire(
                            segment.start, nominal: nominal, segment, dst: .gapShifted, intervalLike: !wallAnchored)
                    }
                } else if let nominal = spec.nextMatch(atOrAfter: max(gap.start, u + before), before: gap.end) {
                    best = fire(
                        nominal - before, nominal: nominal, segment, dst: .gapShifted, intervalLike: !wallAnchored)
                }
            }

            var low = max(u, segment.start) + segment.offset
            var high = segment.end == .max ? limit + segment.offset : segment.end + segment.offset
            if wallAnchored {
                if let before = segment.previousOffset, before > segment.offset, options.dstFold == .first {
                    low = max(low, segment.start + before)
                }
                if let after = segment.nextOffset, after < segment.offset, options.dstFold == .last {
                    high = min(high, segment.end + after)
                }
            }
            if low < high, let nominal = spec.nextMatch(atOrAfter: low, before: high) {
                let instant = nominal - segment.offset
                if best.map({ instant < $0.unixSeconds }) ?? true {
                    best = fire(
                        instant, nominal: nominal, segment, dst: foldMarker(nominal, segment),
                        intervalLike: !wallAnchored)
                }
            }
            if let best { return best }
            if segment.end == .max || segment.end > limit { return nil }
            u = segment.end
            segment = zone.segment(containing: u)
        }
    }

    func previousCalendarFire(_ spec: CronSpec, before t: Int64) -> CronFire? {
        let wallAnchored = !spec.isIntervalLike
        var u = t - 1
        let limit = u - Self.horizon
        var segment = zone.segment(containing: u)
        while true {
            var best: CronFire?
            var high = min(u, segment.end == .max ? u : segment.end - 1) + segment.offset
            var low = segment.start == .min ? limit + segment.offset : segment.start + segment.offset
            if wallAnchored {
                if let before = segment.previousOffset, before > segment.offset, options.dstFold == .first {
                    low = max(low, segment.start + before)
                }
                if let after = segment.nextOffset, after < segment.offset, options.dstFold == .last {
                    high = min(high, segment.end + after - 1)
                }
            }
            if low <= high, let nominal = spec.previousMatch(atOrBefore: high, notBefore: low) {
                best = fire(
                    nominal - segment.offset, nominal: nominal, segment, dst: foldMarker(nominal, segment),
                    intervalLike: !wallAnchored)
            }

            if wallAnchored, options.dstGap != .skip, let before = segment.previousOffset, before < segment.offset,
                segment.start <= u
            {
                let gap = (start: segment.start + before, end: segment.start + segment.offset)
                if options.dstGap == .coalesce {
                    if best.map({ segment.start >= $0.unixSeconds }) ?? true,
                        let nominal = spec.nextMatch(atOrAfter: gap.start, before: gap.end)
                    {
                        best = fire(
                            segment.start, nominal: nominal, segment, dst: .gapShifted, intervalLike: !wallAnchored)
                    }
                } else {
                    let top = min(gap.end - 1, u + before)
                    if top >= gap.start, let nominal = spec.previousMatch(atOrBefore: top, notBefore: gap.start),
                        best.map({ nominal - before >= $0.unixSeconds }) ?? true
                    {
                        best = fire(
                            nominal - before, nominal: nominal, segment, dst: .gapShifted, intervalLike: !wallAnchored)
                    }
                }
            }
            if let best { return best }
            if segment.start == .min || segment.start < limit { return nil }
            u = segment.start - 1
            segment = zone.segment(containing: u)
        }
    }

    /// Whether a wall time inside `segment` is the first or second copy of a repeated time.
    private func foldMarker(_ nominal: Int64, _ segment: ZoneRules.Segment) -> CronFire.DSTMarker? {
        if let before = segment.previousOffset, before > segment.offset, nominal < segment.start + before {
            return .foldSecond
        }
        if let after = segment.nextOffset, after < segment.offset, nominal >= segment.end + after {
            return .foldFirst
        }
        return nil
    }

    private func fire(
        _ instant: Int64, nominal: Int64, _ segment: ZoneRules.Segment, dst: CronFire.DSTMarker?,
        intervalLike: Bool
    ) -> CronFire {
        let offset = instant >= segment.start ? segment.offset : (segment.previousOffset ?? segment.offset)
        let style: CronFire.KeyStyle
        if intervalLike {
            style = .utc
        } else if options.dstFold == .both, dst == .foldFirst || dst == .foldSecond {
            style = .wallWithOffset
        } else {
            style = .wall
        }
        return CronFire(
            unixSeconds: instant, nominalLocalSeconds: nominal, utcOffset: Int(offset), dst: dst, keyStyle: style)
    }
}
