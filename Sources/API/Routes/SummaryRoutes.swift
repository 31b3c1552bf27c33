import Base
import Foundation
import JSON
import Store

extension APIApplication {
    /// `GET /masterplans/{id}/summary`: what a finished plan built and how it was verified, for the
    /// summary a completed plan opens on. The database's facts (`PlanQueries.completionFacts`: tests,
    /// gate evaluations, repair rounds, reviews, waivers, time, tokens, cost), what the workspace's
    /// history holds (files, lines and commits of its last commit; null when the workspace is not on
    /// this server or has no commit yet), and the next steps: download the archive, unpack it, install
    /// its dependencies, run the acceptance tests, run the app.
    func getSummary(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        let db = try database()
        guard case .object(var summary)? = try PlanQueries(db).completionFacts(planID: plan.id) else { throw Problem.notFound("plan") }
        let built = plan.workspacePath.flatMap(Self.builtFacts(workspace:))
        summary["built"] = built.map(JSONValue.object) ?? .null
        summary["workspace"] = nil
        let name = Self.archiveName(projectName: summary["project_name"]?.stringValue, planID: plan.id)
        var steps: [JSONValue] = []
        func step(_ title: String, _ command: String?) {
            steps.append(.object(["title": .string(title), "command": command.map(JSONValue.string) ?? .null]))
        }
        let files = built?["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if built != nil {
            step("Download the archive: a git repository with a commit per wave (and per repair round), and the evidence beside it", nil)
            step("Unpack it and read its history", "tar -xzf \(name).tar.gz && cd \(name) && git log --oneline")
            if files.contains("requirements.txt") { step("Install its Python dependencies", "python3 -m pip install -r requirements.txt") }
            if let command = summary["test_command"]?.stringValue { step("Run the acceptance tests", command) }
            step(files.contains("README.md") ? "Run the app as its README.md says" : "Run the app", nil)
        }
        summary["next_steps"] = .object(["archive_name": .string(name + ".tar.gz"),
                                         "download_path": built == nil ? .null
                                             : .string("\(APIRoutes.prefix)/masterplans/\(plan.id.uuidString.lowercased())/workspace.tar.gz"),
                                         "steps": .array(steps)])
        if var built = built {
            built["paths"] = nil
            summary["built"] = .object(built)
        }
        return .json(.object(summary))
    }

    /// Files, lines and commits of the workspace's last commit, with the history (newest first, at most
    /// 200: a commit per wave, per repair round, and for content accepted after the last gate), read with
    /// git; nil when there is no readable history here.
    static func builtFacts(workspace path: String) -> JSONObject? {
        let git = "/usr/bin/git"
        func output(_ arguments: [String]) -> String? {
            guard let run = try? ChildProcess.standardOutput(of: git, ["-C", path] + arguments), run.status == 0 else { return nil }
            return String(decoding: run.bytes, as: UTF8.self)
        }
        guard FileManager.default.fileExists(atPath: path + "/.git"),
              let head = output(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])?.trimmingCharacters(in: .whitespacesAndNewlines),
              let commits = output(["rev-list", "--count", "HEAD"]).flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              let listing = output(["ls-tree", "-r", "-z", "--name-only", "HEAD"]),
              let empty = output(["hash-object", "-t", "tree", "/dev/null"])?.trimmingCharacters(in: .whitespacesAndNewlines),
              let numstat = output(["diff", "--numstat", "--no-renames", empty, head]),
              let log = output(["log", "-z", "--max-count=200", "--format=%H %s", head]) else { return nil }
        let paths = listing.split(separator: "\0").map(String.init)
        // `added<TAB>removed<TAB>path`; a binary file has "-" for both.
        let lines = numstat.split(separator: "\n").reduce(0) { sum, line in sum + (Int(line.split(separator: "\t").first ?? "") ?? 0) }
        let history = log.split(separator: "\0").map { entry -> JSONValue in
            let parts = entry.split(separator: " ", maxSplits: 1)
            return ["commit": .string(String(parts.first ?? "")), "subject": .string(parts.count > 1 ? String(parts[1]) : "")]
        }
        return ["head": .string(head), "commits": JSONValue(commits), "files": JSONValue(paths.count), "lines": JSONValue(lines),
                "history": .array(history), "paths": .array(paths.map(JSONValue.string))]
    }
}
