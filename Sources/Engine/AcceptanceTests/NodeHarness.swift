import Foundation

/// The runner setup every Node.js acceptance test runs under: the engine's own script (`node -e`,
/// never a file a generated file could replace) that runs one frozen test file with Node's built-in
/// runner (`node:test`) in its own process, and a reporter module of the engine's (`--test-reporter`,
/// passed as a `data:` URL) that writes the per-test records `TestRunReport` reads on descriptor 4.
///
/// Generated code is treated as written by an adversary that wants the gate to pass without doing the
/// work, so nothing it can write steers the run:
/// - `--frozen-intrinsics`: the JavaScript built-ins (Object, Array, Promise, JSON, Error, …) cannot be
///   patched; the harness also freezes `node:test`'s and `node:assert`'s exports, locks the methods of
///   the classes the runner reports through (`EventEmitter`, the streams, `TextEncoder`), and refuses the
///   internal bindings, the inspector and `SIGUSR1` (which starts it; its port is taken too), and the
///   async hooks that hand out the runner's own test objects;
/// - the reporter starts (a first test of the harness's own) and reads the nonce from a pipe
///   (`Sandbox.secretDescriptor`), closing it, before the test file or anything of the workspace is
///   loaded; it keeps the nonce only masked with random bytes, and assembles each report line byte by
///   byte at the moment it writes it, wiping the buffer afterwards; a second reporter is refused;
/// - the box has no `/proc` (`HarnessCommand.processFiles`): neither the code nor a process it starts
///   can read the harness's memory or environment, or reopen its descriptors, by path;
/// - the test ids are read from the frozen file's source (top-level `test`, `it`, `describe`, `suite`
///   calls with literal names) and reported before anything of the workspace runs; every one must be
///   reported passed exactly once, and skipped or todo tests are not passes;
/// - the run's end is reported only when the runner's event stream ends: a process that exits early
///   (`process.exit` in the code) has no end record and fails;
/// - no `NODE_*` variable reaches the run, and the workspace's `package.json` can only choose the module
///   format of its own files.
///
/// The static checks among the validators (`JavaScriptChecks`) refuse generated files that reach for
/// the runner, the inspector, `v8`, internal bindings or `/proc` before any test runs.
public enum NodeHarness {
    /// The options before `-e`.
    public static let options = ["--frozen-intrinsics", "--no-warnings", "--test-reporter=" + reporterURL,
                                 "--test-reporter-destination=stderr"]

    /// Arguments after the interpreter: run `testFile` (relative to `root`).
    public static func arguments(testFile: String, root: String) -> [String] {
        options + ["-e", script, testFile, root]
    }

    /// The reporter module as a `data:` URL.
    static var reporterURL: String { "data:text/javascript;base64," + Data(reporter.utf8).base64EncodedString() }

    /// The reporter module.
    static let reporter = #"""
        // The acceptance-test reporter MasterPlan's Node.js harness runs node:test with (--test-reporter). It
        // is the only holder of the run's nonce, which it reads from a pipe and closes before any workspace
        // code runs, and keeps only masked: every report line it writes to descriptor 4 carries the nonce,
        // assembled byte by byte at the moment of writing and wiped afterwards.
        import { readSync, closeSync, writeSync } from "node:fs";
        import { randomFillSync } from "node:crypto";

        // Everything the reporter calls is taken now, before any workspace code can patch it (the
        // JavaScript built-ins are frozen; Node's own classes, such as TextEncoder, are not).
        const write = writeSync;
        const encoder = new TextEncoder();
        const encodeMethod = TextEncoder.prototype.encode;
        const apply = Reflect.apply;
        const encode = (text) => apply(encodeMethod, encoder, [text]);
        const stringify = JSON.stringify;
        const reportFD = 4;
        const secretFD = 7;
        let masked = null;
        let mask = null;
        let claimed = false;
        let expectedSent = false;
        let harnessFile = "";
        let markReady;
        export const ready = new Promise((resolve) => { markReady = resolve; });

        function takeNonce() {
          const buffer = new Uint8Array(64);
          let length = 0;
          try {
            for (;;) {
              const count = readSync(secretFD, buffer, length, buffer.length - length, null);
              if (count === 0) break;
              length += count;
              if (length === buffer.length) break;
            }
            closeSync(secretFD);
          } catch {
            return false;
          }
          mask = new Uint8Array(length);
          randomFillSync(mask);
          masked = new Uint8Array(length);
          for (let i = 0; i < length; i++) masked[i] = buffer[i] ^ mask[i];
          buffer.fill(0);
          return length > 0;
        }

        const prefix = encode('{"nonce":"');
        // Numbered: a line the code spoils on the shared descriptor shows as a gap (TestRunReport).
        let sequence = 0;
        function emit(kind, fields) {
          if (masked === null) return;
          fields.seq = sequence++;
          fields.kind = kind;
          const rest = encode('",' + stringify(fields).slice(1) + "\n");
          const line = new Uint8Array(prefix.length + masked.length + rest.length);
          line.set(prefix, 0);
          for (let i = 0; i < masked.length; i++) line[prefix.length + i] = masked[i] ^ mask[i];
          line.set(rest, prefix.length + masked.length);
          let offset = 0;
          try {
            while (offset < line.length) offset += write(reportFD, line, offset, line.length - offset);
          } finally {
            line.fill(0);
          }
        }

        /// Called once by the harness before the test file is imported: the ids read from the frozen source.
        /// Called once by the harness before the test file is imported: the ids read from the frozen source.
        /// Returns, to that first caller only, the function that says the test file finished loading (or
        /// failed to): the run's end is reported only after it, so a file kept from registering its tests
        /// (its import made to hang or to throw what cannot be shown) never ends well.
        let fileSettled = false;
        export function expect(testFile, ids, error) {
          if (expectedSent) return undefined;
          expectedSent = true;
          harnessFile = String(testFile);
          const fields = { ids: ids.map((name) => testFile + "::" + name) };
          if (error) fields.error = String(error);
          emit("expected", fields);
          return () => { fileSettled = true; };
        }

        export function collectError(text) {
          emit("collect_error", { nodeid: "", text: String(text).slice(-8000) });
        }

        function describeError(error) {
          if (!error) return "";
          let cause = error;
          // node:test wraps the test's own error as `cause` of an ERR_TEST_FAILURE.
          if (cause && cause.code === "ERR_TEST_FAILURE" && cause.cause) cause = cause.cause;
          try {
            return String((cause && cause.stack) || cause).slice(-8000);
          } catch {
            return "the error could not be read";
          }
        }

        // node:test composes the reporter as an async generator; its body first runs when the run pulls the
        // first event, which the harness awaits (`ready`) before it loads anything of the workspace. Any later
        // instance is refused.
        export default async function* reporter(source) {
          if (claimed) throw new Error("refused by the acceptance-test harness: the reporter runs once");
          claimed = true;
          markReady(takeNonce());
          let first = true;
          for await (const event of source) {
            if (event.type !== "test:pass" && event.type !== "test:fail") continue;
            const data = event.data;
            if (data.nesting !== 0) continue;
            if (first) { first = false; continue; } // the harness's own start-up test
            const details = data.details || {};
            let outcome = event.type === "test:pass" ? "passed" : "failed";
            let text = outcome === "failed" ? describeError(details.error) : "";
            if (data.skip !== undefined && data.skip !== false) { outcome = "skipped"; text = typeof data.skip === "string" ? data.skip : "skipped"; }
            else if (data.todo !== undefined && data.todo !== false) { outcome = "skipped"; text = "marked todo: " + (typeof data.todo === "string" ? data.todo : ""); }
            emit("result", { nodeid: harnessFile + "::" + data.name, outcome, duration: (details.duration_ms || 0) / 1000, text });
          }
          if (fileSettled) emit("end", { exit: 0 });
        }
        """#

    /// The harness, run with `-e TEST_FILE ROOT`.
    static let script = #"""
        "use strict";
        // MasterPlan's Node.js acceptance-test harness: runs one frozen test file with node:test in this
        // process, reported by the engine's reporter (the --test-reporter data: module), never by the exit
        // status or anything the code under test prints. Arguments: TEST_FILE ROOT.
        const fs = require("node:fs");
        const path = require("node:path");
        const url = require("node:url");
        const testFile = process.argv[1];
        const root = process.argv[2];
        for (const name of Object.keys(process.env)) {
          if (name.startsWith("MASTERPLAN_") || name.startsWith("NODE_")) delete process.env[name];
        }

        // What honest code never needs and a cheater would use to steer the run, taken away before anything
        // of the workspace loads: the runner's and assert's exports are frozen; the internal bindings, the
        // inspector (which reads any value, this harness's too), the async hooks that hand out the runner's
        // own test objects, and the ways to start the inspector on a signal are refused; and the methods of
        // the stream and event classes the runner reports through cannot be replaced.
        const nodeTest = require("node:test");
        const assert = require("node:assert");
        for (const value of [nodeTest, assert, assert.strict, require("node:assert/strict")]) Object.freeze(value);
        const refuse = (owner, name, what) => {
          const refused = () => { throw new Error("refused by the acceptance-test harness: " + what); };
          Object.defineProperty(owner, name, { value: refused, writable: false, configurable: false, enumerable: false });
        };
        // process.kill without SIGUSR1 (which starts the inspector), on the raw call it is built on.
        const rawKill = process._kill;
        const signals = require("node:os").constants.signals;
        const errors = Object.entries(require("node:os").constants.errno);
        Object.defineProperty(process, "kill", {
          value: (pid, signal = "SIGTERM") => {
            const number = typeof signal === "number" ? signal : signals[signal];
            if (number === undefined) throw new TypeError("Unknown signal: " + signal);
            if (number === signals.SIGUSR1) throw new Error("refused by the acceptance-test harness: SIGUSR1 starts the inspector");
            const status = Reflect.apply(rawKill, process, [pid, number]);
            if (status) {
              const name = (errors.find(([, code]) => code === -status) || ["E" + -status])[0];
              throw Object.assign(new Error("kill " + name), { code: name, errno: status, syscall: "kill" });
            }
            return true;
          },
          writable: false, configurable: false, enumerable: true,
        });
        for (const name of ["binding", "_linkedBinding", "dlopen", "_debugProcess", "_debugEnd", "_getActiveHandles",
                            "_getActiveRequests", "_kill"]) {
          refuse(process, name, "process." + name);
        }
        // v8 writes heap snapshots and sets engine flags (natives syntax reads any value); not project code.
        const v8 = require("node:v8");
        for (const key of Object.keys(v8)) refuse(v8, key, "v8." + key);
        Object.freeze(v8);
        if (typeof process.getBuiltinModule === "function") refuse(process, "getBuiltinModule", "process.getBuiltinModule");
        const hooks = require("node:async_hooks");
        for (const name of ["executionAsyncResource", "createHook"]) refuse(hooks, name, "async_hooks." + name);
        for (const name of ["node:inspector", "node:inspector/promises"]) {
          let inspector;
          try { inspector = require(name); } catch { continue; }
          for (const key of Object.keys(inspector)) refuse(inspector, key, name);
          Object.freeze(inspector);
        }
        const lock = (prototype) => {
          for (const key of Reflect.ownKeys(prototype)) {
            const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
            if (!descriptor.configurable || !("value" in descriptor)) continue;
            const value = descriptor.value;
            // Instances and subclasses may still define their own (`this._read = …`); the prototype's stays.
            Object.defineProperty(prototype, key, {
              configurable: false, enumerable: descriptor.enumerable,
              get() { return value; },
              set(replacement) {
                if (this === prototype) throw new TypeError("refused by the acceptance-test harness: a built-in class's " + String(key));
                Object.defineProperty(this, key, { value: replacement, writable: true, enumerable: true, configurable: true });
              },
            });
          }
        };
        // The module loader: a replaced Module._load, extension handler or wrapper would hand the test file
        // something else than node:test, or rewrite it as it loads; loader hooks (module.register) likewise.
        const Module = require("node:module");
        refuse(Module, "register", "module.register");
        for (const key of Reflect.ownKeys(Module)) {
          const descriptor = Object.getOwnPropertyDescriptor(Module, key);
          if (!descriptor.configurable) continue;
          if ("value" in descriptor) {
            Object.defineProperty(Module, key, { value: descriptor.value, writable: false, configurable: false, enumerable: descriptor.enumerable });
          } else {
            Object.defineProperty(Module, key, { get: descriptor.get, set: () => { throw new TypeError("refused by the acceptance-test harness: Module." + String(key)); },
                                                 configurable: false, enumerable: descriptor.enumerable });
          }
        }
        Object.freeze(Module._extensions);
        lock(Module.prototype);
        const stream = require("node:stream");
        for (const type of [require("node:events").EventEmitter, stream.Stream, stream.Readable, stream.Writable, stream.Duplex,
                            stream.Transform, stream.PassThrough, TextEncoder, TextDecoder]) {
          lock(type.prototype);
          Object.freeze(type);
        }

        // The names of the file's top-level tests, read from its source (never run): calls of test, it,
        // describe or suite (and their .skip/.todo/.only forms) at the top level, each with a literal name.
        function topLevelTests(source) {
          const names = [];
          let depth = 0;
          let i = 0;
          const n = source.length;
          let last = "";
          const isIdentifier = (c) => /[A-Za-z0-9_$]/.test(c);
          function skipString(quote) {
            let text = "";
            i++;
            while (i < n && source[i] !== quote) {
              if (source[i] === "\\") { text += source[i + 1]; i += 2; continue; }
              if (quote === "`" && source[i] === "$" && source[i + 1] === "{") {
                // A template with substitutions: skip to its end, keeping no name.
                let inner = 1; i += 2; text = null;
                while (i < n && inner > 0) { if (source[i] === "{") inner++; else if (source[i] === "}") inner--; i++; }
                continue;
              }
              if (text !== null) text += source[i];
              i++;
            }
            i++;
            return text;
          }
          while (i < n) {
            const c = source[i];
            if (c === "/" && source[i + 1] === "/") { while (i < n && source[i] !== "\n") i++; continue; }
            if (c === "/" && source[i + 1] === "*") { const end = source.indexOf("*/", i + 2); i = end < 0 ? n : end + 2; continue; }
            if (c === "'" || c === '"' || c === "`") { skipString(c); last = "string"; continue; }
            if (c === "/" && !/[A-Za-z0-9_$)\]]/.test(last)) {
              // A regular expression literal.
              i++;
              let inClass = false;
              while (i < n && (source[i] !== "/" || inClass) && source[i] !== "\n") {
                if (source[i] === "\\") i++;
                else if (source[i] === "[") inClass = true;
                else if (source[i] === "]") inClass = false;
                i++;
              }
              i++;
              while (i < n && /[a-z]/.test(source[i])) i++;
              last = "x";
              continue;
            }
            if (c === "{" || c === "(" || c === "[") { depth++; last = c; i++; continue; }
            if (c === "}" || c === ")" || c === "]") { depth--; last = c; i++; continue; }
            if (isIdentifier(c)) {
              const start = i;
              while (i < n && (isIdentifier(source[i]) || source[i] === ".")) i++;
              const word = source.slice(start, i);
              const before = source.slice(0, start).trimEnd().slice(-1);
              last = word.slice(-1);
              if (depth !== 0 || before === ".") continue;
              const base = word.replace(/^test\./, "").replace(/\.(skip|todo|only)$/, "");
              if (!["test", "it", "describe", "suite"].includes(base)) continue;
              let j = i;
              while (j < n && /\s/.test(source[j])) j++;
              if (source[j] !== "(") continue;
              j++;
              while (j < n && /\s/.test(source[j])) j++;
              if (source[j] === "'" || source[j] === '"' || source[j] === "`") {
                const saved = i;
                i = j;
                const name = skipString(source[j]);
                i = saved;
                if (name === null) throw new Error("a top-level " + base + " at offset " + start + " has a name with a substitution; name tests with plain strings");
                names.push(name);
              } else {
                throw new Error("a top-level " + base + " has no literal name (line " + (source.slice(0, start).split("\n").length) + "); name tests with plain strings");
              }
              continue;
            }
            if (!/\s/.test(c)) last = c;
            i++;
          }
          return names;
        }

        async function main() {
          // The inspector's default port, taken: a SIGUSR1 from another process of the run cannot start it.
          await new Promise((resolve) => {
            const server = require("node:net").createServer();
            server.on("error", resolve);
            server.listen({ port: 9229, host: "127.0.0.1", exclusive: true }, resolve);
            server.unref();
          });
          const specifier = process.execArgv.find((option) => option.startsWith("--test-reporter=")).slice("--test-reporter=".length);
          const reporter = await import(specifier);
          // The first test of the root starts the reporter (before anything of the workspace is loaded); it
          // takes the nonce then.
          nodeTest("masterplan harness start", () => {});
          if (!(await reporter.ready)) {
            process.stderr.write("masterplan harness: the report nonce could not be read\n");
            process.exitCode = 3;
            return;
          }
          const full = path.join(root, testFile);
          let ids = [];
          let error = null;
          try {
            ids = topLevelTests(fs.readFileSync(full, "utf8"));
          } catch (problem) {
            error = problem.message;
          }
          const settled = reporter.expect(testFile, ids, error);
          if (error) return;
          try {
            await import(url.pathToFileURL(full).href);
          } catch (problem) {
            let text = "the test file threw something that cannot be shown";
            try { text = String((problem && problem.stack) || problem); } catch {}
            reporter.collectError(text);
          }
          settled();
        }
        main();
        """#
}
