import Foundation
import JSON

/// One operation (path × method) of the served OpenAPI document, as the fuzzer reads it.
struct DocumentedOperation: Sendable {
    var method: String
    var template: String
    var operationID: String
    /// The operation's first tag (`users` for account management).
    var tag: String
    var requiresAuth: Bool
    var pathParameters: [(name: String, schema: JSONValue)]
    var queryParameters: [(name: String, schema: JSONValue)]
    var headerParameters: [(name: String, schema: JSONValue)]
    /// The request body's schema (a `$ref`), if the operation takes one.
    var requestSchema: JSONValue?
    var requestRequired: Bool
    var successStatus: Int
    var successContentType: String
    /// The success body's schema, for JSON answers.
    var successSchema: JSONValue?
    /// Every status the document lists for the operation.
    var statuses: Set<Int>

    var key: String { "\(method) \(template)" }
    var isStream: Bool { successContentType == "text/event-stream" }
    var changesState: Bool { method != "GET" }

    init(method: String, template: String, operation: JSONValue) throws {
        self.method = method.uppercased()
        self.template = template
        operationID = operation["operationId"]?.stringValue ?? "\(method) \(template)"
        tag = operation["tags"]?[0]?.stringValue ?? ""
        requiresAuth = !(operation["security"]?.arrayValue ?? []).isEmpty
        pathParameters = []
        queryParameters = []
        headerParameters = []
        for parameter in operation["parameters"]?.arrayValue ?? [] {
            guard let name = parameter["name"]?.stringValue, let schema = parameter["schema"] else {
                throw FuzzFailure("\(template): a parameter without a name or schema")
            }
            switch parameter["in"]?.stringValue {
            case "path": pathParameters.append((name, schema))
            case "query": queryParameters.append((name, schema))
            case "header": headerParameters.append((name, schema))
            default: break
            }
        }
        requestSchema = operation["requestBody"]?["content"]?["application/json"]?["schema"]
        requestRequired = operation["requestBody"]?["required"]?.boolValue ?? false
        let responses = operation["responses"]?.objectValue ?? JSONObject()
        statuses = Set(responses.keys.compactMap { Int($0) })
        guard let success = statuses.filter({ (200..<300).contains($0) }).min(), let answer = responses[String(success)],
              let content = answer["content"]?.objectValue, let type = content.keys.first else {
            throw FuzzFailure("\(template): no documented 2xx answer with content")
        }
        successStatus = success
        successContentType = type
        successSchema = type == "application/json" ? content[type]?["schema"] : nil
    }

    /// Every operation of the document, in its order.
    static func all(in document: JSONValue) throws -> [DocumentedOperation] {
        guard let paths = document["paths"]?.objectValue else { throw FuzzFailure("the document has no paths") }
        var operations: [DocumentedOperation] = []
        for (template, item) in paths {
            for (method, operation) in item.objectValue ?? JSONObject() {
                operations.append(try DocumentedOperation(method: method, template: template, operation: operation))
            }
        }
        return operations
    }
}

/// A failure of the fuzzer's own machinery (not of the API).
struct FuzzFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
