/// Reads the ASCII parts of a timestamp's text one by one: fixed-width digits, literal characters,
/// a fraction, a sign. Shared by the sort-key timestamps of cursors (`SortKeyTimestamp`) and the
/// API's RFC 3339 times.
public struct TimestampScanner {
    private let bytes: [UInt8]
    private var index = 0

    public init(_ text: String) { bytes = Array(text.utf8) }

    /// True once every byte was read.
    public var isAtEnd: Bool { index == bytes.count }

    /// Exactly `count` decimal digits as a number; nil (nothing read) otherwise.
    public mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<(index + count)] {
            guard byte >= 48, byte <= 57 else { return nil }
            value = value * 10 + Int(byte - 48)
        }
        index += count
        return value
    }

    /// Reads one character if it is one of `characters`.
    public mutating func literal(_ characters: String) -> Bool {
        guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
        index += 1
        return true
    }

    /// Reads the digits of a fraction (after its point): their value and how many there were.
    public mutating func fraction() -> (value: Double, digits: Int) {
        var value = 0.0
        var scale = 0.1
        let start = index
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
            value += Double(bytes[index] - 48) * scale
            scale /= 10
            index += 1
        }
        return (value, index - start)
    }

    /// Reads `+` (1) or `-` (−1); nil (nothing read) otherwise.
    public mutating func sign() -> Int? {
        if literal("+") { return 1 }
        if literal("-") { return -1 }
        return nil
    }

    /// Days in `month` of `year` in the proleptic Gregorian calendar.
    public static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
