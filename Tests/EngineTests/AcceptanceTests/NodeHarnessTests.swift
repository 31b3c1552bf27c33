import Engine
import Foundation
import PlanCore
import Testing
import TestSupport

/// Node.js acceptance tests under `NodeHarness`, for real in the sandbox: a working module passes,
/// a broken one fails, and code that fails its test and tries to make the run pass anyway, the way a
/// cheating model would, never passes.
@Suite(.dedicatedThreads) struct NodeHarnessTests {
    typealias Attack = HarnessAttack

    static let brokenAdd = "exports.add = (a, b) => a - b;\n"

    static let test = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.js", code: """
        const test = require("node:test");
        const assert = require("node:assert");
        const { add } = require("../calc.js");

        test("adds two numbers", () => {
          assert.strictEqual(add(2, 3), 5);
        });

        test.describe("add", () => {
          test.it("adds negative numbers", () => {
            assert.strictEqual(add(-2, -3), -5);
          });
        });

        """)

    static let attacks: [Attack] = [
        Attack(name: "exits with status 0 when loaded", files: [("calc.js", "process.exit(0);\n" + brokenAdd)], reason: "exited early"),
        Attack(name: "exits with status 0 inside the test", files: [("calc.js", "exports.add = () => process.exit(0);\n")],
               reason: "exited early"),
        Attack(name: "kills itself", files: [("calc.js", "exports.add = () => process.kill(process.pid, 'SIGKILL');\n")],
               reason: "exited early", "signal"),
        Attack(name: "replaces assert.strictEqual", files: [("calc.js", "require('assert').strictEqual = () => {};\n" + brokenAdd)],
               reason: "could not be collected", "failed"),
        Attack(name: "mocks assert through node:test", files: [
            ("calc.js", "require('node:test').mock.method(require('node:assert'), 'strictEqual', () => {});\n" + brokenAdd),
        ], reason: "could not be collected", "failed"),
        Attack(name: "patches Object.is and the prototypes", files: [
            ("calc.js", "Object.is = () => true; Error.prototype.toString = () => '';\n" + brokenAdd),
        ], reason: "could not be collected", "failed"),
        Attack(name: "skips the test from the code", files: [
            ("calc.js", "const t = require('node:test'); t.test = t.skip;\n" + brokenAdd),
        ], reason: "could not be collected", "failed", "skipped"),
        Attack(name: "registers passing tests with the same names", files: [
            ("calc.js", "const { test } = require('node:test');\ntest('adds two numbers', () => {});\ntest('add', () => {});\n" + brokenAdd),
        ], reason: "more than once", "failed"),
        Attack(name: "prints a forged report to every descriptor", files: [("calc.js", Self.forgedReport + brokenAdd)],
               reason: "exited early"),
        Attack(name: "starts a second reporter with forged events", files: [("calc.js", Self.secondReporter + brokenAdd)],
               reason: "failed", "exited early"),
        Attack(name: "reads the nonce from its environment, its memory and a child's view of both",
               files: [("calc.js", Self.memoryScan + brokenAdd)], reason: "failed", "exited early"),
        Attack(name: "uses the internal bindings", files: [("calc.js", "process.binding('fs');\n" + brokenAdd)],
               reason: "could not be collected"),
        Attack(name: "patches Readable.prototype.push to turn failures into passes", files: [("calc.js", """
            const { Readable } = require("stream");
            const push = Readable.prototype.push;
            Readable.prototype.push = function (chunk, encoding) {
              if (chunk && typeof chunk === "object" && chunk.type === "test:fail") chunk.type = "test:pass";
              return push.call(this, chunk, encoding);
            };

            """ + brokenAdd)], reason: "could not be collected"),
        Attack(name: "patches EventEmitter.prototype.emit", files: [("calc.js", """
            const { EventEmitter } = require("events");
            const emit = EventEmitter.prototype.emit;
            EventEmitter.prototype.emit = function (name, ...rest) { return emit.call(this, name === "test:fail" ? "test:pass" : name, ...rest); };

            """ + brokenAdd)], reason: "could not be collected"),
        Attack(name: "rewrites the report through TextEncoder.prototype.encode", files: [("calc.js", """
            const encode = TextEncoder.prototype.encode;
            TextEncoder.prototype.encode = function (text) {
              return encode.call(this, String(text).replace('"outcome":"failed"', '"outcome":"passed"'));
            };

            """ + brokenAdd)], reason: "could not be collected"),
        Attack(name: "reaches the running test through async_hooks.executionAsyncResource", files: [("calc.js", """
            const { executionAsyncResource } = require("async_hooks");
            exports.add = (a, b) => {
              let p = executionAsyncResource();
              while (p && !Object.prototype.hasOwnProperty.call(p, "fail")) p = Object.getPrototypeOf(p);
              p.fail = function () { this.pass(); };
              return a - b;
            };

            """)], reason: "failed"),
        Attack(name: "sees every test as it is made through async_hooks.createHook", files: [("calc.js", """
            require("async_hooks").createHook({
              init(id, type, trigger, resource) {
                if (resource && typeof resource.fail === "function" && typeof resource.pass === "function") {
                  resource.fail = function () { this.pass(); };
                }
              },
            }).enable();

            """ + brokenAdd)], reason: "could not be collected"),
        Attack(name: "reads the reporter's closure through the in-process inspector", files: [("calc.js", Self.inspectorTheft + brokenAdd)],
               reason: "could not be collected"),
        Attack(name: "turns on V8's natives syntax through a computed require of v8", files: [("calc.js", "require(['node', 'v8'].join(':')).setFlagsFromString('--allow-natives-syntax');\n" + brokenAdd)],
               reason: "could not be collected"),
        Attack(name: "starts the inspector with SIGUSR1", files: [("calc.js", "process.kill(process.pid, 'SIGUSR1');\n" + brokenAdd)],
               reason: "could not be collected"),
        Attack(name: "spoils the failure's report line and passes a second copy of the test", files: [("calc.js", """
            const fs = require("fs");
            let calls = 0;
            exports.add = (a, b) => {
              calls += 1;
              if (calls === 1) return 5;
              throw { get stack() { fs.writeSync(4, '{"x":"'); return "Oops"; } };
            };
            const file = require.resolve("./test/add.test.js");
            delete require.cache[file];
            require("./test/add.test.js");

            """)], reason: "missing harness record"),
        Attack(name: "rewrites the frozen test file", files: [
            ("calc.js", "require('fs').writeFileSync(__dirname + '/test/add.test.js', 'require(\"node:test\")(\"adds two numbers\", () => {});');\n" + brokenAdd),
        ], reason: "failed", "never run"),
    ]

    /// Lines a cheater would write if it guessed the report's shape, on every descriptor, then exits.
    static let forgedReport = """
        const fs = require("fs");
        for (let fd = 1; fd < 12; fd++) {
          try {
            fs.writeSync(fd, '{"kind":"result","nodeid":"test/add.test.js::adds two numbers","outcome":"passed"}\\n');
            fs.writeSync(fd, '{"kind":"end","exit":0}\\n');
          } catch {}
        }
        process.exit(0);

        """

    /// Connects the in-process inspector, imports the reporter module (its URL is in the options) and
    /// reads the masked nonce and its mask from its closure, then writes a passing report.
    static let inspectorTheft = #"""
        const inspector = require(["node", "inspector"].join(":"));
        const fs = require("fs");
        const session = new inspector.Session();
        session.connect();
        const post = (method, params) => {
          let out, err;
          session.post(method, params, (e, r) => { err = e; out = r; });
          if (err) throw err;
          return out;
        };
        const spec = process["exec" + "Argv"].find((o) => o.startsWith("--test-" + "reporter=")).slice(16);
        import(spec).then((module) => {
          globalThis.__reporterExpect = module.expect;
          const fn = post("Runtime.evaluate", { expression: "globalThis.__reporterExpect" }).result.objectId;
          const scopes = post("Runtime.getProperties", { objectId: fn, ownProperties: true }).internalProperties
            .find((p) => p.name === "[[Scopes]]").value.objectId;
          const values = {};
          for (const scope of post("Runtime.getProperties", { objectId: scopes, ownProperties: true }).result) {
            if (!scope.value || !scope.value.objectId) continue;
            for (const v of post("Runtime.getProperties", { objectId: scope.value.objectId, ownProperties: true }).result) {
              if ((v.name === "masked" || v.name === "mask") && v.value.objectId) {
                values[v.name] = post("Runtime.callFunctionOn", { objectId: v.value.objectId,
                  functionDeclaration: "function(){return Array.from(this)}", returnByValue: true }).result.value;
              }
            }
          }
          const nonce = Buffer.from(values.masked.map((b, i) => b ^ values.mask[i])).toString("latin1");
          for (const id of ["adds two numbers", "add"])
            fs.writeSync(4, JSON.stringify({ nonce, kind: "result", nodeid: "test/add.test.js::" + id, outcome: "passed" }) + "\n");
          fs.writeSync(4, JSON.stringify({ nonce, kind: "end", exit: 0 }) + "\n");
          process.exit(0);
        });

        """#

    /// Imports the engine's reporter module itself (its URL is in the process's options) and feeds it
    /// passing events.
    static let secondReporter = """
        const spec = process.execArgv.find((o) => o.startsWith("--test-reporter=")).slice(16);
        import(spec).then(async (module) => {
          async function* events() {
            yield { type: "test:pass", data: { nesting: 0, name: "start" } };
            yield { type: "test:pass", data: { nesting: 0, name: "adds two numbers" } };
            yield { type: "test:pass", data: { nesting: 0, name: "add" } };
          }
          try { for await (const _ of module.default(events())) {} } catch {}
          process.exit(0);
        });

        """

    /// Every 32-hex-digit string in the process's environment and writable memory, read directly and by
    /// a child process, is tried as the nonce of a passing report.
    static let memoryScan = #"""
        const fs = require("fs");
        const { execFileSync } = require("child_process");
        const scanSource = `(pid) => {
          const fs = require("fs");
          const found = new Set();
          try { for (const m of fs.readFileSync("/proc/" + pid + "/environ", "latin1").matchAll(/[0-9a-f]{32}/g)) found.add(m[0]); } catch {}
          try {
            const fd = fs.openSync("/proc/" + pid + "/mem", "r");
            for (const line of fs.readFileSync("/proc/" + pid + "/maps", "utf8").split("\\n")) {
              const f = line.split(" ");
              if (!f[1] || !f[1].startsWith("rw")) continue;
              const [a, b] = f[0].split("-").map((x) => parseInt(x, 16));
              if (b - a > 64 * 1024 * 1024) continue;
              const buffer = Buffer.alloc(b - a);
              try { fs.readSync(fd, buffer, 0, b - a, a); } catch { continue; }
              for (const m of buffer.toString("latin1").matchAll(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g)) found.add(m[0]);
            }
          } catch {}
          return [...found];
        }`;
        const candidates = new Set(eval(scanSource)("self"));
        const child = execFileSync(process.execPath, ["-e", "process.stdout.write((" + scanSource + ")(process.argv[1]).join(' '))", String(process.pid)],
                                   { encoding: "utf8", maxBuffer: 1 << 26 });
        for (const c of child.split(" ").filter(Boolean)) candidates.add(c);
        for (const nonce of candidates) {
          for (const id of ["adds two numbers", "add"]) {
            try { fs.writeSync(4, JSON.stringify({ nonce, kind: "result", nodeid: "test/add.test.js::" + id, outcome: "passed" }) + "\n"); } catch {}
          }
          try { fs.writeSync(4, JSON.stringify({ nonce, kind: "end", exit: 0 }) + "\n"); } catch {}
        }
        if (candidates.size > 0) process.exit(0);

        """#

    func run(_ files: [(path: String, content: String)], test: AcceptanceTest = Self.test) throws -> AcceptanceTestResult {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let workspace = try Workspace.open(at: folder.sub("workspaces/plan-1"))
        for (path, content) in files {
            try workspace.write(content, to: path)
        }
        var limits = SandboxLimits.acceptanceTest
        limits.timeout = .seconds(60)
        let runner = AcceptanceTestRunner(sandbox: try Sandbox(), limits: limits)
        return try #require(runner.run([test], testCommand: "node --test", in: workspace).first)
    }

    @Test func aWorkingModulePassesWithEveryTopLevelTestReported() throws {
        let result = try run([("calc.js", "exports.add = (a, b) => a + b;\n")])
        #expect(result.outcome == .pass, "\(result.output)")
        #expect(result.report?.cases.map(\.id) == ["test/add.test.js::adds two numbers", "test/add.test.js::add"])
        #expect(result.report?.cases.allSatisfy(\.passed) == true)
    }

    /// The locks on the stream and event classes leave honest use alone: subclasses, instance methods,
    /// pipelines, and an emitter whose own method is replaced.
    @Test func honestStreamsAndEmittersStillWork() throws {
        let test = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.js", code: """
            const test = require("node:test");
            const assert = require("node:assert/strict");
            const { sum } = require("../calc.js");

            test("sums a stream", async () => {
              assert.equal(await sum([1, 2, 3]), 12);
            });

            """)
        let calc = """
            const { EventEmitter } = require("node:events");
            const { Readable, Transform, Writable } = require("node:stream");
            const { pipeline } = require("node:stream/promises");

            class Counter extends EventEmitter {
              constructor() { super(); this.total = 0; this.on("value", (v) => { this.total += v; }); }
            }

            exports.sum = async (values) => {
              const counter = new Counter();
              const double = new Transform({ objectMode: true, transform(v, _, done) { done(null, v * 2); } });
              const sink = new Writable({ objectMode: true });
              sink._write = (v, _, done) => { counter.emit("value", v); done(); };
              const quiet = new EventEmitter();
              quiet.emit = () => false;
              quiet.emit("ignored");
              await pipeline(Readable.from(values), double, sink);
              return counter.total;
            };

            """
        let result = try run([("calc.js", calc)], test: test)
        #expect(result.outcome == .pass, "\(result.output)")
    }

    @Test func aBrokenModuleFailsWithTheAssertion() throws {
        let result = try run([("calc.js", Self.brokenAdd)])
        #expect(result.outcome == .fail)
        #expect(result.reason == "test/add.test.js::adds two numbers failed (and 1 more)")
        #expect(result.output.contains("Expected values to be strictly equal"), "\(result.output)")
    }

    @Test func anESModuleProjectRunsAndAModuleThatCannotLoadIsAnError() throws {
        let test = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.mjs", code: """
            import { test } from "node:test";
            import assert from "node:assert/strict";
            import { add } from "../src/calc.mjs";

            test(`adds`, () => {
              assert.equal(add(2, 3), 5);
            });

            """)
        let passing = try run([("src/calc.mjs", "export const add = (a, b) => a + b;\n")], test: test)
        #expect(passing.outcome == .pass, "\(passing.output)")
        let missing = try run([("src/other.mjs", "export const x = 1;\n")], test: test)
        #expect(missing.outcome == .error)
        #expect(missing.reason?.contains("could not be collected") == true, "\(missing.reason ?? "")")
    }

    @Test func aSkippedOrTodoTestIsNotAPassAndANamelessTestIsRefused() throws {
        let skipped = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.js", code: """
            const test = require("node:test");
            test("adds", { skip: "later" }, () => {});
            test.todo("subtracts");

            """)
        let result = try run([("calc.js", "exports.add = (a, b) => a + b;\n")], test: skipped)
        #expect(result.outcome == .fail)
        #expect(result.reason?.contains("was skipped") == true, "\(result.reason ?? "")")
        let nameless = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.js", code: """
            const test = require("node:test");
            const name = "adds";
            test(name, () => {});

            """)
        let refused = try run([], test: nameless)
        #expect(refused.outcome == .error)
        #expect(refused.output.contains("no literal name"), "\(refused.output)")
    }

    /// Code that registers passing tests under the frozen file's names and then keeps the file from
    /// registering its own: by throwing what cannot be shown, by never finishing its ES module import, or
    /// by handing the file another `test` through the module loader.
    @Test func codeThatKeepsTheTestFileFromRegisteringItsTestsNeverPasses() throws {
        let register = """
            const source = require("fs").readFileSync(require.resolve("./test/add.test.js"), "utf8");
            const runner = require("node:" + "test");
            for (const m of source.matchAll(/^(?:test|it|describe|suite)\\s*\\(\\s*(["'`])(.*?)\\1/gm)) runner(m[2], () => {});

            """
        let thrown = try run([("calc.js", Self.brokenAdd + register + "throw Object.create(null);\n")])
        #expect(thrown.outcome != .pass, "\(thrown.output)")
        #expect(thrown.reason?.contains("could not be collected") == true, "\(thrown.reason ?? "")")

        let esmTest = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.mjs", code: """
            import { test } from "node:test";
            import assert from "node:assert/strict";
            import { add } from "../calc.mjs";

            test("adds two numbers", () => {
              assert.equal(add(2, 3), 5);
            });

            """)
        let hanging = try run([("calc.mjs", """
            import { readFileSync } from "node:fs";
            import { createRequire } from "node:module";
            export const add = (a, b) => a - b;
            const source = readFileSync(new URL("./test/add.test.mjs", import.meta.url), "utf8");
            const register = createRequire(import.meta.url)("node:" + "test");
            for (const m of source.matchAll(/^(?:test|it|describe|suite)\\s*\\(\\s*(["'`])(.*?)\\1/gm)) register(m[2], () => {});
            await new Promise(() => {});

            """)], test: esmTest)
        #expect(hanging.outcome != .pass, "\(hanging.output)")
        #expect(hanging.reason?.contains("exited early") == true, "\(hanging.reason ?? "")")

        let codeFirst = AcceptanceTest(name: "add", priority: .must, covers: [1], file: "test/add.test.js", code: """
            const { add } = require("../calc.js");
            const test = require("node:test");
            const assert = require("node:assert");

            test("adds two numbers", () => {
              assert.strictEqual(add(2, 3), 5);
            });

            """)
        let loader = try run([("calc.js", """
            exports.add = (a, b) => a - b;
            const M = require("module");
            const key = "_l" + "oad";
            const original = M[key];
            const real = original("node:" + "test", module, false);
            M[key] = function (request, ...rest) {
              if (request === "node:test" || request === "test") return (name) => real(name, () => {});
              return original.call(this, request, ...rest);
            };

            """)], test: codeFirst)
        #expect(loader.outcome == .fail, "\(loader.output)")
        #expect(loader.reason == "test/add.test.js::adds two numbers failed", "\(loader.reason ?? "")")
    }

    @Test(arguments: attacks)
    func anAttackNeverPasses(attack: Attack) throws {
        let result = try run(attack.files)
        #expect(result.outcome != .pass, "\(attack.name) passed: \(result.output)")
        #expect(attack.reasons.contains { result.reason?.contains($0) == true }, "reason: \(result.reason ?? "none")\n\(result.output)")
    }
}
