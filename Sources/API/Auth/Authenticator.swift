import Glibc
import Store

/// Turns a bearer token into a user: the token's signature, algorithm and expiry (`TokenSigner`),
/// then the account itself, which must still exist and not be disabled. Shared by the API workers
/// and the SSE relay.
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

    /// The claims of a token given on its own (the relay's `?access_token=`).
    public func claims(fromToken token: String) throws(Problem) -> TokenClaims {
        do {
            return try signer.verify(token, now: Int64(time(nil)))
        } catch {
            throw .invalidToken(error.description)
        }
    }

    /// The account the claims name, if it still exists and is enabled.
    public func user(for claims: TokenClaims, in users: UserStore) throws -> UserRecord {
        guard let user = try users.user(id: claims.subject), !user.isDisabled else {
            throw Problem.invalidToken("the token's user no longer exists or is disabled")
        }
        return user
    }
}

extension String {
    var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
