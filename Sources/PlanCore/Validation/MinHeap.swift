/// A binary min-heap of integers ordered by a key; used to pick "the smallest ready task" in O(log n).
struct MinHeap {
    private var elements: [(key: Int, value: Int)] = []

    var isEmpty: Bool { elements.isEmpty }

    init(capacity: Int = 0) { elements.reserveCapacity(capacity) }

    mutating func push(_ value: Int, key: Int) {
        elements.append((key, value))
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(child, parent) else { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let top = elements.first else { return nil }
        let last = elements.removeLast()
        if !elements.isEmpty {
            elements[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < elements.count, less(left, smallest) { smallest = left }
                if right < elements.count, less(right, smallest) { smallest = right }
                if smallest == parent { break }
                elements.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top.value
    }

    /// Ties on the key go to the smaller value, so the order is fully deterministic.
    private func less(_ a: Int, _ b: Int) -> Bool {
        elements[a].key != elements[b].key ? elements[a].key < elements[b].key : elements[a].value < elements[b].value
    }
}
