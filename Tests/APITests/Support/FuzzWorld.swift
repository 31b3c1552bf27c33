import API
import Base
import Foundation
import JSON
import PlanCore
import Postgres
@testable import Store
import TestSupport

/// What one fuzzed operation works on: an owner with plans in every state the actions start from
/// (with execution records, pending and waivable reviews, a test that cannot fail, a workspace to
/// download), a stranger with the same kinds of things (their ids must never answer 2xx to the
/// owner), and tokens that must all be refused. Everything goes straight into the database, as
/// `PlanFixture` does; the API under test only reads and changes it.
///
/// An operation that changes state gets a world of its own. The operations that only read share
/// one (`APIFuzzTests.sharedWorld`), which nothing changes after it is built: that is why it may be
/// read from several test threads at once (`@unchecked Sendable`), each with its own connection.
final class FuzzWorld: @unchecked Sendable {
    struct Account {
        var id: UUID
        var email: String
        var token: String
    }

    /// Ids of one account's things, re-read after requests may have changed them.
    struct Holdings {
        var plans: [(id: UUID, status: String)] = []
        var conversations: [UUID] = []
        var reviews: [(id: UUID, status: String, waivable: Bool)] = []
        var atoms: [UUID] = []
        var tests: [(id: UUID, planID: UUID, cannotFail: Bool)] = []
        var taskNumbers: [Int] = []
        /// Accounts this account may manage (an admin's).
        var users: [UUID] = []

        var all: Set<UUID> {
            Set(plans.map(\.id) + conversations + reviews.map(\.id) + atoms + tests.map(\.id))
        }
    }

    /// Plan states the world keeps at least one plan in (the starting states of every action).
    enum Fixture: String, CaseIterable {
        case draft, draftWithTestThatCannotFail, approved, executing, blockedOnFailedGate, paused, failed,
             completedWithWorkspace, generating, awaitingAnswers, queued, cancelled, rejected

        var status: PlanStatus {
            switch self {
            case .draft, .draftWithTestThatCannotFail: .draft
            case .approved: .approved
            case .executing: .executing
            case .blockedOnFailedGate: .blocked
            case .paused: .paused
            case .failed: .failed
            case .completedWithWorkspace: .completed
            case .generating: .generating
            case .awaitingAnswers: .awaitingAnswers
            case .queued: .queued
            case .cancelled: .cancelled
            case .rejected: .rejected
            }
        }
    }

    let stack: APIStack
    let db: Connection
    let owner: Account
    let stranger: Account
    /// Member accounts the owner (an admin) manages through the users routes.
    let managedAccounts: [UUID]
    /// Tokens the API must refuse with 401, by what is wrong with them.
    let refusedTokens: [(kind: String, header: String)]
    let workspace: TemporaryFolder
    private(set) var mine = Holdings()
    private(set) var theirs = Holdings()

    init(stack: APIStack) throws {
        self.stack = stack
        db = try stack.database()
        // The owner is an admin (admins manage accounts; their plans are their own like anyone's),
        // the stranger a member; the accounts the owner manages are a third one's alone.
        let ownerAccount = try stack.user("fuzz-owner", role: "admin")
        let strangerAccount = try stack.user("fuzz-stranger")
        owner = Account(id: ownerAccount.id, email: try Self.email(of: ownerAccount.id, in: db), token: ownerAccount.token)
        stranger = Account(id: strangerAccount.id, email: try Self.email(of: strangerAccount.id, in: db), token: strangerAccount.token)

        managedAccounts = [try stack.user("fuzz-managed").id]
        let disabled = try stack.user("fuzz-disabled")
        try db.execute("UPDATE users SET disabled_at = now() WHERE id = $1", [disabled.id])
        let signer = TokenSigner(secret: Array(stack.secret.utf8))
        let now = Int64(Date().timeIntervalSince1970)
        // Each token below has one thing wrong; the rest is as the owner's real token has it.
        let version = try db.query("SELECT token_version FROM users WHERE id = $1", [owner.id]).first!.decode(Int64.self, 0)
        let claims = TokenClaims(subject: owner.id, email: owner.email, role: "admin", tokenVersion: version, issuedAt: now, expiresAt: now + 3600)
        let expired = signer.sign(TokenClaims(subject: owner.id, email: owner.email, role: "admin", tokenVersion: version,
                                              issuedAt: now - 7200, expiresAt: now - 3600))
        let forged = TokenSigner(secret: Array("a secret that is not the server's, long enough".utf8)).sign(claims)
        let nobody = signer.sign(TokenClaims(subject: UUID(), email: "nobody@example.org", role: "admin", tokenVersion: 1, issuedAt: now, expiresAt: now + 3600))
        let earlier = signer.sign(TokenClaims(subject: owner.id, email: owner.email, role: "admin", tokenVersion: version - 1,
                                              issuedAt: now, expiresAt: now + 3600))
        let payload = Base64URL.encode(#"{"iss":"masterplan","sub":"\#(owner.id.uuidString.lowercased())","ver":\#(version),"exp":\#(now + 3600)}"#)
        let parts = owner.token.split(separator: ".").map(String.init)
        refusedTokens = [
            ("of an earlier token version", "Bearer " + earlier),
            ("expired", "Bearer " + expired),
            ("signed with another secret", "Bearer " + forged),
            ("of a user that does not exist", "Bearer " + nobody),
            ("of a disabled user", "Bearer " + disabled.token),
            ("alg none", "Bearer " + Base64URL.encode(#"{"alg":"none","typ":"JWT"}"#) + "." + payload + "."),
            ("tampered payload", "Bearer " + parts[0] + "." + payload + "." + parts[2]),
            ("truncated signature", "Bearer " + String(owner.token.dropLast(3))),
            ("two parts", "Bearer " + parts[0] + "." + parts[1]),
            ("garbage", "Bearer not.a.token"),
            ("empty", "Bearer "),
            ("another scheme", "Basic " + Base64URL.encode("\(owner.email):correct horse battery")),
            ("no scheme", owner.token),
            ("non-ASCII", "Bearer \u{00E9}\u{00E9}.\u{00E9}.\u{00E9}"),
            ("long", "Bearer " + String(repeating: "A", count: 1_500) + "." + String(repeating: "B", count: 200) + ".x"),
        ]

        workspace = try TemporaryFolder(prefix: "mpfuzzws")

        for account in [owner.id, stranger.id] {
            for fixture in fixtures(of: account) { try insert(fixture, owner: account) }
            for title in ["first", "second"] {
                let conversation = try ConversationQueries(db).create(ownerID: account, title: title)
                let id = try requireUUID(conversation["id"]?.stringValue)
                _ = try ConversationQueries(db).addMessage(conversationID: id, role: "user", content: "hello \(title)")
            }
        }
        for (account, holdings) in [(owner.id, try holdings(of: owner.id)), (stranger.id, try holdings(of: stranger.id))] {
            try db.execute(
                """
                INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, status)
                VALUES ($1, $2, 'masterplan', 'anthropic', 'claude', 1000, 500, 0.25, 900, 'ok'),
                       ($1, $2, 'atom', 'openai', 'gpt', 200, 100, 0.05, 300, 'ok')
                """, [account, holdings.plans.first?.id])
        }
        try refresh()
    }

    deinit { workspace.remove() }

    static func email(of user: UUID, in db: Connection) throws -> String {
        try db.query("SELECT email FROM users WHERE id = $1", [user]).first!.decode(String.self, 0)
    }

    /// The states the account keeps a plan in: all of them for the owner; for the other account,
    /// enough to have one of each kind of thing (plan, review, atom, test, waivable review).
    func fixtures(of account: UUID) -> [Fixture] {
        account == owner.id ? Fixture.allCases : [.draftWithTestThatCannotFail, .executing, .blockedOnFailedGate]
    }

    /// Inserts one plan for `owner` in the state `fixture` names, with what that state needs.
    func insert(_ fixture: Fixture, owner: UUID) throws {
        let planID = try PlanFixture.insert(db, owner: owner, status: fixture.status,
                                            workspacePath: fixture == .completedWithWorkspace ? try committedWorkspace() : nil)
        switch fixture {
        case .draftWithTestThatCannotFail:
            try db.execute(
                "UPDATE acceptance_tests SET cannot_fail = true, cannot_fail_output = '1 passed' WHERE plan_id = $1 AND name = 'test_login'",
                [planID])
        case .approved, .queued, .executing, .paused, .failed, .completedWithWorkspace:
            try db.execute(
                """
                UPDATE acceptance_tests SET sha256 = encode(sha256(convert_to(code, 'UTF8')), 'hex'), frozen_at = now()
                WHERE plan_id = $1
                """, [planID])
            if fixture == .executing || fixture == .completedWithWorkspace { try PlanFixture.addExecution(db, planID: planID) }
        case .blockedOnFailedGate:
            let (review, _) = try PlanFixture.addExecution(db, planID: planID)
            let wave2 = try db.query("SELECT id FROM waves WHERE plan_id = $1 AND number = 2", [planID]).first!.decode(UUID.self, 0)
            try db.execute("UPDATE reviews SET blocking = true, wave_id = $2 WHERE id = $1", [review, wave2])
            try db.execute(
                """
                INSERT INTO gate_results (plan_id, wave_id, must_total, must_passed, should_total, should_passed, passed)
                VALUES ($1, $2, 2, 1, 0, 0, false)
                """, [planID, wave2])
        default:
            break
        }
        if fixture != .generating {
            try db.execute(
                """
                WITH d AS (INSERT INTO discoveries (owner_id, request, domain, bounded_contexts, assumptions, clarifications, model,
                                                    input_tokens, cost_usd)
                           VALUES ($2, 'create a FastAPI app with JWT auth', 'authentication',
                                   '[{"name": "Identity", "description": "Who may log in.", "responsibilities": []}]',
                                   '["one user per email"]',
                                   '[{"question": "Email or username?", "assumed_answer": "An email address."}]',
                                   'fixture-model', 1200, 0.0125) RETURNING id)
                UPDATE masterplans SET discovery_id = (SELECT id FROM d) WHERE id = $1
                """, [planID, owner])
        }
        _ = try PlanQueries(db).addVersion(planID: planID, snapshot: try PlanQueries(db).snapshot(id: planID) ?? [:],
                                           note: "fixture", author: "system", authorID: nil)
        try PlanQueries(db).appendHistory(planID: planID, actor: "system", actorID: nil, event: "created")
    }

    /// A new git repository with one commit (a plan's workspace path is its own).
    func committedWorkspace() throws -> String {
        let path = try workspace.folder("ws-\(UUID().uuidString.prefix(8))")
        try "print('hello')\n".write(toFile: path + "/main.py", atomically: false, encoding: .utf8)
        for arguments in [["init", "-q"], ["add", "main.py"],
                          ["-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "-m", "wave 1"]] {
            let outcome = try ChildProcess.run("/usr/bin/git", ["-C", path] + arguments, outputPath: workspace.file(".git-out"))
            guard outcome.status == 0 else { throw TestFailure("git \(arguments): \(outcome.output)") }
        }
        return path
    }

    /// Puts back the starting states and reviews that successful requests used up; true when it
    /// inserted anything.
    @discardableResult
    func replenish() throws -> Bool {
        var inserted = false
        for (account, holdings) in [(owner.id, mine), (stranger.id, theirs)] {
            let statuses = Set(holdings.plans.map(\.status))
            let cannotFail = holdings.tests.contains { test in
                test.cannotFail && holdings.plans.contains { $0.id == test.planID && $0.status == "draft" }
            }
            let blocked = Set(holdings.tests.filter(\.cannotFail).map(\.planID))
            for fixture in fixtures(of: account) {
                let missing = switch fixture {
                case .draft: !holdings.plans.contains { $0.status == "draft" && !blocked.contains($0.id) }
                case .draftWithTestThatCannotFail: !cannotFail
                case .executing: !holdings.reviews.contains { $0.status == "pending" && !$0.waivable } || !statuses.contains("executing")
                case .blockedOnFailedGate: !holdings.reviews.contains { $0.status == "pending" && $0.waivable }
                default: !statuses.contains(fixture.status.rawValue)
                }
                if missing {
                    try insert(fixture, owner: account)
                    inserted = true
                }
            }
        }
        try refresh()
        return inserted
    }

    /// Re-reads both accounts' ids.
    func refresh() throws {
        mine = try holdings(of: owner.id)
        mine.users = managedAccounts
        theirs = try holdings(of: stranger.id)
    }

    func holdings(of account: UUID) throws -> Holdings {
        var holdings = Holdings()
        holdings.plans = try db.query("SELECT id, status FROM masterplans WHERE owner_id = $1 ORDER BY created_at, id", [account])
            .rows.map { (try $0.decode(UUID.self, 0), try $0.decode(String.self, 1)) }
        holdings.conversations = try db.query("SELECT id FROM conversations WHERE owner_id = $1 ORDER BY created_at, id", [account])
            .rows.map { try $0.decode(UUID.self, 0) }
        holdings.reviews = try db.query(
            """
            SELECT r.id, r.status, r.blocking AND \(ReviewQueries.gateFailed)
            FROM reviews r JOIN masterplans p ON p.id = r.plan_id WHERE p.owner_id = $1 ORDER BY r.created_at, r.id
            """, [account]).rows.map { (try $0.decode(UUID.self, 0), try $0.decode(String.self, 1), try $0.decode(Bool.self, 2)) }
        holdings.atoms = try db.query(
            "SELECT a.id FROM atoms a JOIN masterplans p ON p.id = a.plan_id WHERE p.owner_id = $1 ORDER BY p.created_at, a.file_path", [account])
            .rows.map { try $0.decode(UUID.self, 0) }
        holdings.tests = try db.query(
            """
            SELECT t.id, t.plan_id, t.cannot_fail FROM acceptance_tests t JOIN masterplans p ON p.id = t.plan_id
            WHERE p.owner_id = $1 ORDER BY p.created_at, t.name
            """, [account]).rows.map { (try $0.decode(UUID.self, 0), try $0.decode(UUID.self, 1), try $0.decode(Bool.self, 2)) }
        holdings.taskNumbers = [1, 2, 3]
        return holdings
    }

    /// A digest of every row an account owns, in every table: how many there are and the newest
    /// writing transaction among them (`xmin`). A refused request must leave it as it was (it may not
    /// write at all, not even the same values again), and no request of one account may change the
    /// other's.
    func fingerprints(_ db: Connection) throws -> Fingerprints {
        let sql = try Self.fingerprintSQL(db)
        let row = try db.query(
            """
            SELECT (\(sql("$1"))), (\(sql("$2"))),
                   (SELECT string_agg(id::text || ':' || xmin::text, ',' ORDER BY id) FROM users WHERE id = ANY($3::text[]::uuid[])),
                   (SELECT string_agg(id::text || ':' || xmin::text, ',' ORDER BY id) FROM users WHERE id = ANY($4::text[]::uuid[]))
            """,
            [owner.id, stranger.id, [owner.id.uuidString, stranger.id.uuidString], managedAccounts.map(\.uuidString)]).first!
        return Fingerprints(owner: try row.decode(String.self, 0), stranger: try row.decode(String.self, 1),
                            accounts: try row.decode(String.self, 2), managed: try row.decode(String.self, 3))
    }

    /// What `fingerprints` reads: each account's things, the two accounts themselves (no request
    /// may change them: the owner manages only `managedAccounts`), and the managed accounts (only a
    /// successful account change may change them).
    struct Fingerprints: Equatable {
        var owner: String
        var stranger: String
        var accounts: String
        var managed: String
    }

    /// The digest's SQL for the account `$n`, over every table with an `owner_id` or a `plan_id`
    /// column (read from the catalogue, so a new table is covered), and messages and subtasks
    /// through their conversation and task. Accounts are read apart (`Fingerprints.accounts`), and
    /// stream tickets left out: they are credentials, issued and spent by design.
    static func fingerprintSQL(_ db: Connection) throws -> (String) -> String {
        let columns = try db.query(
            """
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.column_name IN ('owner_id', 'plan_id')
              AND c.table_name NOT IN ('users', 'stream_tickets')
            ORDER BY c.table_name, c.column_name
            """).rows.map { (try $0.decode(String.self, 0), try $0.decode(String.self, 1)) }
        var byTable: [String: String] = [:]
        for (table, column) in columns where byTable[table] == nil || column == "owner_id" { byTable[table] = column }
        return { user in
            var parts = byTable.sorted { $0.key < $1.key }.map { table, column in
                let scope = column == "owner_id" ? "x.owner_id = \(user)" : "x.plan_id IN (SELECT id FROM masterplans WHERE owner_id = \(user))"
                return "(SELECT '\(table):' || count(*) || ':' || coalesce(max(x.xmin::text::bigint), 0) FROM \(table) x WHERE \(scope))"
            }
            parts.append("""
                (SELECT 'messages:' || count(*) || ':' || coalesce(max(x.xmin::text::bigint), 0) FROM messages x
                 WHERE x.conversation_id IN (SELECT id FROM conversations WHERE owner_id = \(user)))
                """)
            parts.append("""
                (SELECT 'subtasks:' || count(*) || ':' || coalesce(max(x.xmin::text::bigint), 0) FROM subtasks x
                 WHERE x.task_id IN (SELECT k.id FROM tasks k JOIN masterplans p ON p.id = k.plan_id WHERE p.owner_id = \(user)))
                """)
            return "SELECT concat_ws('|', \(parts.joined(separator: ", ")))"
        }
    }

    /// The status the database holds for a plan.
    func status(of plan: UUID, _ db: Connection) throws -> String? {
        try db.query("SELECT status FROM masterplans WHERE id = $1", [plan]).first?.decode(String.self, 0)
    }
}

/// A UUID from a JSON string, or a test failure.
func requireUUID(_ text: String?) throws -> UUID {
    guard let text, let id = UUID(uuidString: text) else { throw TestFailure("not a UUID: \(text ?? "nil")") }
    return id
}
