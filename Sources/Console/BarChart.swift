import Foundation
import Queue

/// A small server-rendered SVG bar chart of one queue's finished jobs per bucket: completed in
/// green, failed in red and cancelled in amber, stacked; the oldest bucket on the left.
struct BarChart {
    /// Bars in the chart.
    static let buckets = 12
    /// Minutes per bar.
    static let bucketMinutes = 5

    let queue: String
    /// The queue's buckets with at least one job (others are drawn empty).
    let counts: [ThroughputBucket]
    /// The start of the newest bucket.
    let newestStart: Date

    /// One bar's bucket, empty when no job finished in it.
    private struct Column {
        var start: Date
        var completed: Int
        var failed: Int
        var cancelled: Int
    }

    private static let barWidth = 18
    private static let gap = 4
    private static let height = 60

    /// The chart, with a title for screen readers and the largest bar's count as its scale.
    var svg: HTML {
        let columns = (0..<Self.buckets).map { index -> Column in
            let start = newestStart.addingTimeInterval(-Double((Self.buckets - 1 - index) * Self.bucketMinutes * 60))
            let bucket = counts.first { abs($0.start.timeIntervalSince(start)) < 1 }
            return Column(start: start, completed: bucket?.completed ?? 0, failed: bucket?.failed ?? 0, cancelled: bucket?.cancelled ?? 0)
        }
        let largest = max(1, columns.map { $0.completed + $0.failed + $0.cancelled }.max() ?? 1)
        let bars = columns.enumerated().map { index, column in bar(column, at: index, largest: largest) }
        let width = Self.buckets * (Self.barWidth + Self.gap) + 40
        let total = columns.reduce(0) { $0 + $1.completed }
        let failed = columns.reduce(0) { $0 + $1.failed }
        return """
            <svg class="chart" role="img" width="\(width)" height="\(Self.height + 16)" viewBox="0 0 \(width) \(Self.height + 16)">\
            <title>\(queue): \(total) completed, \(failed) failed in the last hour, per \(Self.bucketMinutes) minutes</title>\
            <line x1="0" y1="\(Self.height)" x2="\(width - 40)" y2="\(Self.height)" stroke="#d9dde5"/>\(bars)\
            <text x="\(width - 36)" y="10">\(largest)</text><text x="0" y="\(Self.height + 13)">-60m</text>\
            <text x="\(width - 64)" y="\(Self.height + 13)">now</text></svg>
            """
    }

    /// One stacked bar: completed at the bottom, then failed, then cancelled.
    private func bar(_ column: Column, at index: Int, largest: Int) -> HTML {
        let x = index * (Self.barWidth + Self.gap)
        var top = Self.height
        var pieces: [HTML] = []
        for (count, colour) in [(column.completed, "#1f7a3d"), (column.failed, "#b3261e"), (column.cancelled, "#c98a00")] where count > 0 {
            let height = max(1, count * Self.height / largest)
            top -= height
            pieces.append("<rect x=\"\(x)\" y=\"\(top)\" width=\"\(Self.barWidth)\" height=\"\(height)\" fill=\"\(colour)\"/>")
        }
        let label = "\(column.start.formatted(date: .omitted, time: .shortened)): \(column.completed) completed, \(column.failed) failed, "
            + "\(column.cancelled) cancelled"
        return "<g><title>\(label)</title>\(pieces)</g>"
    }
}
