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

    /// `GET /masterplans/{id}/workspace.tar.gz`: the workspace as a git repository (a clone: its
    /// history, a commit per wave and per repair round, and the tree of its last commit checked out), so only what a wave
    /// committed (validated, accepted content) is in it, with the plan's evidence beside the tree. The
    /// archive and its top folder are named after the project. The workspace lives on the executor's
    /// machine; on an API host without it the answer is a 404 problem saying so.
    func downloadWorkspace(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        guard let path = plan.workspacePath else {
            throw Problem.workspaceUnavailable("The plan has no workspace yet; it is created when execution starts.")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path + "/.git", isDirectory: &isDirectory) else {
            throw Problem.workspaceUnavailable("The workspace is not on this server (it lives where the executor runs).")
        }
        let git = "/usr/bin/git"
        guard try ChildProcess.standardOutput(of: git, ["-C", path, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).status == 0 else {
            throw Problem.workspaceUnavailable("The workspace has no committed wave yet.")
        }
        let db = try database()
        let name = Self.archiveName(projectName: try PlanQueries(db).projectName(id: plan.id), planID: plan.id)
        let folder = try FileManager.default.url(for: .itemReplacementDirectory, in: .userDomainMask,
                                                 appropriateFor: URL(fileURLWithPath: NSTemporaryDirectory()), create: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tree = folder.appendingPathComponent(name).path
        // A clone carries the history; the server's path goes with its remote, which is removed.
        for arguments in [["clone", "--quiet", "--no-hardlinks", "--", path, tree], ["-C", tree, "remote", "remove", "origin"]] {
            guard try ChildProcess.standardOutput(of: git, arguments).status == 0 else {
                throw Problem.workspaceUnavailable("The workspace's history could not be read (git \(arguments[0] == "clone" ? "clone" : "remote")).")
            }
        }
        // The evidence goes beside the tree, not into its history; git ignores it in the copy.
        if let evidence = try PlanQueries(db).evidence(planID: plan.id) {
            let files = Self.evidenceFiles(evidence)
            for file in files {
                // Whatever the checkout put at that name (a link the generated tree committed, say) is
                // removed, not written through; the file is then created anew (O_EXCL).
                let url = URL(fileURLWithPath: tree).appendingPathComponent(file.name)
                try? FileManager.default.removeItem(at: url)
                try Data(file.content.utf8).write(to: url, options: .withoutOverwriting)
            }
            let exclude = URL(fileURLWithPath: tree).appendingPathComponent(".git/info/exclude")
            let excluded = (try? String(contentsOf: exclude, encoding: .utf8)) ?? ""
            try Data((excluded + files.map { "/" + $0.name + "\n" }.joined()).utf8).write(to: exclude)
        }
        let archive = try ChildProcess.standardOutput(of: "/bin/tar", ["-czf", "-", "-C", folder.path, "--", name])
        guard archive.status == 0 else {
            Log.error("the workspace archive could not be made", ["plan.id": plan.id.uuidString, "tar.status": String(archive.status)])
            throw Problem.internalError()
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/gzip"),
                                                   ("Content-Disposition", "attachment; filename=\"\(name).tar.gz\""),
                                                   ("Cache-Control", "no-store")],
                            body: archive.bytes)
    }

    /// The archive's name (and its top folder): the project name in lower case, with every run of
    /// characters other than letters, digits, `.`, `_` and `-` made one `-`; `masterplan-<plan id>`
    /// when nothing is left. Safe in a header and as a folder name.
    public static func archiveName(projectName: String?, planID: UUID) -> String {
        var name = ""
        for scalar in (projectName ?? "").lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-" {
                name.unicodeScalars.append(scalar)
            } else if !name.hasSuffix("-") {
                name += "-"
            }
        }
        while name.hasPrefix("-") || name.hasPrefix(".") { name.removeFirst() }
        while name.hasSuffix("-") || name.hasSuffix(".") { name.removeLast() }
        name = String(name.prefix(80))
        return name.isEmpty ? "masterplan-\(planID.uuidString.lowercased())" : name
    }
}
