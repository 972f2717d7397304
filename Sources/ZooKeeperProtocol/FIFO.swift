/// A first-in first-out queue: an array with a moving head, compacted as it drains, so taking the oldest
/// element is O(1) amortized (`Array.removeFirst` moves every element behind it; with hundreds of
/// requests in flight that was a visible share of a busy server's and client's time).
///
/// Inlinable so that it is specialised for its element type in the modules that use it.
public struct FIFO<Element>: Sequence {
    @usableFromInline var items: [Element] = []
    @usableFromInline var head = 0

    @inlinable public init() {}

    @inlinable public init(_ elements: [Element]) { items = elements }

    @inlinable public var count: Int { items.count - head }
    @inlinable public var isEmpty: Bool { head == items.count }

    /// The oldest element, left in place.
    @inlinable public var first: Element? { head < items.count ? items[head] : nil }

    /// The newest element.
    @inlinable public var last: Element? { head < items.count ? items.last : nil }

    @inlinable public mutating func append(_ item: Element) { items.append(item) }

    @inlinable public mutating func append(contentsOf newItems: some Sequence<Element>) { items.append(contentsOf: newItems) }

    /// The element `offset` places behind the oldest (0 is the oldest), read or changed in place.
    @inlinable public subscript(offset: Int) -> Element {
        get { items[head + offset] }
        set { items[head + offset] = newValue }
    }

    @inlinable public mutating func popFirst() -> Element? {
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    @inlinable public mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        head = 0
    }

    @inlinable public func makeIterator() -> ArraySlice<Element>.Iterator { items[head...].makeIterator() }
}

extension FIFO: Sendable where Element: Sendable {}

extension FIFO: ExpressibleByArrayLiteral {
    @inlinable public init(arrayLiteral elements: Element...) { items = elements }
}
