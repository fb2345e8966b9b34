import Foundation

/// Value axes with round ticks: steps of 1, 2 or 5 times a power of ten, always including zero and
/// reaching past the smallest and the largest value, so no bar or point is ever cut off.
enum ChartScale {
    /// The ticks of an axis showing `minimum…maximum` with about `count` ticks, ascending; steps are never
    /// finer than `minimumStep` (a power of ten: 1 for counts, 0.01 for euros).
    static func ticks(minimum: Double, maximum: Double, count: Int = 5, minimumStep: Double = 0) -> [Double] {
        let low = min(0, minimum.isFinite ? minimum : 0)
        var high = max(0, maximum.isFinite ? maximum : 0)
        if high - low <= 0 { high = low + 1 }
        let step = max(niceStep((high - low) / Double(max(count - 1, 1))), minimumStep)
        // Ticks are built as integer multiples of a step of one significant digit, which keeps 0.3 from being 0.30000000000000004.
        let exponent = Int(floor(log10(step)))
        let significand = (step / pow(10, Double(exponent))).rounded()
        func tick(_ index: Int) -> Double {
            exponent >= 0 ? Double(index) * significand * pow(10, Double(exponent))
                          : Double(index) * significand / pow(10, Double(-exponent))
        }
        var first = Int(floor(low / step + 1e-9))
        var last = Int(ceil(high / step - 1e-9))
        while tick(first) > low { first -= 1 }
        while tick(last) < high { last += 1 }
        return (first...last).map(tick)
    }

    /// 1, 2 or 5 times a power of ten, the smallest not below `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction <= 1 + 1e-9 ? 1 : fraction <= 2 + 1e-9 ? 2 : fraction <= 5 + 1e-9 ? 5 : 10
        return nice * magnitude
    }

    /// The decimals a tick label needs when ticks are `step` apart (0.2 → 1, 0.05 → 2, 5 → 0).
    static func fractionDigits(for step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        return min(max(0, Int(ceil(-log10(step) - 1e-9))), 9)
    }
}
