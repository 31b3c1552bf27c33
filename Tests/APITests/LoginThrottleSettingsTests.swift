import API
import Store
import Testing
import TestSupport

/// `MASTERPLAN_LOGIN_*`: defaults when unset, each value checked at start with one line naming it.
@Suite(.dedicatedThreads) struct LoginThrottleSettingsTests {
    @Test func unsetVariablesKeepTheDefaults() throws {
        let policy = try APIConfiguration.loginThrottle(from: [:])
        #expect(policy == LoginThrottlePolicy())
        #expect(policy == LoginThrottlePolicy(accountFailures: 5, addressFailures: 20, windowSeconds: 3600,
                                              backoffSeconds: 30, maxBackoffSeconds: 900))
    }

    @Test func everyVariableIsRead() throws {
        let policy = try APIConfiguration.loginThrottle(from: [
            "MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "3", "MASTERPLAN_LOGIN_ADDRESS_FAILURES": " 50 ",
            "MASTERPLAN_LOGIN_WINDOW_SECONDS": "600", "MASTERPLAN_LOGIN_BACKOFF_SECONDS": "2",
            "MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS": "60",
        ])
        #expect(policy == LoginThrottlePolicy(accountFailures: 3, addressFailures: 50, windowSeconds: 600,
                                              backoffSeconds: 2, maxBackoffSeconds: 60))
        let configuration = try APIConfiguration.fromEnvironment(
            ["MASTERPLAN_JWT_SECRET": String(repeating: "k", count: 40), "MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "7"],
            databaseURL: "x", migrationsDirectory: nil)
        #expect(configuration.loginThrottle.accountFailures == 7)
    }

    @Test(arguments: [
        (["MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "0"], "MASTERPLAN_LOGIN_ACCOUNT_FAILURES"),
        (["MASTERPLAN_LOGIN_ACCOUNT_FAILURES": "five"], "MASTERPLAN_LOGIN_ACCOUNT_FAILURES"),
        (["MASTERPLAN_LOGIN_ADDRESS_FAILURES": "-1"], "MASTERPLAN_LOGIN_ADDRESS_FAILURES"),
        (["MASTERPLAN_LOGIN_WINDOW_SECONDS": "1h"], "MASTERPLAN_LOGIN_WINDOW_SECONDS"),
        (["MASTERPLAN_LOGIN_WINDOW_SECONDS": "99999999"], "MASTERPLAN_LOGIN_WINDOW_SECONDS"),
        (["MASTERPLAN_LOGIN_BACKOFF_SECONDS": "0"], "MASTERPLAN_LOGIN_BACKOFF_SECONDS"),
        (["MASTERPLAN_LOGIN_BACKOFF_SECONDS": "1000"], "MASTERPLAN_LOGIN_BACKOFF_SECONDS"),
        (["MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS": "7200"], "MASTERPLAN_LOGIN_BACKOFF_MAX_SECONDS"),
    ])
    func aBadValueNamesItsVariable(environment: [String: String], variable: String) {
        #expect {
            _ = try APIConfiguration.loginThrottle(from: environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.variable == variable && error.description.hasPrefix(variable + " ")
        }
    }
}
