/// A closed set of lowercase words that appears as a JSON string, such as a complexity or a priority.
///
/// Conforming enums get strict parsing (an unknown word is a schema problem that lists the allowed words)
/// and a stable JSON form, both from their raw values.
public protocol JSONEnumeration: RawRepresentable<String>, CaseIterable, Hashable, Sendable {}

extension JSONEnumeration {
    /// The allowed words in declaration order, for error messages and JSON schemas.
    public static var allowedWords: [String] { allCases.map(\.rawValue) }
}
