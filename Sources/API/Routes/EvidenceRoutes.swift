import Foundation
import JSON
import Store

extension APIApplication {
    /// `GET /masterplans/{id}/evidence`: the proof behind the plan's verdict, per task (`PlanQueries.evidence`).
    func getEvidence(_ ctx: RequestContext) throws -> HTTPResponse {
        let plan = try ownedPlan(ctx)
        guard let evidence = try PlanQueries(try database()).evidence(planID: plan.id) else { throw Problem.notFound("plan") }
        return .json(evidence)
    }

    /// The two files a downloaded archive carries beside the committed tree: the evidence as JSON, for
    /// machines, and a short summary in Markdown, for people. They are not part of the tree (the final
    /// gate ran on the tree alone).
    static func evidenceFiles(_ evidence: JSONValue) -> [(name: String, content: String)] {
        [("MASTERPLAN-EVIDENCE.json", evidence.jsonText + "\n"), ("MASTERPLAN-EVIDENCE.md", evidenceSummary(evidence))]
    }

    /// A one-page summary of the evidence: the verdict, the final gate, every waiver, and per task its
    /// files and the latest outcome of each test that covers it.
    static func evidenceSummary(_ evidence: JSONValue) -> String {
        func text(_ value: JSONValue?) -> String { value?.stringValue ?? value.map { $0.isNull ? "—" : $0.jsonText } ?? "—" }
        var lines: [String] = []
        let name = evidence["project_name"]?.stringValue ?? "plan"
        lines.append("# Evidence for \(name)")
        lines.append("")
        switch evidence["verification"]?.stringValue {
        case "verified":
            lines.append("**Verified**: every acceptance test passed on the committed tree in this archive.")
        case "accepted_with_waivers":
            lines.append("**Accepted with waivers — not verified**: some failing acceptance tests were accepted with a written reason.")
        default:
            lines.append("**Not completed** (status: \(text(evidence["status"]))). \(evidence["status_reason"]?.stringValue ?? "")")
        }
        if let gate = evidence["final_gate"], !gate.isNull {
            lines.append("")
            lines.append("Final gate: \(gate["passed"]?.boolValue == true ? "passed" : "failed") on commit `\(text(gate["commit"]))`, "
                         + "MUST \(text(gate["must_passed"]))/\(text(gate["must_total"])), SHOULD \(text(gate["should_passed"]))/\(text(gate["should_total"])).")
        }
        let waivers = evidence["waivers"]?.arrayValue ?? []
        if !waivers.isEmpty {
            lines.append("")
            lines.append("## Waived tests")
            for waiver in waivers {
                lines.append("- \(text(waiver["name"])) (wave \(text(waiver["wave"]))): \(text(waiver["reason"])) — by \(text(waiver["waived_by"])) at \(text(waiver["waived_at"]))")
            }
        }
        lines.append("")
        lines.append("## Tasks")
        for task in evidence["tasks"]?.arrayValue ?? [] {
            lines.append("")
            lines.append("### \(text(task["number"])). \(text(task["name"])) — \(text(task["status"]))")
            for file in task["files"]?.arrayValue ?? [] {
                let validators = (file["accepted_attempt"]?["validation"]?.arrayValue ?? [])
                    .map { "\(text($0["name"])) \($0["passed"]?.boolValue == true ? "ok" : "FAILED")" }.joined(separator: ", ")
                lines.append("- `\(text(file["path"]))`: \(text(file["status"])), \(text(file["attempts"])) attempt(s), wave \(text(file["wave"])) "
                             + "(commit `\(text(file["wave_commit"]))`)" + (validators.isEmpty ? "" : "; validators: \(validators)"))
            }
            for test in task["tests"]?.arrayValue ?? [] {
                let runs = test["runs"]?.arrayValue ?? []
                let gate = runs.last { $0["kind"]?.stringValue == "gate" }
                let mutation = runs.last { $0["kind"]?.stringValue == "mutation" }
                var line = "- test \(text(test["name"])) [\(text(test["priority"]).uppercased())]: "
                line += gate.map { "last run \(text($0["status"])) (wave \(text($0["wave"])), round \(text($0["repair_round"])))" } ?? "never run"
                if let mutation { line += mutation["status"]?.stringValue == "pass" ? "; passes without its code (proves nothing)" : "; fails without its code" }
                if test["cannot_fail"]?.boolValue == true { line += "; passed before any code existed, kept because: \(text(test["cannot_fail_confirmation"]))" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
