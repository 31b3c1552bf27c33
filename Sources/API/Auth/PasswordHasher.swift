import Crypto
import _CryptoExtras

/// Salted, slow password hashes: PBKDF2-HMAC-SHA256, stored self-describing as
/// `pbkdf2-sha256$ITERATIONS$SALT$HASH` (salt and hash in unpadded base64url).
///
/// The iteration count is part of the stored string, so raising the default later does not break
/// old hashes. New hashes use at least `defaultIterations` (600,000, OWASP's 2023 figure for
/// PBKDF2-HMAC-SHA256) unless a caller asks for fewer explicitly — only the test suite does, to keep
/// thousands of logins fast.
public struct PasswordHasher: Sendable {
    public static let defaultIterations = 600_000
    public static let scheme = "pbkdf2-sha256"
    static let saltBytes = 16
    static let hashBytes = 32

    public let iterations: Int

    /// The production hasher (`defaultIterations`).
    public init() { iterations = Self.defaultIterations }

    /// A hasher with an explicit iteration count. Anything below `defaultIterations` is for tests only.
    public init(testIterations: Int) {
        precondition(testIterations >= 1, "PBKDF2 needs at least one iteration")
        iterations = testIterations
    }

    /// The stored form of `password` with a fresh random salt.
    public func hash(_ password: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let derived = Self.derive(password, salt: salt, iterations: iterations)
        return "\(Self.scheme)$\(iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// True when `password` produces `stored`; false for a wrong password or an unreadable hash.
    /// The comparison takes the same time wherever the bytes differ.
    public static func verify(_ password: String, against stored: String) -> Bool {
        guard let parsed = parse(stored) else { return false }
        let derived = derive(password, salt: parsed.salt, iterations: parsed.iterations)
        return constantTimeEqual(derived, parsed.hash)
    }

    /// Spends the time of one verification without a stored hash, so that a login for an email with
    /// no account takes as long as one with a wrong password.
    public static func verifyNothing(_ password: String) {
        _ = derive(password, salt: [UInt8](repeating: 0x5A, count: saltBytes), iterations: defaultIterations)
    }

    /// The parts of a stored hash, or nil when it is not this scheme's.
    public static func parse(_ stored: String) -> (iterations: Int, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == scheme, let iterations = Int(parts[1]), iterations >= 1,
              iterations <= 100_000_000, let salt = Base64URL.decode(parts[2]), salt.count >= 8,
              let hash = Base64URL.decode(parts[3]), hash.count == hashBytes else { return nil }
        return (iterations, salt, hash)
    }

    static func derive(_ password: String, salt: [UInt8], iterations: Int) -> [UInt8] {
        // Cannot fail for these parameters (SHA-256, 32 output bytes, at least one round).
        let key = try! KDF.Insecure.PBKDF2.deriveKey(from: Array(password.utf8), salt: salt, using: .sha256,
                                                      outputByteCount: hashBytes, unsafeUncheckedRounds: iterations)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Equal length and equal bytes, touching every byte whatever the first difference.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
