import ZooKeeperTestSupport

/// A simulation's pending events, earliest first, ties in scheduling order (a binary heap: a run pops
/// hundreds of thousands of events, and a linear scan per step was most of its time).
struct SimulationQueue<Event> {
    private var heap: [(at: ManualInstant, order: Int, event: Event)] = []
    private var order = 0

    var earliest: ManualInstant? { heap.first?.at }

    mutating func push(_ event: Event, at: ManualInstant) {
        order += 1
        heap.append((at, order, event))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Event? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let event = heap.removeLast().event
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heap.count && precedes(left, first) { first = left }
            if right < heap.count && precedes(right, first) { first = right }
            guard first != parent else { break }
            heap.swapAt(parent, first)
            parent = first
        }
        return event
    }

    private func precedes(_ a: Int, _ b: Int) -> Bool {
        (heap[a].at, heap[a].order) < (heap[b].at, heap[b].order)
    }
}
