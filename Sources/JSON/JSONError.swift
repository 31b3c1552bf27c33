/// Why a JSON document could not be parsed or written, and where.
///
/// `line` and `column` are 1-based (the column counts characters, not bytes); `position` is the
/// 0-based byte offset. The message never quotes the document's content beyond a few characters.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case syntax
        case invalidUTF8
        case tooDeep
        case tooLarge
        case duplicateKey
        case nullCharacter
        case numberOutOfRange
        case endOfInput
        case invalidValue  // a Swift value that has no JSON form (NaN, infinity)
        case other
    }

    public var kind: Kind
    public var message: String
    public var line: Int
    public var column: Int
    public var position: Int

    public init(kind: Kind, message: String, line: Int, column: Int, position: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.position = position
    }

    public var description: String {
        "\(message) at line \(line), column \(column) (byte \(position))"
    }
}
