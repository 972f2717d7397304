import Testing
import ZooKeeperProtocol
import ZooKeeperTestSupport

/// The moving-head queue behind the client's in-flight requests and the servers' proposal and commit
/// queues: against a plain array used as the model, through many interleavings of appends and pops
/// (which cross the compaction thresholds).
@Suite struct FIFOTests {
    @Test func behavesAsAnArrayQueue() {
        var random = SplitMix64(seed: 42)
        var queue = FIFO<Int>()
        var model: [Int] = []
        var next = 0
        for _ in 0..<20_000 {
            switch random.next() % 10 {
            case 0..<5:
                queue.append(next)
                model.append(next)
                next += 1
            case 5..<9:
                #expect(queue.popFirst() == (model.isEmpty ? nil : model.removeFirst()))
            default:
                let batch = (0..<Int(random.next() % 200)).map { next + $0 }
                next += batch.count
                queue.append(contentsOf: batch)
                model += batch
            }
            #expect(queue.count == model.count)
            #expect(queue.first == model.first)
            #expect(queue.last == model.last)
            #expect(queue.isEmpty == model.isEmpty)
        }
        #expect(Array(queue) == model)
    }

    @Test func offsetsCountFromTheOldestAndChangeInPlace() {
        var queue: FIFO<String> = ["a", "b", "c", "d"]
        #expect(queue.popFirst() == "a")
        #expect(queue[0] == "b")
        queue[1] = "C"
        #expect(Array(queue) == ["b", "C", "d"])
        queue.removeAll()
        #expect(queue.isEmpty && queue.first == nil && queue.last == nil && queue.popFirst() == nil)
    }
}
