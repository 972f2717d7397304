/// The generator's dice: SplitMix64 seeded from (run seed, case index), so each case is independent of
/// every other and can be rebuilt alone.
struct FuzzRandom {
    private var generator: SplitMix64

    init(seed: UInt64, index: UInt64) {
        // Two SplitMix steps mix the pair so that neighbouring indices give unrelated streams.
        var mixer = SplitMix64(seed: seed)
        let base = mixer.next()
        var second = SplitMix64(seed: base ^ (index &* 0xD6E8_FEB8_6659_FD93))
        generator = SplitMix64(seed: second.next())
    }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }

    mutating func int32() -> Int32 { Int32(truncatingIfNeeded: generator.next()) }

    /// True with probability `probability`.
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// An index into `weights`, chosen in proportion to them.
    mutating func weighted(_ weights: [Int]) -> Int {
        var roll = int(0...(weights.reduce(0, +) - 1))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}
