import API
import JSON
import Testing

@Suite struct OpenAPIDocumentTests {
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
}
