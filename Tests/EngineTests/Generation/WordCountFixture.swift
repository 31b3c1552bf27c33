import JSON
import LLM

/// A scripted model for a small, real project: a word-count command line in Python using only the
/// standard library. It holds the answers a model would give for the generation of its plan (the
/// discovery, the plan, its acceptance tests — real pytest code against the plan's files), wrong
/// answers for the repair paths, and the reference content of every file the plan writes, which
/// passes those tests.
///
/// Cassettes are built from entries with the fixed keys of `GenerationKeys` (`entry(_:_:_:)`), so a
/// test lists exactly the calls it expects; a call it did not script is a cassette miss (HTTP 404).
/// `Cassette.entries.map(\.jsonLine)` gives the same cassette as a file for `masterplan replay-llm`.
enum WordCountFixture {
    static let model = "gpt-4.1-mini"

    static let request = "Build a word count command-line tool in Python that prints the lines, words and characters of text files"

    /// One cassette entry answering `purpose`/`key` with `response` and plausible token counts.
    static func entry(_ purpose: LLMRequest.Purpose, _ key: String, _ response: String, chunk: Int? = nil) -> CassetteEntry {
        CassetteEntry(purpose: purpose.rawValue, key: key, response: response, model: model,
                      usage: LLMUsage(inputTokens: 900 + response.utf8.count / 8, outputTokens: response.utf8.count / 4,
                                      cachedInputTokens: 0),
                      chunkCharacters: chunk)
    }

    /// The calls of a generation that goes right the first time, in order.
    static var happyPath: [CassetteEntry] {
        [entry(.discovery, "discovery", discovery),
         entry(.masterplan, "masterplan", plan),
         entry(.acceptanceTests, "acceptance_tests", acceptanceTests)]
    }

    // MARK: - Answers

    static let discovery = #"""
        {"domain": "text statistics",
         "bounded_contexts": [{"name": "Counting", "description": "Counts the lines, words and characters of text files.",
                               "responsibilities": ["count a text", "report the counts of each file"]}],
         "aggregates": [],
         "value_objects": [{"name": "Counts", "bounded_context": "Counting", "attributes": ["lines", "words", "characters"]}],
         "domain_events": [],
         "services": [{"name": "TextCounter", "bounded_context": "Counting", "description": "Counts a text the way wc does.",
                       "operations": ["count_text"]}],
         "assumptions": ["Files are UTF-8 text.", "Only the Python standard library is used."],
         "clarifications": [{"question": "Should folders be searched recursively?",
                             "assumed_answer": "No: only the files named on the command line are counted."}],
         "risks": [{"description": "A very large file is read into memory at once.", "severity": "low",
                    "mitigation": "The tool is meant for ordinary text files; streaming can come later."}]}
        """#

    static let plan = planText(cliDependsOn: "[1]", cliFiles: #"["wordcount/cli.py", "wordcount/__main__.py"]"#)

    /// The plan as regenerated after the feedback "Also print a total line when several files are given".
    static let regeneratedPlan = planText(
        cliDependsOn: "[1]", cliFiles: #"["wordcount/cli.py", "wordcount/__main__.py"]"#,
        summary: "A command-line tool that prints the line, word and character counts of text files, and their total when several are given.")

    /// A plan with two problems the validator reports: a dependency on a task that does not exist and
    /// an absolute file path.
    static let invalidPlan = planText(cliDependsOn: "[7]", cliFiles: #"["/usr/local/bin/wordcount.py", "wordcount/__main__.py"]"#)

    /// Not a plan at all: what a confused model might say.
    static let proseInsteadOfPlan = "I think you should start with a counter module and then add a command line. Good luck!"

    private static func planText(
        cliDependsOn: String, cliFiles: String,
        summary: String = "A command-line tool that prints the line, word and character counts of text files, using only the Python standard library."
    ) -> String {
        #"""
        ```json
        {"project_name": "wordcount",
         "summary": "\#(summary)",
         "tech_stack": {"language": "Python 3", "framework": null, "database": null, "test_command": "python -m pytest -q", "other": ["pytest"]},
         "phases": [
          {"number": 1, "kind": "core", "name": "Counting", "description": "Count text and expose it on the command line.",
           "milestones": [
            {"number": 1, "name": "Working command", "description": "python -m wordcount FILE prints the counts.",
             "tasks": [
              {"number": 1, "name": "Counting module",
               "description": "wordcount/counter.py defines Counts, a NamedTuple of lines, words and characters, and count_text(text) -> Counts counting newline characters as lines, whitespace-separated words and characters like wc. wordcount/__init__.py re-exports Counts and count_text.",
               "complexity": "low", "depends_on": [], "files": ["wordcount/__init__.py", "wordcount/counter.py"],
               "subtasks": [{"number": 1, "name": "Counts", "description": "The NamedTuple with lines, words and characters."},
                            {"number": 2, "name": "count_text", "description": "Counts one text."}],
               "acceptance": [{"priority": "must", "criterion": "count_text(\"one two\\nthree\\n\") returns Counts(lines=2, words=3, characters=14)"},
                              {"priority": "should", "criterion": "count_text(\"\") returns Counts(lines=0, words=0, characters=0)"}]},
              {"number": 2, "name": "Command-line interface",
               "description": "wordcount/cli.py defines main(argv) -> int: for each path it prints 'LINES WORDS CHARACTERS PATH' using count_text; a missing file prints 'wordcount: PATH: No such file' to stderr and makes the status 1; no arguments print a usage line to stderr and return 2. wordcount/__main__.py calls sys.exit(main(sys.argv[1:])).",
               "complexity": "medium", "depends_on": \#(cliDependsOn), "files": \#(cliFiles),
               "subtasks": [{"number": 1, "name": "main", "description": "Counts each file and prints one line per file."}],
               "acceptance": [{"priority": "must", "criterion": "python -m wordcount notes.txt prints '2 3 14 notes.txt' for a file holding \"one two\\nthree\\n\" and exits with status 0"},
                              {"priority": "should", "criterion": "python -m wordcount missing.txt prints 'wordcount: missing.txt: No such file' to stderr and exits with status 1"}]}
             ]}]},
          {"number": 2, "kind": "polish", "name": "Documentation", "description": "Tell people how to use it.",
           "milestones": [
            {"number": 1, "name": "README", "description": "Usage documented.",
             "tasks": [
              {"number": 3, "name": "README", "description": "README.md explains what wordcount does and shows python -m wordcount FILE... with an example output line.",
               "complexity": "low", "depends_on": [2], "files": ["README.md"], "subtasks": [], "acceptance": []}
             ]}]}
         ]}
        ```
        """#
    }

    // MARK: - Acceptance tests (real pytest code against the plan's files)

    static let counterTest = """
        from wordcount.counter import Counts, count_text


        def test_count_text_counts_lines_words_and_characters():
            assert count_text("one two\\nthree\\n") == Counts(lines=2, words=3, characters=14)
            assert count_text("") == Counts(lines=0, words=0, characters=0)

        """

    static let cliTest = """
        import subprocess
        import sys
        from pathlib import Path

        ROOT = Path(__file__).resolve().parent.parent


        def test_cli_prints_counts_and_file_name(tmp_path):
            sample = tmp_path / "notes.txt"
            sample.write_text("one two\\nthree\\n", encoding="utf-8")
            result = subprocess.run([sys.executable, "-m", "wordcount", str(sample)], cwd=ROOT,
                                    capture_output=True, text=True, timeout=30)
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == f"2 3 14 {sample}"

        """

    static let missingFileTest = """
        import subprocess
        import sys
        from pathlib import Path

        ROOT = Path(__file__).resolve().parent.parent


        def test_cli_reports_a_missing_file(tmp_path):
            missing = tmp_path / "missing.txt"
            result = subprocess.run([sys.executable, "-m", "wordcount", str(missing)], cwd=ROOT,
                                    capture_output=True, text=True, timeout=30)
            assert result.returncode == 1
            assert f"wordcount: {missing}: No such file" in result.stderr

        """

    static var acceptanceTestsJSON: JSONValue {
        ["tests": [
            ["name": "test_count_text_counts_lines_words_and_characters", "priority": "must", "covers": [1],
             "file": "tests/test_counter.py", "code": .string(counterTest)],
            ["name": "test_cli_prints_counts_and_file_name", "priority": "must", "covers": [2],
             "file": "tests/test_cli.py", "code": .string(cliTest)],
            ["name": "test_cli_reports_a_missing_file", "priority": "should", "covers": [2],
             "file": "tests/test_cli_missing_file.py", "code": .string(missingFileTest)],
        ]]
    }

    static var acceptanceTests: String { acceptanceTestsJSON.jsonText }

    /// Tests that name a task the plan does not have and leave task 2's MUST criterion uncovered.
    static var invalidAcceptanceTests: String {
        (["tests": [
            ["name": "test_count_text_counts_lines_words_and_characters", "priority": "must", "covers": [1, 9],
             "file": "tests/test_counter.py", "code": .string(counterTest)],
        ]] as JSONValue).jsonText
    }

    // MARK: - Chat

    static let chatReply = #"""
        {"reply": "A word counter is a good first project. Should it read standard input too, or only files? If files are enough, start it with: /masterplan Build a word count command-line tool in Python",
         "plan_request": "Build a word count command-line tool in Python that prints the lines, words and characters of text files"}
        """#

    // MARK: - Reference implementation (what a working execution writes)

    static let files: [(path: String, content: String)] = [
        ("wordcount/__init__.py", """
            \"\"\"Count lines, words and characters of text.\"\"\"

            from wordcount.counter import Counts, count_text

            __all__ = ["Counts", "count_text"]

            """),
        ("wordcount/counter.py", """
            \"\"\"Counting the lines, words and characters of a text.\"\"\"

            from typing import NamedTuple


            class Counts(NamedTuple):
                lines: int
                words: int
                characters: int


            def count_text(text: str) -> Counts:
                \"\"\"Count newline characters, whitespace-separated words and characters, as wc does.\"\"\"
                return Counts(lines=text.count("\\n"), words=len(text.split()), characters=len(text))

            """),
        ("wordcount/cli.py", """
            \"\"\"The wordcount command line: python -m wordcount FILE...\"\"\"

            import sys

            from wordcount.counter import count_text


            def main(argv):
                if not argv:
                    print("usage: python -m wordcount FILE...", file=sys.stderr)
                    return 2
                status = 0
                for path in argv:
                    try:
                        with open(path, encoding="utf-8") as handle:
                            text = handle.read()
                    except FileNotFoundError:
                        print(f"wordcount: {path}: No such file", file=sys.stderr)
                        status = 1
                        continue
                    counts = count_text(text)
                    print(f"{counts.lines} {counts.words} {counts.characters} {path}")
                return status

            """),
        ("wordcount/__main__.py", """
            import sys

            from wordcount.cli import main

            sys.exit(main(sys.argv[1:]))

            """),
        ("README.md", """
            # wordcount

            Prints the lines, words and characters of text files, like `wc`:

                $ python -m wordcount notes.txt
                2 3 14 notes.txt

            """),
    ]

    /// A counter that miscounts words (it splits on spaces only, so a newline joins two words).
    static let brokenCounter = """
        from typing import NamedTuple


        class Counts(NamedTuple):
            lines: int
            words: int
            characters: int


        def count_text(text: str) -> Counts:
            return Counts(lines=text.count("\\n"), words=len([w for w in text.split(" ") if w]), characters=len(text))

        """
}
