import ArgumentParser
import Foundation

/// `--data-dir` of the executor and of `sandbox check`: the folder that holds the workspaces, else
/// `MASTERPLAN_DATA_DIR`, else /var/lib/masterplan (README, "Configuration"). `masterplan up` has its own
/// default (a folder in the current one) and declares its option itself.
struct DataDirectoryOptions: ParsableArguments {
    static let defaultDirectory = "/var/lib/masterplan"

    @Option(name: .customLong("data-dir"), help: "The data folder, which holds the workspaces (default: $MASTERPLAN_DATA_DIR, else /var/lib/masterplan).")
    var dataDirectory: String?

    /// The folder chosen, as given (possibly relative): the option, else the variable, else the default.
    func chosen(_ environment: [String: String]) -> String {
        dataDirectory ?? environment["MASTERPLAN_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultDirectory
    }
}
