import Glibc
import Store

/// Turns a bearer token into a user: the token's signature, algorithm and expiry (`TokenSigner`),
/// then the account itself, which must still exist, not be disabled, and still be at the token's
/// version (a new password or a disable raises it, Migrations/0015). Shared by the API workers and
/// the SSE relay.
public struct Authenticator: Sendable {
    public let signer: TokenSigner

    public init(signer: TokenSigner) { self.signer = signer }

    /// The claims of `Authorization: Bearer TOKEN`.
    public func claims(fromAuthorizationHeader header: String) throws(Problem) -> TokenClaims {
        let bytes = header.utf8
        guard bytes.count > 7, bytes.prefix(6).map({ $0 | 0x20 }).elementsEqual("bearer".utf8),
              bytes.dropFirst(6).first == UInt8(ascii: " ") else {
            throw .invalidToken("the Authorization header is not of the form 'Bearer TOKEN'")
        }
        return try claims(fromToken: String(Substring(bytes.dropFirst(7))).trimmingSpaces)
    }

    /// The claims of a token given on its own.
    public func claims(fromToken token: String) throws(Problem) -> TokenClaims {
        do {
            return try signer.verify(token, now: Int64(time(nil)))
        } catch {
            throw .invalidToken(error.description)
        }
    }

    /// The account the claims name, if it still exists, is enabled and is at the token's version.
    public func user(for claims: TokenClaims, in users: UserStore) throws -> UserRecord {
        try Self.check(try users.user(id: claims.subject), version: claims.tokenVersion)
    }

    /// The account, if it exists, is enabled and is at `version`; else the 401 that says why.
    static func check(_ user: UserRecord?, version: Int64) throws(Problem) -> UserRecord {
        guard let user, !user.isDisabled else { throw .invalidToken(Self.accountGone) }
        guard user.tokenVersion == version else { throw .invalidToken(Self.versionEnded) }
        return user
    }

    static let accountGone = "the token's user no longer exists or is disabled"
    static let versionEnded = "the token was ended by a change to its account (a new password, a new role, or a disable)"
    /// For checks that cannot tell the two apart (`PlanQueries.treeStamp`).
    static let accountEnded = "the token's user no longer exists, is disabled, or was changed since the token was issued"
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
