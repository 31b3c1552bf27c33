import Foundation
@testable import API
import JSON
import PlanCore
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct OpenAPIDocumentTests {
    let document = OpenAPIDocument.document

    @Test func isOpenAPI31WithBearerSecurity() {
        #expect(document["openapi"]?.stringValue == "3.1.0")
        #expect(document["components"]?["securitySchemes"]?["bearerAuth"]?["scheme"]?.stringValue == "bearer")
    }

    @Test func everyRouteIsDocumentedWithItsMethodAndAuth() throws {
        let paths = try #require(document["paths"]?.objectValue)
        for route in APIRoutes.all {
            let operation = try #require(paths[route.template]?[route.method.lowercased()], "\(route.method) \(route.template) is missing")
            #expect(operation["operationId"]?.stringValue == route.handler.operationID)
            let security = operation["security"]?.arrayValue ?? []
            #expect(security.isEmpty == !route.handler.requiresAuth, "\(route.template): security does not match the route")
            #expect(operation["responses"]?[String(route.handler.successStatus)] != nil)
            for segment in route.segments {
                if case .parameter(let name) = segment {
                    let parameters = operation["parameters"]?.arrayValue ?? []
                    #expect(parameters.contains { $0["name"]?.stringValue == name && $0["in"]?.stringValue == "path" },
                            "\(route.template): path parameter \(name) is not documented")
                }
            }
        }
        let documented = paths.members.reduce(0) { $0 + ($1.value.objectValue?.count ?? 0) }
        #expect(documented == APIRoutes.all.count, "the document has operations no route serves")
    }

    @Test func operationIdsAreUnique() {
        let ids = APIRoutes.all.map(\.handler.operationID)
        #expect(Set(ids).count == ids.count)
    }

    @Test func everySchemaReferenceResolves() throws {
        let schemas = try #require(document["components"]?["schemas"]?.objectValue)
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for (key, member) in object {
                    if key == "$ref", let text = member.stringValue { references.append(text) } else { collect(member) }
                }
            case .array(let elements): elements.forEach(collect)
            default: break
            }
        }
        collect(document)
        #expect(!references.isEmpty)
        for reference in Set(references) {
            let name = reference.replacingOccurrences(of: "#/components/schemas/", with: "")
            #expect(schemas[name] != nil, "\(reference) does not resolve")
        }
    }

    @Test func everyPlanActionOfTheStateMachineHasARoute() {
        let paths = Set(APIRoutes.all.map(\.template))
        for action in ["approve", "reject", "regenerate", "execute", "pause", "resume", "cancel"] {
            #expect(paths.contains("/api/v1/masterplans/{id}/\(action)"))
        }
    }

    // MARK: - As strict as the server

    var schemas: JSONObject { document["components"]?["schemas"]?.objectValue ?? JSONObject() }

    func resolve(_ schema: JSONValue?) -> JSONValue? {
        guard let reference = schema?["$ref"]?.stringValue else { return schema }
        return schemas[String(reference.dropFirst("#/components/schemas/".count))]
    }

    /// The request schemas of every operation, by operation.
    var requestSchemas: [(operation: String, name: String, schema: JSONValue)] {
        APIRoutes.all.compactMap { route in
            guard let name = route.handler.requestSchema, let schema = schemas[name] else { return nil }
            return (route.handler.operationID, name, schema)
        }
    }

    @Test func everyOperationListsTheStatusesItsShapeCanAnswer() throws {
        for route in APIRoutes.all {
            let operation = try #require(document["paths"]?[route.template]?[route.method.lowercased()])
            let statuses = Set(operation["responses"]?.objectValue?.keys ?? [])
            var expected: Set<String> = ["500", "503"]
            if route.handler.requiresAuth { expected.insert("401") }
            if route.segments.contains(where: { if case .parameter = $0 { true } else { false } }) { expected.insert("404") }
            if !route.handler.queryParameters.isEmpty { expected.insert("400") }
            if route.handler.requestSchema != nil { expected.formUnion(["400", "413", "415", "422"]) }
            #expect(expected.isSubset(of: statuses), "\(route.method) \(route.template): missing \(expected.subtracting(statuses).sorted())")
        }
    }

    @Test func everyRequestSchemaRefusesMembersTheHandlerDoesNotRead() throws {
        var checked = 0
        func walk(_ schema: JSONValue?, _ label: String) {
            guard let schema = resolve(schema) else { return }
            if schema["properties"] != nil {
                checked += 1
                #expect(schema["additionalProperties"] == false, "\(label) allows unknown members")
            }
            schema["properties"]?.objectValue?.members.forEach { walk($0.value, label + "." + $0.key) }
            walk(schema["items"], label + "[]")
        }
        for (operation, name, schema) in requestSchemas { walk(schema, "\(operation) \(name)") }
        #expect(checked >= requestSchemas.count)
    }

    @Test func requestSchemasNameExactlyTheFieldsTheHandlersRead() throws {
        func fields(_ name: String) -> Set<String> { Set(schemas[name]?["properties"]?.objectValue?.keys ?? []) }
        for route in APIRoutes.all where route.template.hasPrefix("/api/v1/masterplans/{id}/") && route.method == "POST" {
            guard let action = PlanEvent.allCases.first(where: { route.template.hasSuffix("/" + $0.rawValue) }),
                  let name = route.handler.requestSchema else { continue }
            #expect(fields(name) == Set(APIApplication.bodyFields(of: action)), "\(action.rawValue): \(name)")
        }
        for route in APIRoutes.all where route.template.hasPrefix("/api/v1/reviews/{id}/") {
            let event = try #require(ReviewEvent.allCases.first { route.template.hasSuffix("/" + $0.rawValue) })
            let name = try #require(route.handler.requestSchema)
            #expect(fields(name) == Set(APIApplication.bodyFields(of: event)), "\(event.rawValue): \(name)")
        }
        #expect(fields("TaskEdit") == Set(TaskEdit.fields))
        #expect(fields("SubtaskEdit") == Set(TaskEdit.subtaskFields))
        #expect(fields("CriterionEdit") == Set(TaskEdit.criterionFields))
    }

    @Test func everyRequestStringAndNumberIsBounded() throws {
        func walk(_ schema: JSONValue?, _ label: String) {
            guard let schema = resolve(schema) else { return }
            let types = schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? schema["type"]?.stringValue.map { [$0] } ?? []
            if types.contains("string") && schema["enum"] == nil && schema["format"] == nil {
                #expect(schema["maxLength"]?.intValue != nil, "\(label): a string without maxLength")
            }
            if types.contains("integer") || types.contains("number") {
                #expect(schema["minimum"] != nil && schema["maximum"] != nil, "\(label): a number without bounds")
            }
            if types.contains("array") { #expect(schema["maxItems"] != nil, "\(label): an array without maxItems") }
            schema["properties"]?.objectValue?.members.forEach { walk($0.value, label + "." + $0.key) }
            walk(schema["items"], label + "[]")
        }
        for (operation, name, schema) in requestSchemas { walk(schema, "\(operation) \(name)") }
        for route in APIRoutes.all {
            let parameters = document["paths"]?[route.template]?[route.method.lowercased()]?["parameters"]?.arrayValue ?? []
            for parameter in parameters where parameter["name"]?.stringValue != "access_token" {
                walk(parameter["schema"], "\(route.handler.operationID) \(parameter["name"]?.stringValue ?? "?")")
            }
        }
    }

    /// The pattern the document gives non-blank text and the handlers' test for blank text agree
    /// on every character of the Basic Multilingual Plane and a few beyond.
    @Test func theNonBlankPatternIsTheHandlersRule() throws {
        let expression = try NSRegularExpression(pattern: TextRules.nonBlankPattern)
        let scalars = (0...0xFFFF).compactMap(Unicode.Scalar.init) + [Unicode.Scalar(0x1F600)!, Unicode.Scalar(0xE0020)!]
        for scalar in scalars {
            let text = String(Character(scalar))
            let matches = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(matches == !TextRules.isBlank(scalar), "U+\(String(scalar.value, radix: 16))")
        }
    }

    @Test func bodyLimitsFitTheColumnsTheyAreStoredIn() {
        // octet_length CHECKs of Migrations/0014: 4 bytes per character at most.
        #expect(BodyLimits.confirmationReason * 4 <= 4_096)
        #expect(BodyLimits.waiverReason * 4 <= 8_192)
        // numeric(14,6) > 0 holds 0.000001 ..< 10^8.
        #expect(BodyLimits.budgetUSD.lowerBound >= 0.000001 && BodyLimits.budgetUSD.upperBound < 100_000_000)
        #expect(BodyLimits.number.upperBound == Int(Int32.max))
    }

    /// The pattern the document gives a new account's email and the handler's test agree.
    @Test func theEmailPatternIsTheHandlersRule() throws {
        let expression = try NSRegularExpression(pattern: TextRules.emailPattern)
        let samples = ["ann@example.org", "a@b", "ann@@example.org", "@example.org", "ann@", "", "ann example@x.org", "ann@x.org ",
                       "ann\u{00A0}@x.org", "ann@x\u{FEFF}.org", "ann@x\u{0085}.org", "Ann@Example.ORG", "ümlaut@dömain.de", "😀@😀",
                       "a@b@c", "a\n@b", "\u{3000}a@b"]
        for text in samples {
            let matches = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
            #expect(matches == TextRules.isEmailAddress(text), "\(text.debugDescription)")
        }
    }
}

