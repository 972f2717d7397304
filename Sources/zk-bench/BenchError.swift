/// A run that could not be completed (as opposed to a ``UsageError``): exit status 1.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
