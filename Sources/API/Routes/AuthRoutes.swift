import Foundation
import JSON
import Store

extension APIApplication {
    /// `POST /auth/login`: email + password → HS256 token. A wrong password, an unknown email and a
    /// disabled account get the same 401 after the same amount of hashing work.
    func login(_ ctx: RequestContext) throws -> HTTPResponse {
        var fields = BodyFields(try ctx.body(), allowed: ["email", "password"])
        let email = fields.string("email", required: true, maxBytes: 320)
        let password = fields.string("password", required: true, maxBytes: 1024, allowBlank: true)
        try fields.check()
        guard let email, let password else { throw Problem.invalidCredentials() }

        guard let (user, hash) = try UserStore(try database()).credentials(email: email) else {
            PasswordHasher.verifyNothing(password)
            throw Problem.invalidCredentials()
        }
        guard PasswordHasher.verify(password, against: hash), !user.isDisabled else { throw Problem.invalidCredentials() }

        let now = Int64(time(nil))
        let expiresAt = now + configuration.tokenLifetimeSeconds
        let token = signer.sign(TokenClaims(subject: user.id, email: user.email, role: user.role,
                                            issuedAt: now, expiresAt: expiresAt))
        return .json([
            "access_token": .string(token),
            "token_type": "Bearer",
            "expires_in": .int(configuration.tokenLifetimeSeconds),
            "expires_at": .string(PostgresTimestampText.iso8601(Date(timeIntervalSince1970: Double(expiresAt)))),
            "user": user.jsonValue,
        ])
    }

    /// `GET /me`.
    func me(_ ctx: RequestContext) -> HTTPResponse {
        .json(ctx.currentUser.jsonValue)
    }
}
