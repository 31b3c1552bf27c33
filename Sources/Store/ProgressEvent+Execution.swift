import Foundation
import JSON

extension ProgressEvent {
    /// `masterplan_execution_start`: an approved plan started executing.
    public struct MasterplanExecutionStart: Sendable, Equatable {
        public var totalAtoms: Int
        public var totalWaves: Int
        /// How many atoms may run at once.
        public var concurrency: Int
        /// The workspace folder.
        public var workspace: String

        public init(totalAtoms: Int, totalWaves: Int, concurrency: Int, workspace: String) {
            self.totalAtoms = totalAtoms
            self.totalWaves = totalWaves
            self.concurrency = concurrency
            self.workspace = workspace
        }

        public var json: JSONObject {
            ["total_atoms": JSONValue(totalAtoms), "total_waves": JSONValue(totalWaves), "concurrency": JSONValue(concurrency),
             "workspace": .string(workspace)]
        }
    }

    /// `wave_execution_start`: a wave started.
    public struct WaveExecutionStart: Sendable, Equatable {
        public var wave: Int
        public var atomCount: Int
        public var totalWaves: Int

        public init(wave: Int, atomCount: Int, totalWaves: Int) {
            self.wave = wave
            self.atomCount = atomCount
            self.totalWaves = totalWaves
        }

        public var json: JSONObject {
            ["wave": JSONValue(wave), "atom_count": JSONValue(atomCount), "total_waves": JSONValue(totalWaves)]
        }
    }

    /// `cost_warning`: the plan's spending crossed the warning share of its budget (once per plan).
    public struct CostWarning: Sendable, Equatable {
        public var spentUSD: Double
        public var budgetUSD: Double
        /// The share of the budget at which the warning is given.
        public var threshold: Double

        public init(spentUSD: Double, budgetUSD: Double, threshold: Double) {
            self.spentUSD = spentUSD
            self.budgetUSD = budgetUSD
            self.threshold = threshold
        }

        public var json: JSONObject {
            ["spent_usd": .double(spentUSD), "budget_usd": .double(budgetUSD), "share": .double(spentUSD / budgetUSD),
             "threshold": .double(threshold)]
        }
    }
}
