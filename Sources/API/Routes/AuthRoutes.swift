import Foundation
import JSON
import Store

extension APIApplication {
    /// `POST /auth/login`: email + password → HS256 token. A wrong password, an unknown email and a
    /// disabled account get the same 401 after the same amount of hashing work.
    ///
    /// Before any hashing, the login throttle (`LoginThrottleStore`, shared by every worker through
    /// PostgreSQL) may refuse the attempt with 429 and `Retry-After`: too many failures for this
    /// email (whether or not it has an account) or from this client address (`REMOTE_ADDR`; never
    /// `X-Forwarded-For`, which the client writes). So a flood of guesses costs a query each, not
    /// ~0.7 s of CPU, whichever URL form or worker it reaches and with or without nginx in front.
    func login(_ ctx: RequestContext) throws -> HTTPResponse {
        var fields = BodyFields(try ctx.body(), allowed: ["email", "password"])
        let email = fields.string("email", required: true, maxLength: BodyLimits.email)
        let password = fields.string("password", required: true, maxLength: BodyLimits.password, allowBlank: true)
        try fields.check()
        guard let email, let password else { throw Problem.invalidCredentials() }

        let db = try database()
        let throttle = LoginThrottleStore(db, policy: configuration.loginThrottle)
        let attempt: LoginAttempt
        switch try throttle.begin(email: email, address: ctx.request.remoteAddress) {
        case .refused(let seconds): throw Problem.tooManyLoginAttempts(retryAfterSeconds: seconds)
        case .admitted(let admitted): attempt = admitted
        }
        // From here on the attempt counts as failed unless it succeeds below.
        let accepted: UserRecord?
        if let (user, hash) = try UserStore(db).credentials(email: email) {
            accepted = PasswordHasher.verify(password, against: hash) && !user.isDisabled ? user : nil
        } else {
            PasswordHasher.verifyNothing(password)
            accepted = nil
        }
        guard let user = accepted else {
            try throttle.failed(attempt)
            throw Problem.invalidCredentials()
        }
        try throttle.succeeded(attempt)

        let now = Int64(time(nil))
        let expiresAt = now + configuration.tokenLifetimeSeconds
        let token = signer.sign(TokenClaims(subject: user.id, email: user.email, role: user.role,
                                            tokenVersion: user.tokenVersion, issuedAt: now, expiresAt: expiresAt))
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
