import Foundation
import JSON
import PlanCore

extension ProgressEvent {
    /// `acceptance_test_result`: one approved acceptance test ran in a wave's gate.
    public struct AcceptanceTestResult: Sendable, Equatable {
        public var testID: UUID
        public var name: String
        public var file: String
        /// `must`, `should` or `could`.
        public var priority: String
        public var wave: Int
        public var repairRound: Int
        /// `passed`, `failed`, `error` or `timeout`.
        public var status: String
        public var durationMilliseconds: Int64
        /// Why it did not pass, when the runner knows.
        public var reason: String?
        /// Test cases reported, and how many passed.
        public var cases: Int
        public var casesPassed: Int
        /// The verdict of running it without the code it covers (a MUST test that still passes proves nothing).
        public var mutation: String?

        public init(testID: UUID, name: String, file: String, priority: String, wave: Int, repairRound: Int, status: String,
                    durationMilliseconds: Int64, reason: String?, cases: Int, casesPassed: Int, mutation: String?) {
            self.testID = testID
            self.name = name
            self.file = file
            self.priority = priority
            self.wave = wave
            self.repairRound = repairRound
            self.status = status
            self.durationMilliseconds = durationMilliseconds
            self.reason = reason
            self.cases = cases
            self.casesPassed = casesPassed
            self.mutation = mutation
        }

        public var json: JSONObject {
            ["test_id": testID.feedJSON, "name": .string(name), "file": .string(file), "priority": .string(priority),
             "wave": JSONValue(wave), "repair_round": JSONValue(repairRound), "status": .string(status),
             "duration_ms": .int(durationMilliseconds), "reason": JSONValue(reason), "cases": JSONValue(cases),
             "cases_passed": JSONValue(casesPassed), "mutation": JSONValue(mutation)]
        }
    }

    /// A test that counts against Gate S, as the `gate_validation_result` event and `gate_results.failing_tests` list it.
    public struct FailingTest: Sendable, Equatable {
        /// The test's id as Gate S names it (lowercase).
        public var testID: String
        public var name: String?
        public var priority: String
        /// Its outcome, or `not_run`.
        public var status: String

        public init(testID: String, name: String?, priority: String, status: String) {
            self.testID = testID
            self.name = name
            self.priority = priority
            self.status = status
        }

        public var json: JSONValue {
            ["test_id": .string(testID), "name": JSONValue(name), "priority": .string(priority), "status": .string(status)]
        }
    }

    /// `gate_validation_result`: Gate S was evaluated for a wave (or, `final`, over every test).
    public struct GateValidationResult: Sendable, Equatable {
        public var wave: Int
        public var repairRound: Int
        public var passed: Bool
        public var mustTotal: Int
        public var mustPassed: Int
        public var shouldTotal: Int
        public var shouldPassed: Int
        public var failingTests: [FailingTest]
        /// True when every test ran (the last wave, or the final gate).
        public var final: Bool
        /// The commit a final gate ran on, when the gate was run again on accepted content after the last wave.
        public var finalGateCommit: String?

        public init(wave: Int, repairRound: Int, passed: Bool, mustTotal: Int, mustPassed: Int, shouldTotal: Int, shouldPassed: Int,
                    failingTests: [FailingTest], final: Bool, finalGateCommit: String? = nil) {
            self.wave = wave
            self.repairRound = repairRound
            self.passed = passed
            self.mustTotal = mustTotal
            self.mustPassed = mustPassed
            self.shouldTotal = shouldTotal
            self.shouldPassed = shouldPassed
            self.failingTests = failingTests
            self.final = final
            self.finalGateCommit = finalGateCommit
        }

        public var json: JSONObject {
            var object: JSONObject = [
                "wave": JSONValue(wave), "repair_round": JSONValue(repairRound), "passed": .bool(passed),
                "must_total": JSONValue(mustTotal), "must_passed": JSONValue(mustPassed),
                "should_total": JSONValue(shouldTotal), "should_passed": JSONValue(shouldPassed),
                "failing_tests": .array(failingTests.map(\.json)), "final": .bool(final),
            ]
            if let finalGateCommit {
                object["final_gate"] = true
                object["commit"] = .string(finalGateCommit)
            }
            return object
        }
    }

    /// `wave_execution_complete`: a wave ended, passed (its gate passed) or waived (reviewers accepted
    /// its failing tests with a reason). A waived wave is never passed.
    public struct WaveExecutionComplete: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            case passed(atoms: Int, repairRounds: Int, testsRun: Int)
            case waived(reasons: [String])
        }

        public var wave: Int
        public var commit: String?
        public var outcome: Outcome

        public init(wave: Int, commit: String?, outcome: Outcome) {
            self.wave = wave
            self.commit = commit
            self.outcome = outcome
        }

        public var json: JSONObject {
            var object: JSONObject = ["wave": JSONValue(wave), "commit": JSONValue(commit)]
            switch outcome {
            case .passed(let atoms, let repairRounds, let testsRun):
                object["status"] = .string(WaveStatus.passed.rawValue)
                object["atoms"] = JSONValue(atoms)
                object["repair_rounds"] = JSONValue(repairRounds)
                object["tests_run"] = JSONValue(testsRun)
            case .waived(let reasons):
                object["status"] = .string(WaveStatus.waived.rawValue)
                object["waived"] = true
                object["waiver_reasons"] = JSONValue(reasons)
            }
            return object
        }
    }

    /// `masterplan_execution_complete`: the plan completed, saying how it was proven.
    public struct MasterplanExecutionComplete: Sendable, Equatable {
        /// A failing test reviewers accepted, with their reason.
        public struct Waiver: Sendable, Equatable {
            public var testID: String
            public var name: String?
            public var reason: String
            public var waivedBy: String
            /// ISO 8601.
            public var waivedAt: String

            public init(testID: String, name: String?, reason: String, waivedBy: String, waivedAt: String) {
                self.testID = testID
                self.name = name
                self.reason = reason
                self.waivedBy = waivedBy
                self.waivedAt = waivedAt
            }
        }

        /// `verified` or `accepted_with_waivers`.
        public var verification: String
        public var waivers: [Waiver]
        public var totalWaves: Int
        public var totalAtoms: Int
        public var costUSD: Double
        public var workspace: String
        /// The workspace's last commit.
        public var commit: String?

        public init(verification: String, waivers: [Waiver], totalWaves: Int, totalAtoms: Int, costUSD: Double, workspace: String,
                    commit: String?) {
            self.verification = verification
            self.waivers = waivers
            self.totalWaves = totalWaves
            self.totalAtoms = totalAtoms
            self.costUSD = costUSD
            self.workspace = workspace
            self.commit = commit
        }

        public var json: JSONObject {
            ["status": "completed", "verification": .string(verification),
             "waivers": .array(waivers.map {
                 ["test_id": .string($0.testID), "name": JSONValue($0.name), "reason": .string($0.reason),
                  "waived_by": .string($0.waivedBy), "waived_at": .string($0.waivedAt)]
             }),
             "total_waves": JSONValue(totalWaves), "total_atoms": JSONValue(totalAtoms), "cost_usd": .double(costUSD),
             "workspace": .string(workspace), "commit": JSONValue(commit)]
        }
    }
}
