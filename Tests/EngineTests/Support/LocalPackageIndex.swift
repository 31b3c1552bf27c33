import Base
import Foundation
import TestSupport

/// A PEP 503 "simple" package index on 127.0.0.1, serving hostile packages built for a test: the
/// dependency fetch box reaches it through `PIP_INDEX_URL`, as it would reach a sysadmin's mirror.
final class LocalPackageIndex {
    /// One distribution file of a project.
    struct Package {
        enum Kind {
            /// A source distribution whose `setup.py` runs `buildCode` (pip would run it to build a wheel).
            case sourceDistribution(buildCode: String)
            /// A wheel holding `files` (archive path → content), with its metadata added.
            case wheel(files: [String: String])
        }
        var name: String
        var version: String
        var kind: Kind
    }

    let folder: String
    let url: String
    private let server: BackgroundProcess

    init(_ packages: [Package]) throws {
        folder = NSTemporaryDirectory() + "masterplan-index-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var specification: [[String: Any]] = []
        for package in packages {
            switch package.kind {
            case .sourceDistribution(let buildCode):
                specification.append(["name": package.name, "version": package.version, "kind": "sdist", "code": buildCode])
            case .wheel(let files):
                specification.append(["name": package.name, "version": package.version, "kind": "wheel", "files": files])
            }
        }
        let json = try JSONSerialization.data(withJSONObject: specification)
        try json.write(to: URL(fileURLWithPath: folder + "/packages.json"))
        let build = try ChildProcess.run("/usr/bin/python3", ["-c", Self.buildScript, folder], outputPath: folder + "/build.log")
        guard build.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "building the test packages failed: \(build.output)"])
        }
        let server = try BackgroundProcess("/usr/bin/python3", ["-c", Self.serveScript, folder + "/simple"],
                                           environment: ProcessInfo.processInfo.environment, outputPath: folder + "/server.log")
        self.server = server
        // The server prints its port once it listens.
        guard let line = server.firstLine(seconds: 10, where: { Int($0.trimmingCharacters(in: .whitespaces)) != nil }),
              let port = Int(line.trimmingCharacters(in: .whitespaces)) else {
            _ = server.stop(SIGKILL, seconds: 5)
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "the index server did not start: \(server.output)"])
        }
        url = "http://127.0.0.1:\(port)/"
    }

    func stop() {
        _ = server.stop(SIGKILL, seconds: 5)
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Builds `simple/<name>/index.html` and the distribution files from `packages.json`.
    static let buildScript = """
        import base64, hashlib, io, json, os, re, sys, tarfile, zipfile
        root = sys.argv[1]
        packages = json.load(open(os.path.join(root, "packages.json")))
        for package in packages:
            name, version = package["name"], package["version"]
            project = re.sub(r"[-_.]+", "-", name).lower()
            module = re.sub(r"[-.]+", "_", name)
            folder = os.path.join(root, "simple", project)
            os.makedirs(folder, exist_ok=True)
            if package["kind"] == "sdist":
                file = f"{module}-{version}.tar.gz"
                with tarfile.open(os.path.join(folder, file), "w:gz") as archive:
                    def add(path, text):
                        data = text.encode()
                        info = tarfile.TarInfo(f"{module}-{version}/{path}")
                        info.size = len(data)
                        archive.addfile(info, io.BytesIO(data))
                    add("PKG-INFO", f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n")
                    add("setup.py", package["code"] + f"\\nfrom setuptools import setup\\nsetup(name={name!r}, version={version!r})\\n")
            else:
                file = f"{module}-{version}-py3-none-any.whl"
                info = f"{module}-{version}.dist-info"
                files = dict(package["files"])
                files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n"
                files[f"{info}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: masterplan-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
                record = []
                for path, text in files.items():
                    digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
                    record.append(f"{path},sha256={digest},{len(text.encode())}")
                record.append(f"{info}/RECORD,,")
                files[f"{info}/RECORD"] = "\\n".join(record) + "\\n"
                with zipfile.ZipFile(os.path.join(folder, file), "w") as archive:
                    for path, text in files.items():
                        archive.writestr(path, text)
            with open(os.path.join(folder, "index.html"), "w") as page:
                page.write(f'<html><body><a href="{file}">{file}</a></body></html>\\n')
        """

    /// Serves a folder on a free loopback port and prints the port.
    static let serveScript = """
        import functools, http.server, sys
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
        handler.log_message = lambda *args: None
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """
}
