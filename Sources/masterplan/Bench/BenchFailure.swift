/// Why a bench could not run, or why a run did not finish as it should.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
