import Base
import Foundation

/// The arithmetic and number formats every bench prints its figures with.
enum BenchFigures {
    static func milliseconds(_ duration: Duration) -> Double { duration.inMilliseconds }

    static func seconds(_ duration: Duration) -> Double { duration.inSeconds }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// `value` with `decimals` digits after the point.
    static func format(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }
}
