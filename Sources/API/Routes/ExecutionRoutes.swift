import Base
import Foundation
import JSON
import PlanCore
import Store

extension APIApplication {
    /// `GET /masterplans/{id}/waves`.
    func listWaves(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        return .json(.object(["items": try PlanQueries(try database()).waves(planID: plan.id)]))
    }

    /// `GET /masterplans/{id}/atoms`.
    func listAtoms(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        let wave = try ctx.queryInt(.wave)
        let status = try ctx.queryWord(.atomStatus)
        return .page(try PlanQueries(try database()).atoms(planID: plan.id, wave: wave, status: status,
                                                           page: try ctx.page(PlanQueries.atomsKey, defaultLimit: 100)))
    }

    /// `GET /atoms/{id}`: the atom's plan must be the caller's.
    func getAtom(_ ctx: RequestContext) throws -> HTTPResponse {
        let id = try ctx.id(of: "atom")
        guard let atom = try PlanQueries(try database()).atom(id: id, ownerID: ctx.currentUser.id) else {
            throw Problem.notFound("atom")
        }
        return .json(atom)
    }

    /// `GET /masterplans/{id}/acceptance-tests`.
    func listAcceptanceTests(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        return .json(.object(["items": try PlanQueries(try database()).acceptanceTests(planID: plan.id)]))
    }

    /// `POST /masterplans/{id}/acceptance-tests/{test_id}/confirm` {reason}: a person keeps a test that
    /// passed before any code existed (it cannot fail), saying why; only while the plan is a draft, and
    /// the plan cannot be approved until every such test is confirmed or regenerated.
    func confirmAcceptanceTest(_ ctx: RequestContext) throws -> HTTPResponse {
        let user = ctx.currentUser
        let planID = try ctx.id(of: "plan")
        let testID = try ctx.id("test_id", of: "acceptance test")
        var fields = BodyFields(try ctx.body(), allowed: ["reason"])
        let reason = fields.string("reason", required: true, maxLength: BodyLimits.confirmationReason)
        try fields.check()
        let db = try database()
        try db.transaction { db in
            let plans = PlanQueries(db)
            guard let plan = try plans.lockPlan(id: planID, ownerID: user.id) else { throw Problem.notFound("plan") }
            // Confirming a test edits the draft: only a draft allows it (409 with the actions allowed now).
            guard let status = PlanStatus(rawValue: plan.status) else { throw Problem.internalError() }
            guard status.allowedEvents.contains(.edit) else { throw Problem.illegalPlanAction(.edit, status: status) }
            guard let reason, try plans.confirmTestThatCannotFail(planID: plan.id, testID: testID, reason: reason, userID: user.id) else {
                throw Problem.notFound("acceptance test that cannot fail")
            }
            try plans.appendHistory(planID: plan.id, actor: "user", actorID: user.id, event: "test_confirmed",
                                    data: ["test_id": .string(testID.uuidString.lowercased()), "reason": .string(reason)])
        }
        return .json(.object(["items": try PlanQueries(db).acceptanceTests(planID: planID)]))
    }

    /// `GET /masterplans/{id}/gate`.
    func listGateResults(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        return .json(.object(["items": try PlanQueries(try database()).gate(planID: plan.id)]))
    }

    /// `GET /masterplans/{id}/workspace.tar.gz`: `git archive` of the workspace's last commit, so
    /// only what a wave committed (validated, accepted content) is in it. The workspace lives on the
    /// executor's machine; on an API host without it the answer is a 404 problem saying so.
    func downloadWorkspace(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        guard let path = plan.workspacePath else {
            throw Problem.workspaceUnavailable("The plan has no workspace yet; it is created when execution starts.")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path + "/.git", isDirectory: &isDirectory) else {
            throw Problem.workspaceUnavailable("The workspace is not on this server (it lives where the executor runs).")
        }
        let prefix = (plan.workspacePath.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "workspace") + "/"
        // The evidence goes beside the tree, not into it: written to a private folder and added with
        // --add-file (its name in the archive is the prefix and the file's base name).
        let folder = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                                 appropriateFor: URL(fileURLWithPath: NSTemporaryDirectory()), create: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var extra: [String] = []
        if let evidence = try PlanQueries(try database()).evidence(planID: plan.id) {
            for file in Self.evidenceFiles(evidence) {
                let url = folder.appendingPathComponent(file.name)
                try Data(file.content.utf8).write(to: url)
                extra.append("--add-file=" + url.path)
            }
        }
        let archive = try ChildProcess.standardOutput(of: "/usr/bin/git", ["-C", path, "archive", "--format=tar.gz", "--prefix=\(prefix)"]
                                                      + extra + ["HEAD"])
        guard archive.status == 0 else {
            throw Problem.workspaceUnavailable("The workspace has no committed wave yet.")
        }
        let name = "masterplan-\(plan.id.uuidString.lowercased()).tar.gz"
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/gzip"),
                                                   ("Content-Disposition", "attachment; filename=\"\(name)\""),
                                                   ("Cache-Control", "no-store")],
                            body: archive.bytes)
    }
}
