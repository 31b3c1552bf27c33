import Engine
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct CodeShapeTests {
    @Test(arguments: [
        ("app/main.py", "", FileKind.python), ("web/x.mjs", "", .javascript), ("a.JSON", "", .json),
        ("ci.yml", "", .yaml), ("pyproject.toml", "", .toml), ("run.sh", "", .shell), ("README.md", "", .text),
        ("bin/tool", "#!/usr/bin/env python3\nprint(1)\n", .python), ("bin/start", "#!/bin/sh\n", .shell),
        ("LICENSE", "MIT\n", .text), ("Dockerfile", "FROM x\n", .other), ("style.css", "", .other),
    ])
    func kindsFollowExtensionOrShebang(path: String, content: String, kind: FileKind) {
        #expect(FileKind(path: path, content: content) == kind)
    }

    @Test func continuationLinesDoNotCountAsNesting() {
        let code = """
        def f(a, b):
            result = compute(a,
                             b,
                             {
                                 "key": [
                                     1, 2,
                                 ],
                             })
            text = \"\"\"
                        deeply indented text inside a string
            \"\"\"
            return result
        """
        let results = CodeShape.check(code, kind: .python, limits: CodeLimits(maxNesting: 1))
        #expect(results.allSatisfy { $0.passed }, "\(results)")
    }

    @Test func braceDepthCountsCodeNotStrings() {
        let js = "const s = '{{{{{{{{{{{{';\n// {{{{{{{{{{{{{{\nfunction f() {\n  if (x) {\n    return `${'{'}`;\n  }\n}\n"
        let shape = CodeShape.check(js, kind: .javascript, limits: CodeLimits(maxNesting: 2))
        #expect(shape.allSatisfy { $0.passed }, "\(shape)")
        let tooDeep = CodeShape.check(js, kind: .javascript, limits: CodeLimits(maxNesting: 1))
        #expect(tooDeep.last?.passed == false)
        #expect(tooDeep.last?.message.contains("line 4 is nested 2 levels deep") == true)
    }

    @Test func sizeCountsBytesAndLines() {
        let size = CodeShape.check("a\nb\nc\n", kind: .text, limits: CodeLimits(maxLines: 2))
        #expect(size.count == 1)
        #expect(size[0].name == "size")
        #expect(!size[0].passed)
        #expect(size[0].message == "the file has 3 lines, more than the limit of 2")
    }
}
