@testable import API
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct PasswordHasherTests {
    let hasher = PasswordHasher(testIterations: 1_000)

    @Test func productionDefaultIsAtLeast600000Iterations() {
        #expect(PasswordHasher.defaultIterations >= 600_000)
        #expect(PasswordHasher().iterations == PasswordHasher.defaultIterations)
    }

    @Test func storedFormNamesSchemeIterationsSaltAndHash() throws {
        let stored = hasher.hash("correct horse battery")
        let parts = stored.split(separator: "$")
        #expect(parts.count == 4)
        #expect(parts[0] == "pbkdf2-sha256")
        #expect(parts[1] == "1000")
        let parsed = try #require(PasswordHasher.parse(stored))
        #expect(parsed.salt.count == 16)
        #expect(parsed.hash.count == 32)
    }

    @Test func rightPasswordVerifiesWrongOneDoesNot() {
        let stored = hasher.hash("correct horse battery")
        #expect(PasswordHasher.verify("correct horse battery", against: stored))
        #expect(!PasswordHasher.verify("correct horse batterY", against: stored))
        #expect(!PasswordHasher.verify("", against: stored))
    }

    @Test func saltIsRandomSoEqualPasswordsHashDifferently() {
        #expect(hasher.hash("same password") != hasher.hash("same password"))
    }

    @Test func derivationMatchesPublishedPBKDF2HMACSHA256Vectors() {
        // The widely published PBKDF2-HMAC-SHA256 vectors for P = "password", S = "salt", dkLen = 32.
        #expect(Base64URL.encode(PasswordHasher.derive("password", salt: Array("salt".utf8), iterations: 1))
                == Base64URL.encode(Self.bytes("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")))
        #expect(Base64URL.encode(PasswordHasher.derive("password", salt: Array("salt".utf8), iterations: 4096))
                == Base64URL.encode(Self.bytes("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")))
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test(arguments: ["", "plain", "bcrypt$1$x$y", "pbkdf2-sha256$0$c2FsdHNhbHQ$AAAA", "pbkdf2-sha256$x$c2FsdHNhbHQ$AAAA",
                      "pbkdf2-sha256$1000$c2FsdA$" + String(repeating: "A", count: 43)])
    func unreadableHashesNeverVerify(_ stored: String) {
        #expect(!PasswordHasher.verify("anything", against: stored))
    }
}
