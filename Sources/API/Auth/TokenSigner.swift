import Crypto
import Foundation
import JSON

/// What a MasterPlan access token says: who, in which role, with which token version of the
/// account, from when until when.
public struct TokenClaims: Sendable, Equatable {
    /// The user's id (`sub`).
    public var subject: UUID
    public var email: String
    public var role: String
    /// The account's `token_version` when the token was issued (`ver`): the token is refused once
    /// the account's version moved on (`Authenticator.user(for:in:)`).
    public var tokenVersion: Int64
    /// Seconds since 1970 (`iat`, `exp`).
    public var issuedAt: Int64
    public var expiresAt: Int64

    public init(subject: UUID, email: String, role: String, tokenVersion: Int64, issuedAt: Int64, expiresAt: Int64) {
        self.subject = subject
        self.email = email
        self.role = role
        self.tokenVersion = tokenVersion
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// Why a token was refused. `description` is safe to show the client: it never echoes the token.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not three base64url parts of JSON objects.
    case malformed(String)
    /// The header names an algorithm other than HS256 (`none`, `HS512`, `RS256`, …).
    case unsupportedAlgorithm(String)
    /// The signature does not match: the token was not issued with this server's secret, or was changed.
    case badSignature
    case expired
    case notYetValid
    /// A required claim is missing or has the wrong type.
    case invalidClaims(String)

    public var description: String {
        switch self {
        case .malformed(let why): return "the token is malformed (\(why))"
        case .unsupportedAlgorithm(let alg): return "the token's algorithm \"\(alg.prefix(20))\" is not accepted (only HS256 is)"
        case .badSignature: return "the token's signature does not match"
        case .expired: return "the token has expired"
        case .notYetValid: return "the token is not valid yet"
        case .invalidClaims(let why): return "the token's claims are invalid (\(why))"
        }
    }
}

/// Issues and checks HS256 JSON Web Tokens (RFC 7519) with one server secret.
///
/// Checking is strict: the header must say `"alg":"HS256"` exactly (so `none` and algorithm
/// confusion are refused before any signature work), the signature is compared in constant time
/// (`HMAC.isValidAuthenticationCode`), and `exp`, `iss`, `sub` and `ver` are required.
public struct TokenSigner: Sendable {
    /// The secret's bytes; a `SymmetricKey` (not `Sendable`) is made from them per call, which costs a copy.
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }
    /// The `iss` claim written and required.
    public static let issuer = "masterplan"
    /// The least secret length accepted, in bytes: HS256's key should be at least as long as its output.
    public static let minimumSecretBytes = 32

    /// - Precondition: `secret` has at least `minimumSecretBytes` bytes (the configuration checks it first).
    public init(secret: [UInt8]) {
        precondition(secret.count >= Self.minimumSecretBytes, "the JWT secret must have at least 32 bytes")
        self.secret = secret
    }

    private static let header = Base64URL.encode(#"{"alg":"HS256","typ":"JWT"}"#)

    /// A signed token carrying `claims`.
    public func sign(_ claims: TokenClaims) -> String {
        let payload: JSONValue = .object([
            "iss": .string(Self.issuer),
            "sub": .string(claims.subject.uuidString.lowercased()),
            "email": .string(claims.email),
            "role": .string(claims.role),
            "ver": .int(claims.tokenVersion),
            "iat": .int(claims.issuedAt),
            "exp": .int(claims.expiresAt),
        ])
        let signingInput = Self.header + "." + Base64URL.encode(payload.jsonText)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key)
        return signingInput + "." + Base64URL.encode(Array(mac))
    }

    /// The claims of a token this signer issued that is valid at `now` (seconds since 1970).
    public func verify(_ token: String, now: Int64) throws(TokenError) -> TokenClaims {
        // Split on bytes: Character-wise splitting of a 200-byte token was a visible cost per request.
        let parts = token.utf8.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
            .map { Substring($0) }
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts") }
        // The header this signer writes needs no parsing; any other is read and checked.
        if parts[0] != Self.header {
            guard let headerBytes = Base64URL.decode(parts[0]), let header = try? JSONValue.parse(headerBytes),
                  case .object(let headerObject) = header else { throw .malformed("the header is not base64url JSON") }
            guard let alg = headerObject["alg"]?.stringValue else { throw .malformed("the header has no alg") }
            guard alg == "HS256" else { throw .unsupportedAlgorithm(alg) }
            if let typ = headerObject["typ"], typ.stringValue?.uppercased() != "JWT" { throw .malformed("typ is not JWT") }
            if headerObject["crit"] != nil { throw .malformed("critical header extensions are not supported") }
        }

        guard let signature = Base64URL.decode(parts[2]), signature.count == SHA256.byteCount else { throw .badSignature }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signingInput, using: key) else {
            throw .badSignature
        }

        guard let payloadBytes = Base64URL.decode(parts[1]), let payload = try? JSONValue.parse(payloadBytes),
              case .object(let claims) = payload else { throw .malformed("the payload is not base64url JSON") }
        guard let expiresAt = claims["exp"]?.intValue else { throw .invalidClaims("exp is missing") }
        guard now < expiresAt else { throw .expired }
        if let notBefore = claims["nbf"] {
            guard let value = notBefore.intValue else { throw .invalidClaims("nbf is not a number") }
            if now < value { throw .notYetValid }
        }
        guard claims["iss"]?.stringValue == Self.issuer else { throw .invalidClaims("iss is not \(Self.issuer)") }
        guard let subject = claims["sub"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw .invalidClaims("sub is not a user id")
        }
        // Tokens issued before accounts had versions carry none: refused, so their holders log in again.
        guard let version = claims["ver"]?.intValue, version >= 1 else {
            throw .invalidClaims("ver is not a token version")
        }
        return TokenClaims(subject: subject, email: claims["email"]?.stringValue ?? "",
                           role: claims["role"]?.stringValue ?? "member", tokenVersion: version,
                           issuedAt: claims["iat"]?.intValue ?? 0, expiresAt: expiresAt)
    }
}
