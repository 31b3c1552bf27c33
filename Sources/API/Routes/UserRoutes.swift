import Foundation
import JSON
import Postgres
import Store

/// Account management through the API, for administrators only (the README's role table): list
/// and add users, disable and enable them, set a new password. Members get 403 on every route
/// here. Disabling and a new password end every token and open event stream of the account at once
/// (the database raises its token version, Migrations/0015).
extension APIApplication {
    /// 403 unless the caller's account (as the database has it now, not as the token says) is an admin.
    func requireAdmin(_ ctx: RequestContext) throws(Problem) {
        guard ctx.currentUser.isAdmin else { throw .forbidden("manage users") }
    }

    /// `GET /users`: every account, oldest first.
    func listUsers(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        return .page(try UserStore(try database()).list(page: try ctx.page(UserStore.listKey)))
    }

    /// `GET /users/{id}`.
    func getUser(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        let id = try ctx.id(of: "user")
        guard let user = try UserStore(try database()).user(id: id) else { throw Problem.notFound("user") }
        return .json(user.jsonValue)
    }

    /// `POST /users`: a new account with a password (hashed here; never stored or logged as given).
    func createUser(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        var fields = BodyFields(try ctx.body(), allowed: ["email", "password", "role", "display_name"])
        var email = fields.string("email", required: true, maxLength: BodyLimits.email)
        if let address = email, !TextRules.isEmailAddress(address) {
            fields.fail("email", "must be an address of the form name@domain without spaces")
            email = nil
        }
        let password = newPassword(&fields)
        let role = fields.word("role", from: ["admin", "member"]) ?? "member"
        let displayName = fields.string("display_name", maxLength: BodyLimits.displayName)
        try fields.check()
        guard let email, let password else { throw Problem.validationFailed([("(body)", "email and password are required")]) }
        do {
            let user = try UserStore(try database()).create(email: email, passwordHash: PasswordHasher().hash(password),
                                                            role: role, displayName: displayName)
            return .json(user.jsonValue, status: 201,
                         headers: [("Location", "\(APIRoutes.prefix)/users/\(user.id.uuidString.lowercased())")])
        } catch let error as UserStoreError {
            switch error.kind {
            case .emailTaken: throw Problem.emailTaken(email)
            case .invalidEmail: throw Problem.validationFailed([("email", "must be an address of the form name@domain without spaces")])
            case .invalidRole: throw Problem.validationFailed([("role", "must be one of: admin, member")])
            case .notFound: throw Problem.notFound("user")
            }
        }
    }

    /// `POST /users/{id}/disable`: the account can no longer log in; its tokens and open event
    /// streams end. An admin cannot disable their own account (409). Disabling a disabled account
    /// changes nothing.
    func disableUser(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        let id = try ctx.id(of: "user")
        guard id != ctx.currentUser.id else { throw Problem.cannotDisableSelf() }
        guard let (user, _) = try UserStore(try database()).setDisabled(id: id, true) else { throw Problem.notFound("user") }
        return .json(user.jsonValue)
    }

    /// `POST /users/{id}/enable`: the account may log in again (tokens from before stay dead).
    func enableUser(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        let id = try ctx.id(of: "user")
        guard let (user, _) = try UserStore(try database()).setDisabled(id: id, false) else { throw Problem.notFound("user") }
        return .json(user.jsonValue)
    }

    /// `POST /users/{id}/password`: sets a new password; every token and open stream of the account
    /// ends (the caller's own too, when they reset their own password).
    func resetUserPassword(_ ctx: RequestContext) throws -> HTTPResponse {
        try requireAdmin(ctx)
        let id = try ctx.id(of: "user")
        var fields = BodyFields(try ctx.body(), allowed: ["password"])
        let password = newPassword(&fields)
        try fields.check()
        guard let password else { throw Problem.validationFailed([("password", "is required")]) }
        guard let user = try UserStore(try database()).setPasswordHash(id: id, passwordHash: PasswordHasher().hash(password)) else {
            throw Problem.notFound("user")
        }
        return .json(user.jsonValue)
    }

    /// The body's `password`: required, at least `UserStore.minimumPasswordLength` characters, at most 1 KiB.
    private func newPassword(_ fields: inout BodyFields) -> String? {
        guard let password = fields.string("password", required: true, maxLength: BodyLimits.password, allowBlank: true) else { return nil }
        // Characters as JSON Schema's minLength counts them (code points).
        let length = password.unicodeScalars.count
        guard length >= UserStore.minimumPasswordLength else {
            fields.fail("password", "is \(length) characters long; use at least \(UserStore.minimumPasswordLength)")
            return nil
        }
        return password
    }
}
