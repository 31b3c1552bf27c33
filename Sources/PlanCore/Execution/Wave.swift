/// A topological level of the atom graph: atoms whose dependencies are all in earlier waves, which may run concurrently.
public struct Wave: Sendable, Hashable {
    /// 1 for the first wave, as stored and shown.
    public let number: Int
    /// Atom indices in the order to start them: the longest remaining path first (it bounds the whole
    /// run), then the smaller task number, then the atom's place in the plan.
    public let atoms: [Int]

    public init(number: Int, atoms: [Int]) {
        self.number = number
        self.atoms = atoms
    }
}
