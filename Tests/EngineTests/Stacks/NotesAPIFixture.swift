import JSON
import LLM

/// A scripted model for a small Node.js project: a JSON API for notes on Node's standard library
/// (node:http), tested with node:test. It holds the generation answers (discovery, plan, acceptance
/// tests), the reference content of every file, and the wrong answers of the repair paths.
enum NotesAPIFixture: ScriptedProject {
    static let request = "Build a small JSON API for notes in Node.js with only the standard library"

    static let discovery = #"""
        {"domain": "personal notes",
         "bounded_contexts": [{"name": "Notes", "description": "Keeps short text notes in memory and serves them over HTTP.",
                               "responsibilities": ["store notes", "serve the notes API"]}],
         "aggregates": [],
         "value_objects": [],
         "domain_events": [],
         "services": [{"name": "NotesAPI", "bounded_context": "Notes", "description": "The HTTP routes.", "operations": ["create", "list", "read", "delete"]}],
         "assumptions": ["Notes live in memory; a restart forgets them.", "Only Node's standard library is used."],
         "clarifications": [{"question": "Should notes be saved to disk?", "assumed_answer": "No: memory is enough for this service."}],
         "risks": [{"description": "A large request body could exhaust memory.", "severity": "low",
                    "mitigation": "Bodies over 64 KiB are refused."}]}
        """#

    static let plan = #"""
        {"project_name": "notes-api",
         "summary": "A JSON API for short text notes, kept in memory, on Node's standard library (node:http), tested with node:test.",
         "tech_stack": {"language": "JavaScript (Node.js)", "framework": null, "database": null, "test_command": "node --test", "other": []},
         "phases": [
          {"number": 1, "kind": "core", "name": "Service", "description": "The store and the HTTP API.",
           "milestones": [
            {"number": 1, "name": "Working API", "description": "Notes can be created, listed, read and deleted over HTTP.",
             "tasks": [
              {"number": 1, "name": "Notes store",
               "description": "package.json names the project notes-api (CommonJS, no dependencies, scripts start = node src/server.js and test = node --test). src/store.js exports createStore(): an in-memory store whose add(text) trims the text, refuses an empty one with a TypeError and returns {id, text, createdAt} with ids counting from 1; list() returns the notes in order; get(id) returns the note or null; remove(id) returns whether it removed one.",
               "complexity": "low", "depends_on": [], "files": ["package.json", "src/store.js"],
               "subtasks": [{"number": 1, "name": "createStore", "description": "add, list, get and remove."}],
               "acceptance": [{"priority": "must", "criterion": "createStore().add(\"  call Bob  \") returns a note whose text is \"call Bob\" and whose id is 1; get(7) returns null; remove(1) returns true once"}]},
              {"number": 2, "name": "HTTP API",
               "description": "src/app.js exports createApp(store = createStore()) returning an http.Server: GET /health answers 200 {\"status\": \"ok\"}; GET /notes answers 200 with the list; POST /notes with JSON {\"text\": …} answers 201 with the new note, and 400 application/problem+json for a body that is not JSON or has no text; GET /notes/:id answers 200 with the note or 404 problem+json; DELETE /notes/:id answers 204 or 404. src/server.js listens on PORT (default 3000).",
               "complexity": "medium", "depends_on": [1], "files": ["src/app.js", "src/server.js"],
               "subtasks": [{"number": 1, "name": "Routes", "description": "health, list, create, read and delete."}],
               "acceptance": [{"priority": "must", "criterion": "POST /notes with {\"text\": \"buy milk\"} answers 201 with the note, which GET /notes and GET /notes/1 then return"},
                              {"priority": "should", "criterion": "POST /notes with a body that is not JSON answers 400 application/problem+json, and GET /notes/99 answers 404"}]}
             ]}]},
          {"number": 2, "kind": "polish", "name": "Documentation", "description": "Tell people how to run it.",
           "milestones": [
            {"number": 1, "name": "README", "description": "Usage documented.",
             "tasks": [
              {"number": 3, "name": "README", "description": "README.md says what notes-api does, how to start it (npm start) and test it (node --test), and lists the routes.",
               "complexity": "low", "depends_on": [2], "files": ["README.md"], "subtasks": [], "acceptance": []}
             ]}]}
         ]}
        """#

    // MARK: - Acceptance tests (real node:test code against the plan's files)

    static let storeTest = """
        const test = require("node:test");
        const assert = require("node:assert/strict");
        const { createStore } = require("../src/store.js");

        test("the store adds, lists, gets and removes notes", () => {
          const store = createStore();
          const first = store.add("buy milk");
          const second = store.add("  call Bob  ");
          assert.equal(first.id, 1);
          assert.equal(second.id, 2);
          assert.equal(second.text, "call Bob");
          assert.deepEqual(store.list().map((note) => note.text), ["buy milk", "call Bob"]);
          assert.equal(store.get(2).text, "call Bob");
          assert.equal(store.get(7), null);
          assert.equal(store.remove(1), true);
          assert.equal(store.remove(1), false);
          assert.deepEqual(store.list().map((note) => note.id), [2]);
        });

        test("the store refuses empty text", () => {
          assert.throws(() => createStore().add("   "), TypeError);
        });

        """

    /// The HTTP helpers both API test files use (each file stands alone).
    static let httpHelpers = """
        const http = require("node:http");
        const { createApp } = require("../src/app.js");

        async function withServer(run) {
          const server = createApp();
          await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
          const base = `http://127.0.0.1:${server.address().port}`;
          try {
            await run(base);
          } finally {
            await new Promise((resolve) => server.close(resolve));
          }
        }

        function request(base, method, path, body) {
          return new Promise((resolve, reject) => {
            const headers = body === undefined ? {} : { "content-type": "application/json" };
            const outgoing = http.request(base + path, { method, headers }, (response) => {
              const chunks = [];
              response.on("data", (chunk) => chunks.push(chunk));
              response.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                resolve({ status: response.statusCode, type: response.headers["content-type"], body: text ? JSON.parse(text) : null });
              });
            });
            outgoing.on("error", reject);
            if (body !== undefined) outgoing.write(typeof body === "string" ? body : JSON.stringify(body));
            outgoing.end();
          });
        }

        """

    static let apiTest = """
        const test = require("node:test");
        const assert = require("node:assert/strict");
        \(httpHelpers)
        test("notes are created, listed and read over HTTP", async () => {
          await withServer(async (base) => {
            const created = await request(base, "POST", "/notes", { text: "buy milk" });
            assert.equal(created.status, 201);
            assert.equal(created.body.text, "buy milk");
            const listed = await request(base, "GET", "/notes");
            assert.equal(listed.status, 200);
            assert.deepEqual(listed.body.map((note) => note.text), ["buy milk"]);
            const read = await request(base, "GET", `/notes/${created.body.id}`);
            assert.equal(read.status, 200);
            assert.equal(read.body.text, "buy milk");
          });
        });

        test("the health route answers ok", async () => {
          await withServer(async (base) => {
            const health = await request(base, "GET", "/health");
            assert.equal(health.status, 200);
            assert.deepEqual(health.body, { status: "ok" });
          });
        });

        """

    static let errorsTest = """
        const test = require("node:test");
        const assert = require("node:assert/strict");
        \(httpHelpers)
        test("bad input and unknown notes answer problem+json", async () => {
          await withServer(async (base) => {
            const bad = await request(base, "POST", "/notes", "{not json");
            assert.equal(bad.status, 400);
            assert.match(bad.type, /application\\/problem\\+json/);
            const missing = await request(base, "GET", "/notes/99");
            assert.equal(missing.status, 404);
          });
        });

        """

    static var acceptanceTestsJSON: JSONValue {
        ["tests": [
            ["name": "store", "priority": "must", "covers": [1], "file": "test/store.test.js", "code": .string(storeTest)],
            ["name": "api", "priority": "must", "covers": [2], "file": "test/api.test.js", "code": .string(apiTest)],
            ["name": "errors", "priority": "should", "covers": [2], "file": "test/errors.test.js", "code": .string(errorsTest)],
        ]]
    }

    // MARK: - Reference implementation

    static let tasks: [String: Int] = ["package.json": 1, "src/store.js": 1, "src/app.js": 2, "src/server.js": 2, "README.md": 3]

    static let files: [(path: String, content: String)] = [
        ("package.json", """
            {
              "name": "notes-api",
              "version": "1.0.0",
              "description": "A JSON API for notes on Node's standard library.",
              "main": "src/server.js",
              "type": "commonjs",
              "scripts": { "start": "node src/server.js", "test": "node --test" },
              "license": "MIT"
            }

            """),
        ("src/store.js", storeSource),
        ("src/app.js", appSource(createdStatus: 201)),
        ("src/server.js", """
            "use strict";

            const { createApp } = require("./app.js");

            const port = Number(process.env.PORT || 3000);
            createApp().listen(port, () => {
              console.log(`notes-api listening on http://localhost:${port}`);
            });

            """),
        ("README.md", """
            # notes-api

            A JSON API for short text notes, kept in memory, on Node's standard library.

                npm start            # listens on PORT (3000)
                node --test          # runs the tests

            Routes: `GET /health`, `GET /notes`, `POST /notes` (`{"text": …}`), `GET /notes/:id`, `DELETE /notes/:id`.
            Errors are `application/problem+json`.

            """),
    ]

    static let storeSource = """
        "use strict";

        /** An in-memory store of notes ({ id, text, createdAt }); ids count up from 1. */
        function createStore() {
          const notes = new Map();
          let nextId = 1;
          return {
            add(text) {
              if (typeof text !== "string" || text.trim() === "") {
                throw new TypeError("text must be a non-empty string");
              }
              const note = { id: nextId++, text: text.trim(), createdAt: new Date().toISOString() };
              notes.set(note.id, note);
              return note;
            },
            list() {
              return [...notes.values()];
            },
            get(id) {
              return notes.get(id) ?? null;
            },
            remove(id) {
              return notes.delete(id);
            },
          };
        }

        module.exports = { createStore };

        """

    /// The store with a missing brace: `node --check` refuses it (the retry's first answer).
    static var storeWithSyntaxError: String {
        storeSource.replacingOccurrences(of: "    list() {\n      return [...notes.values()];\n    },", with: "    list() {\n      return [...notes.values()];\n    ,")
    }

    static func appSource(createdStatus: Int) -> String {
        """
        "use strict";

        const http = require("node:http");
        const { createStore } = require("./store.js");

        function send(response, status, body) {
          const data = JSON.stringify(body);
          const type = status >= 400 ? "application/problem+json" : "application/json";
          response.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(data) });
          response.end(data);
        }

        function problem(response, status, title, detail) {
          send(response, status, { type: "about:blank", title, status, detail });
        }

        function readJSON(request, limit = 64 * 1024) {
          return new Promise((resolve, reject) => {
            let size = 0;
            const chunks = [];
            request.on("data", (chunk) => {
              size += chunk.length;
              if (size > limit) {
                reject(new Error("the body is larger than 64 KiB"));
                request.destroy();
                return;
              }
              chunks.push(chunk);
            });
            request.on("end", () => {
              try {
                resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
              } catch {
                reject(new Error("the body is not valid JSON"));
              }
            });
            request.on("error", reject);
          });
        }

        function createApp(store = createStore()) {
          return http.createServer(async (request, response) => {
            const url = new URL(request.url, "http://localhost");
            const match = url.pathname.match(/^\\/notes\\/(\\d+)$/);
            try {
              if (request.method === "GET" && url.pathname === "/health") return send(response, 200, { status: "ok" });
              if (url.pathname === "/notes" && request.method === "GET") return send(response, 200, store.list());
              if (url.pathname === "/notes" && request.method === "POST") {
                let body;
                try {
                  body = await readJSON(request);
                } catch (error) {
                  return problem(response, 400, "Bad request", error.message);
                }
                if (!body || typeof body.text !== "string" || body.text.trim() === "") {
                  return problem(response, 400, "Bad request", "text must be a non-empty string");
                }
                return send(response, \(createdStatus), store.add(body.text));
              }
              if (match && request.method === "GET") {
                const note = store.get(Number(match[1]));
                return note ? send(response, 200, note) : problem(response, 404, "Not found", `no note ${match[1]}`);
              }
              if (match && request.method === "DELETE") {
                if (!store.remove(Number(match[1]))) return problem(response, 404, "Not found", `no note ${match[1]}`);
                response.writeHead(204);
                return response.end();
              }
              return problem(response, 404, "Not found", `${request.method} ${url.pathname} is not a route`);
            } catch (error) {
              return problem(response, 500, "Internal error", error.message);
            }
          });
        }

        module.exports = { createApp };

        """
    }
}
