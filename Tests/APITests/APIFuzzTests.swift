import API
import Foundation
import JSON
import PlanCore
import Postgres
import Store
import TestSupport
import Testing

/// A schema-driven fuzzer over every operation of the served OpenAPI document (every path × method,
/// the event streams and the archive download included), through nginx, the worker pool and the
/// relay of the built binary, on a private database.
///
/// For each operation it sends a few hundred requests mixing schema-valid values with hostile ones
/// (`RequestFuzzer`): wrong types, huge and negative numbers, NaN-like and overlong strings, invalid
/// UTF-8, NULs, unknown fields, malformed JSON, missing, extra and repeated query parameters, forged
/// cursors, random ids and the other account's ids, and expired, forged and malformed tokens —
/// aimed at plans and reviews in the states the operation starts from (`FuzzWorld`). It checks:
/// no 5xx; every other error is problem+json whose `status` is the HTTP status and which the
/// document lists for the operation; every 2xx body fits the documented schema
/// (`OpenAPISchemas`); what the document refuses is never a 2xx and what it accepts is never
/// refused as invalid; refused tokens are 401 and the other account's ids are never a 2xx; a
/// refused request changes nothing, and no request changes the other account's data.
///
/// The run is deterministic: `MASTERPLAN_FUZZ_SEED` (default below) seeds every operation, and a
/// failure prints the seed, the request's number and the request, so it can be replayed.
/// `MASTERPLAN_FUZZ_REQUESTS` sets the requests per operation (default 200; 20 for the operations
/// that read no input), `MASTERPLAN_FUZZ_VERBOSE` prints each operation's time and statuses.
@Suite(.dedicatedThreads) struct APIFuzzTests {
    static let started: Result<APIStack, any Error> = {
        do {
            var options = APIStack.Options()
            options.workers = 4
            let stack = try APIStack(options)
            atexit { if case .success(let stack) = APIFuzzTests.started { stack.stop() } }
            return .success(stack)
        } catch {
            return .failure(error)
        }
    }()

    /// The world of the operations that only read (built once; they change nothing in it).
    static let sharedWorld: Result<FuzzWorld, any Error> = Result { try FuzzWorld(stack: try started.get()) }

    /// Every operation of the route table, as "METHOD template".
    static let operations: [String] = APIRoutes.all.map { "\($0.method) \($0.template)" }

    static let baseSeed: UInt64 = {
        let text = ProcessInfo.processInfo.environment["MASTERPLAN_FUZZ_SEED"] ?? ""
        return UInt64(text) ?? (text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : nil) ?? 20_260_117
    }()

    static let requestsPerOperation: Int = {
        Int(ProcessInfo.processInfo.environment["MASTERPLAN_FUZZ_REQUESTS"] ?? "").map { max(1, $0) } ?? 200
    }()

    /// The seed of one operation's run: the base seed mixed with the operation (FNV-1a).
    static func seed(for key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash ^ baseSeed
    }

    /// The document as the server serves it (fetched once).
    static let served: Result<JSONValue, any Error> = Result { try servedDocument(try started.get()) }

    static func servedDocument(_ stack: APIStack) throws -> JSONValue {
        let response = try stack.call("GET", "/api/v1/openapi.json")
        guard response.status == 200, let document = response.json else {
            throw FuzzFailure("GET /api/v1/openapi.json answered \(response.status): \(response.text.prefix(300))")
        }
        return document
    }

    @Test func theServedDocumentHasEveryOperationAndOnlyRulesTheValidatorKnows() throws {
        let stack = try Self.started.get()
        let document = try Self.servedDocument(stack)
        let served = try DocumentedOperation.all(in: document).map(\.key)
        #expect(Set(served) == Set(Self.operations), "served: \(Set(served).symmetricDifference(Self.operations))")
        #expect(served.count == Self.operations.count)
        // Every schema in the document (and, through them, every schema they contain or refer to)
        // is one the JSON module's validator applies faithfully: no unknown keyword or format, no
        // reference that points nowhere.
        let validator = OpenAPISchemas(document: document)
        var schemas: [JSONValue] = document["components"]?["schemas"]?.objectValue?.members.map(\.value) ?? []
        for operation in try DocumentedOperation.all(in: document) {
            schemas += operation.pathParameters.map(\.schema) + operation.queryParameters.map(\.schema)
        }
        let unknown = schemas.compactMap { schema -> String? in
            guard case .failure(let error) = validator.validator(for: schema) else { return nil }
            return error.description
        }
        #expect(unknown.isEmpty, "\(Set(unknown).sorted().prefix(20))")
    }

    @Test(arguments: operations)
    func noRequestAnswers5xxOrBreaksTheDocument(_ key: String) throws {
        let stack = try Self.started.get()
        let document = try Self.served.get()
        let operation = try #require(try DocumentedOperation.all(in: document).first { $0.key == key },
                                     "the served document has no \(key)")
        let report = try Self.fuzz(operation, stack: stack, document: document)
        for failure in report.failures { Issue.record(Comment(rawValue: failure)) }
        if ProcessInfo.processInfo.environment["MASTERPLAN_FUZZ_VERBOSE"] != nil {
            print("fuzz \(key): \(String(format: "%.1f s (world %.1f s)", report.seconds, report.worldSeconds)), "
                  + report.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " "))
        }
        // The run reached the operation's real work, and its refusals: a 401 for bad tokens, a 400
        // or 422 for hostile values where it reads any.
        #expect(report.successes > 0, "\(key): no request reached the operation's success path (\(report.statuses)); \(report.replay)")
        if operation.requiresAuth { #expect(report.statuses[401] != nil, "\(key): no 401 (\(report.statuses))") }
        if operation.requestSchema != nil {
            #expect(report.statuses[422] != nil && report.statuses[400] != nil, "\(key): no 400 and 422 (\(report.statuses))")
        } else if !operation.queryParameters.isEmpty {
            #expect(report.statuses[400] != nil, "\(key): no 400 (\(report.statuses))")
        }
    }

    /// What one operation's run found.
    struct Report: Sendable {
        var replay: String
        var failures: [String] = []
        var statuses: [Int: Int] = [:]
        var seconds = 0.0
        var worldSeconds = 0.0
        var successes: Int { statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) }
    }

    /// Sends `requestsPerOperation` requests to one operation and checks every answer.
    static func fuzz(_ operation: DocumentedOperation, stack: APIStack, document: JSONValue) throws -> Report {
        let started = Date()
        let validator = OpenAPISchemas(document: document)
        let world = operation.changesState ? try FuzzWorld(stack: stack) : try sharedWorld.get()
        let db = operation.changesState ? world.db : try stack.database()
        let worldSeconds = Date().timeIntervalSince(started)
        let seed = seed(for: operation.key)
        var report = Report(replay: "replay with MASTERPLAN_FUZZ_SEED=\(baseSeed) swift test --filter 'APIFuzzTests' "
                                    + "(operation \(operation.key), seed \(seed))")
        var fuzzer = RequestFuzzer(operation: operation, validator: validator, world: world, seed: seed)

        // An operation that reads nothing from the request (no token, parameter or body: health,
        // metrics, this document) has only ignored query parameters and tokens to vary.
        let readsInput = operation.requiresAuth || !operation.pathParameters.isEmpty || !operation.queryParameters.isEmpty
            || operation.requestSchema != nil
        let count = readsInput ? requestsPerOperation : min(requestsPerOperation, 20)
        var fingerprints = try world.fingerprints(db)
        for index in 0..<count {
            if operation.changesState && index % 20 == 19, try world.replenish() { fingerprints = try world.fingerprints(db) }
            let request = fuzzer.next()
            let response: FuzzResponse
            do {
                response = try FuzzResponse.exchange(request, port: stack.port, stream: operation.isStream)
            } catch {
                report.failures.append("\(report.replay)\nrequest #\(index): \(request)\nno answer: \(error)")
                if report.failures.count >= 8 { break }
                continue
            }
            report.statuses[response.status, default: 0] += 1
            fuzzer.observe(request, response)
            var found = problems(of: response, to: request, operation: operation, validator: validator)

            let success = (200..<300).contains(response.status)
            if success, let next = response.json?["next_cursor"]?.stringValue, !fuzzer.cursors.contains(next) {
                fuzzer.cursors.append(next)
            }
            if operation.changesState || index == count - 1 {
                let after = try world.fingerprints(db)
                if after.accounts != fingerprints.accounts { found.append("a request changed the owner's or the other account itself") }
                if after.managed != fingerprints.managed && !(success && operation.tag == "users") {
                    found.append("a request that is not a successful account change changed a managed account")
                }
                if !success {
                    if after.owner != fingerprints.owner { found.append("a refused request changed the owner's data") }
                    if after.stranger != fingerprints.stranger { found.append("a refused request changed the other account's data") }
                } else if request.identity == .owner && after.stranger != fingerprints.stranger {
                    found.append("the owner's request changed the other account's data")
                } else if request.identity == .stranger && after.owner != fingerprints.owner {
                    found.append("the other account's request changed the owner's data")
                } else if !operation.changesState && after != fingerprints {
                    found.append("a GET changed data")
                }
                if success, let planID = request.planID, operation.template.hasPrefix("/api/v1/masterplans/{id}/"),
                   operation.method == "POST", let answered = response.json?["status"]?.stringValue {
                    let stored = try world.status(of: planID, db)
                    if stored != answered { found.append("answered status \(answered) but the plan is \(stored ?? "gone")") }
                }
                fingerprints = after
            }
            if success && operation.changesState { try world.refresh() }

            if !found.isEmpty {
                let answer = "\(response.status) \(response.headers["content-type"] ?? "-") \(response.text.prefix(600))"
                report.failures.append("\(report.replay)\nrequest #\(index): \(request)\n→ \(answer)\n- " + found.joined(separator: "\n- "))
                if report.failures.count >= 8 { break }
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        report.worldSeconds = worldSeconds
        return report
    }

    /// What is wrong with one answer, by the document and the contract.
    static func problems(of response: FuzzResponse, to request: FuzzRequest, operation: DocumentedOperation,
                         validator: OpenAPISchemas) -> [String] {
        var found: [String] = []
        let status = response.status
        let success = (200..<300).contains(status)
        if status >= 500 { found.append("a \(status)") }
        if success {
            if status != operation.successStatus { found.append("2xx status \(status), documented \(operation.successStatus)") }
            if response.mediaType != FuzzResponse.mediaType(of: operation.successContentType) {
                found.append("content type \(response.mediaType), documented \(operation.successContentType)")
            }
            if let schema = operation.successSchema {
                if let body = response.json {
                    let errors = validator.errors(body, against: schema)
                    if !errors.isEmpty { found.append("the body does not fit the documented schema: \(errors.prefix(5))") }
                } else {
                    found.append("the body is not JSON")
                }
            } else if operation.successContentType == "application/gzip" && Array(response.body.prefix(2)) != [0x1f, 0x8b] {
                found.append("the archive is not gzip")
            } else if operation.isStream && !response.text.contains("retry:") {
                found.append("the stream did not start with retry:")
            }
        } else {
            if response.mediaType != "application/problem+json" { found.append("an error that is not application/problem+json") }
            let problem = response.json
            if problem?["type"]?.stringValue == nil { found.append("a problem without a type") }
            if problem?["title"]?.stringValue == nil { found.append("a problem without a title") }
            if problem?["status"]?.intValue != Int64(status) { found.append("a problem whose status is not \(status)") }
            if !operation.statuses.contains(status) { found.append("status \(status) is not documented for \(operation.key)") }
        }
        // nginx refuses an oversized body before the token is looked at; the relay answers an
        // unknown stream path, and a malformed Last-Event-ID, before it looks the account up.
        let answeredBeforeAuth = status == 413 || (operation.isStream && request.path == .invalid && response.problemType == "no-such-route")
            || (operation.isStream && request.query == .invalid && response.problemType == "invalid-parameter")
        if operation.requiresAuth && !answeredBeforeAuth {
            switch request.identity {
            case .refused(let kind) where status != 401: found.append("a \(kind) token was not refused with 401")
            case .anonymous where status != 401: found.append("no token, yet not 401")
            default: break
            }
        }
        if request.foreign && success { found.append("the other account's id answered 2xx") }
        if request.anyInvalid && success { found.append("the server accepted what the document refuses") }
        let refusedAsInvalid = ["invalid-parameter", "validation-failed", "malformed-json", "unsupported-media-type", "body-too-large"]
        if request.allValid, let type = response.problemType, refusedAsInvalid.contains(type) {
            found.append("the server refused as \(type) what the document accepts")
        }
        return found
    }
}

/// One answer as the fuzzer reads it: for an event stream, the head and the first frame.
struct FuzzResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var json: JSONValue?

    var text: String { String(decoding: body, as: UTF8.self) }

    var mediaType: String { Self.mediaType(of: headers["content-type"] ?? "") }

    /// A content type without its parameters, in lower case.
    static func mediaType(of contentType: String) -> String {
        contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    var problemType: String? {
        json?["type"]?.stringValue.map { String($0.dropFirst(Problem.typeBase.count)) }
    }

    static func exchange(_ request: FuzzRequest, port: UInt16, stream: Bool) throws -> FuzzResponse {
        let connection = try HTTPConnection(port: port, timeoutSeconds: 20)
        defer { connection.close() }
        try connection.send(request.method, request.target, headers: request.headers, body: request.body, version: stream ? "1.0" : "1.1")
        try connection.read(until: "\r\n\r\n")
        let head = connection.receivedText
        if stream, head.lowercased().contains("content-type: text/event-stream") {
            try connection.read(until: "retry:")
            let received = connection.received
            let end = HTTPConnection.find(received, Array("\r\n\r\n".utf8)) ?? 0
            let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            return FuzzResponse(status: status, headers: ["content-type": "text/event-stream"], body: Array(received[(end + 4)...]))
        }
        let response = try connection.readResponse()
        let type = response.headers["content-type"] ?? ""
        return FuzzResponse(status: response.status, headers: response.headers, body: response.body,
                            json: type.contains("json") ? try? JSONValue.parse(response.body) : nil)
    }
}
