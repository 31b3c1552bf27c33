import API
import Crypto
import Foundation
import JSON
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct TokenSignerTests {
    static let secret = Array("0123456789abcdef0123456789abcdef-test".utf8)
    let signer = TokenSigner(secret: Self.secret)
    let claims = TokenClaims(subject: UUID(uuidString: "10000000-0000-4000-8000-000000000001")!, email: "ann@example.org",
                             role: "admin", tokenVersion: 3, issuedAt: 1_000, expiresAt: 2_000)

    /// A token with any header and payload, signed (HS256) with `secret`.
    static func token(header: String, payload: String, secret: [UInt8] = TokenSignerTests.secret) -> String {
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + Base64URL.encode(Array(mac))
    }

    @Test func signedTokenVerifiesWithItsClaims() throws {
        let token = signer.sign(claims)
        #expect(token.split(separator: ".").count == 3)
        #expect(try signer.verify(token, now: 1_500) == claims)
    }

    @Test func expiredTokenIsRefused() {
        let token = signer.sign(claims)
        #expect(throws: TokenError.expired) { try signer.verify(token, now: 2_000) }
        #expect(throws: TokenError.expired) { try signer.verify(token, now: 9_999) }
    }

    @Test func tokenFromAnotherSecretIsRefused() {
        let other = TokenSigner(secret: Array("another secret of at least thirty-two bytes".utf8))
        #expect(throws: TokenError.badSignature) { try signer.verify(other.sign(claims), now: 1_500) }
    }

    @Test func changedPayloadBreaksTheSignature() throws {
        let parts = signer.sign(claims).split(separator: ".").map(String.init)
        let forged = #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000002","role":"admin","exp":2000}"#
        #expect(throws: TokenError.badSignature) { try signer.verify(parts[0] + "." + Base64URL.encode(forged) + "." + parts[2], now: 1_500) }
    }

    @Test(arguments: ["none", "None", "HS512", "RS256", "hs256", ""])
    func anyAlgorithmButHS256IsRefused(_ alg: String) {
        let payload = #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000001","exp":2000}"#
        // Even correctly HMAC-signed with our secret: the header decides first.
        let signed = Self.token(header: #"{"alg":"\#(alg)","typ":"JWT"}"#, payload: payload)
        #expect(throws: TokenError.unsupportedAlgorithm(alg)) { try signer.verify(signed, now: 1_500) }
        let unsigned = Base64URL.encode(#"{"alg":"\#(alg)"}"#) + "." + Base64URL.encode(payload) + "."
        #expect(throws: TokenError.unsupportedAlgorithm(alg)) { try signer.verify(unsigned, now: 1_500) }
    }

    @Test func missingExpiryIsRefused() {
        let token = Self.token(header: #"{"alg":"HS256","typ":"JWT"}"#,
                               payload: #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000001"}"#)
        #expect(throws: TokenError.invalidClaims("exp is missing")) { try signer.verify(token, now: 1_500) }
    }

    @Test func notBeforeInTheFutureIsRefused() {
        let token = Self.token(header: #"{"alg":"HS256"}"#,
                               payload: #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000001","ver":1,"exp":3000,"nbf":1600}"#)
        #expect(throws: TokenError.notYetValid) { try signer.verify(token, now: 1_500) }
    }

    @Test func wrongIssuerOrSubjectIsRefused() {
        let issuer = Self.token(header: #"{"alg":"HS256"}"#, payload: #"{"iss":"other","sub":"10000000-0000-4000-8000-000000000001","exp":3000}"#)
        #expect(throws: TokenError.invalidClaims("iss is not masterplan")) { try signer.verify(issuer, now: 1_500) }
        let subject = Self.token(header: #"{"alg":"HS256"}"#, payload: #"{"iss":"masterplan","sub":"ann","exp":3000}"#)
        #expect(throws: TokenError.invalidClaims("sub is not a user id")) { try signer.verify(subject, now: 1_500) }
    }

    /// Tokens issued before accounts had versions, and versions that no account can have, are refused.
    @Test(arguments: [#""#, #","ver":0"#, #","ver":-1"#, #","ver":"1""#, #","ver":1.5"#, #","ver":null"#])
    func aMissingOrImpossibleVersionIsRefused(_ version: String) throws {
        let token = Self.token(header: #"{"alg":"HS256","typ":"JWT"}"#,
                               payload: #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000001","exp":3000\#(version)}"#)
        #expect(throws: TokenError.invalidClaims("ver is not a token version")) { try signer.verify(token, now: 1_500) }
        let versioned = Self.token(header: #"{"alg":"HS256","typ":"JWT"}"#,
                                   payload: #"{"iss":"masterplan","sub":"10000000-0000-4000-8000-000000000001","exp":3000,"ver":4}"#)
        #expect(try signer.verify(versioned, now: 1_500).tokenVersion == 4)
    }

    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30", "eyJhbGciOiJIUzI1NiJ9.e30=.x"])
    func malformedTokensAreRefused(_ token: String) {
        #expect(throws: TokenError.self) { try signer.verify(token, now: 1_500) }
    }

    @Test func truncatedSignatureIsRefused() {
        let token = signer.sign(claims)
        #expect(throws: TokenError.badSignature) { try signer.verify(String(token.dropLast(2)), now: 1_500) }
    }
}

@Suite(.dedicatedThreads) struct Base64URLTests {
    @Test(arguments: [[], [0], [0, 1], [0, 1, 2], [255, 254, 253, 252], Array("hello, world".utf8)] as [[UInt8]])
    func roundTrips(_ bytes: [UInt8]) {
        let text = Base64URL.encode(bytes)
        #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
        #expect(Base64URL.decode(text) == bytes)
    }

    @Test func matchesRFC4648Examples() {
        #expect(Base64URL.encode("foobar") == "Zm9vYmFy")
        #expect(Base64URL.encode("fooba") == "Zm9vYmE")
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
    }

    @Test(arguments: ["Zm9vYmE=", "Zm9v YmE", "Zm9+", "Z", "Zm9vYmF"])
    func strictDecodingRefusesPaddingSpacesAndNonCanonicalInput(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}
