import Foundation
import JSON
import Postgres

/// What the stack suites read back about an executed plan.
extension ExecutionHarness {
    func count(_ sql: String, _ parameters: [any PostgresBindable]) throws -> Int { try generation.count(sql, parameters) }

    func status(_ plan: UUID) throws -> String { try generation.status(plan: plan).status }

    /// The plan's `verification`, nil until it completed.
    func verification(_ plan: UUID) throws -> String? {
        try connection.query("SELECT verification FROM masterplans WHERE id = $1", [plan]).first!.decode(String?.self, 0)
    }

    /// Every gate evaluation in order, as "wave W round R: passed|failed".
    func gates(_ plan: UUID) throws -> [String] {
        try connection.query("""
            SELECT w.number, g.repair_round, g.passed FROM gate_results g JOIN waves w ON w.id = g.wave_id
            WHERE g.plan_id = $1 ORDER BY w.number, g.repair_round
            """, [plan]).rows.map { "wave \(try $0.decode(Int.self, 0)) round \(try $0.decode(Int.self, 1)): \(try $0.decode(Bool.self, 2) ? "passed" : "failed")" }
    }

    /// For each attempt of the atom writing `path` that was not accepted, in order, its failing
    /// validators as "name: message".
    func refusals(_ plan: UUID, _ path: String) throws -> [[String]] {
        try connection.query("""
            SELECT x.validation FROM atom_attempts x JOIN atoms a ON a.id = x.atom_id
            WHERE a.plan_id = $1 AND a.file_path = $2 AND NOT x.accepted ORDER BY x.attempt
            """, [plan, path]).rows.map { row in
                (try row.decode(JSONValue.self, 0).arrayValue ?? []).filter { $0["passed"]?.boolValue == false }
                    .map { "\($0["name"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" }
            }
    }

    /// The output of the named test's gate runs that ended `status`.
    func gateOutputs(_ plan: UUID, test name: String, status: String) throws -> [String] {
        try connection.query("""
            SELECT r.output_tail FROM test_runs r JOIN acceptance_tests t ON t.id = r.test_id
            WHERE r.plan_id = $1 AND t.name = $2 AND r.kind = 'gate' AND r.status = $3 ORDER BY r.created_at
            """, [plan, name, status]).rows.map { try $0.decode(String.self, 0) }
    }

    /// The plan's history events whose name starts with `prefix`, with their data, in order.
    func history(_ plan: UUID, prefix: String) throws -> [(event: String, data: JSONValue)] {
        try connection.query("SELECT event, data FROM plan_history WHERE plan_id = $1 AND starts_with(event, $2) ORDER BY id",
                             [plan, prefix]).rows.map { (try $0.decode(String.self, 0), try $0.decode(JSONValue.self, 1)) }
    }
}
