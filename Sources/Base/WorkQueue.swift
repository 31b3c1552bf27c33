import Foundation

/// A first-in first-out queue of work for a fixed set of threads that block waiting for it (the
/// threads of a `BlockingPool`).
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    // Every access to `items`, `head` and `closed` holds `condition`'s lock.
    private var items: [Item] = []
    private var head = 0
    private var closed = false
    private let condition = NSCondition()

    public init() {}

    /// Appends an item and wakes one waiting thread; false once the queue is closed.
    public func add(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        items.append(item)
        condition.signal()
        return true
    }

    /// The next item, waiting for one; nil once closed and drained.
    public func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    /// Refuses further items; waiting threads drain what is left, then get nil.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
