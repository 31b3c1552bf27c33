import JSON
import LLM

/// A scripted model for a small Go project: a command line that converts CSV to JSON, on Go's standard
/// library (encoding/csv, encoding/json), tested with `go test`. It holds the generation answers, the
/// reference content of every file, and the wrong answers of the repair paths.
enum CSVToJSONFixture: ScriptedProject {
    static let request = "Write a Go command-line tool that converts CSV to JSON"

    static let discovery = #"""
        {"domain": "data conversion",
         "bounded_contexts": [{"name": "Conversion", "description": "Turns a CSV table with a header row into JSON objects.",
                               "responsibilities": ["read CSV", "write JSON"]}],
         "aggregates": [],
         "value_objects": [{"name": "Record", "bounded_context": "Conversion", "attributes": ["header name", "cell value"]}],
         "domain_events": [],
         "services": [{"name": "Converter", "bounded_context": "Conversion", "description": "Converts one CSV stream.", "operations": ["convert"]}],
         "assumptions": ["The first row is the header.", "Only Go's standard library is used."],
         "clarifications": [{"question": "Should numbers become JSON numbers?", "assumed_answer": "No: every cell stays a string."}],
         "risks": [{"description": "Rows with a different number of cells than the header.", "severity": "medium",
                    "mitigation": "Such a row is an error naming its line."}]}
        """#

    static let plan = #"""
        {"project_name": "csv2json",
         "summary": "A command-line tool that converts CSV with a header row to a JSON array of objects, on Go's standard library.",
         "tech_stack": {"language": "Go 1.19", "framework": null, "database": null, "test_command": "go test ./...", "other": []},
         "phases": [
          {"number": 1, "kind": "core", "name": "Conversion", "description": "The converter and its command line.",
           "milestones": [
            {"number": 1, "name": "Working command", "description": "csv2json FILE prints the JSON.",
             "tasks": [
              {"number": 1, "name": "Converter",
               "description": "go.mod declares module example.com/csv2json (go 1.19, no requirements). convert/convert.go (package convert) defines Convert(r io.Reader, w io.Writer) error: it reads CSV with encoding/csv, takes the first row as the header, and writes a JSON array with one object per row mapping header names to cell strings, followed by a newline; input without a header row is the error \"no header row\", and a row whose cell count differs from the header's is an error naming its line (\"line 3: 1 cells, the header has 2\").",
               "complexity": "low", "depends_on": [], "files": ["go.mod", "convert/convert.go"],
               "subtasks": [{"number": 1, "name": "Convert", "description": "CSV in, JSON out."}],
               "acceptance": [{"priority": "must", "criterion": "Convert of \"name,age\\nAda,36\\n\" writes [{\"age\":\"36\",\"name\":\"Ada\"}] and a newline; a ragged row is an error naming its line"}]},
              {"number": 2, "name": "Command line",
               "description": "cmd/csv2json/main.go (package main) defines run(args []string, stdin io.Reader, stdout, stderr io.Writer) int: with a file argument it converts that file, without one standard input; a file that cannot be opened prints \"csv2json: \" and the error to stderr and returns 1, a conversion error likewise returns 1. main calls os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)).",
               "complexity": "medium", "depends_on": [1], "files": ["cmd/csv2json/main.go"],
               "subtasks": [{"number": 1, "name": "run", "description": "Arguments, input and exit status."}],
               "acceptance": [{"priority": "must", "criterion": "run([\"people.csv\"], …) converts the file and returns 0; run with no arguments converts standard input"},
                              {"priority": "should", "criterion": "run([\"missing.csv\"], …) prints csv2json: and the error to stderr and returns 1"}]}
             ]}]},
          {"number": 2, "kind": "polish", "name": "Documentation", "description": "Tell people how to use it.",
           "milestones": [
            {"number": 1, "name": "README", "description": "Usage documented.",
             "tasks": [
              {"number": 3, "name": "README", "description": "README.md explains csv2json, go build ./cmd/csv2json and an example.",
               "complexity": "low", "depends_on": [2], "files": ["README.md"], "subtasks": [], "acceptance": []}
             ]}]}
         ]}
        """#

    // MARK: - Acceptance tests (real Go tests against the plan's files)

    static let convertTest = """
        package convert

        import (
        \t"bytes"
        \t"strings"
        \t"testing"
        )

        func TestConvertWritesOneObjectPerRow(t *testing.T) {
        \tvar out bytes.Buffer
        \tif err := Convert(strings.NewReader("name,age\\nAda,36\\nAlan,41\\n"), &out); err != nil {
        \t\tt.Fatalf("Convert: %v", err)
        \t}
        \twant := `[{"age":"36","name":"Ada"},{"age":"41","name":"Alan"}]` + "\\n"
        \tif out.String() != want {
        \t\tt.Fatalf("Convert wrote %q, want %q", out.String(), want)
        \t}
        }

        func TestConvertRefusesARaggedRow(t *testing.T) {
        \terr := Convert(strings.NewReader("name,age\\nAda,36\\nAlan\\n"), &bytes.Buffer{})
        \tif err == nil || !strings.Contains(err.Error(), "line 3") {
        \t\tt.Fatalf("Convert of a ragged row: %v, want an error naming line 3", err)
        \t}
        }

        """

    static let runTest = """
        package main

        import (
        \t"bytes"
        \t"os"
        \t"path/filepath"
        \t"strings"
        \t"testing"
        )

        func TestRunConvertsAFile(t *testing.T) {
        \tpath := filepath.Join(t.TempDir(), "people.csv")
        \tif err := os.WriteFile(path, []byte("name\\nAda\\n"), 0o644); err != nil {
        \t\tt.Fatal(err)
        \t}
        \tvar stdout, stderr bytes.Buffer
        \tif code := run([]string{path}, strings.NewReader("name\\nNobody\\n"), &stdout, &stderr); code != 0 {
        \t\tt.Fatalf("run = %d, stderr %q", code, stderr.String())
        \t}
        \tif stdout.String() != `[{"name":"Ada"}]`+"\\n" {
        \t\tt.Fatalf("stdout %q", stdout.String())
        \t}
        }

        func TestRunReadsStandardInput(t *testing.T) {
        \tvar stdout, stderr bytes.Buffer
        \tif code := run(nil, strings.NewReader("x,y\\n1,2\\n"), &stdout, &stderr); code != 0 {
        \t\tt.Fatalf("run = %d, stderr %q", code, stderr.String())
        \t}
        \tif stdout.String() != `[{"x":"1","y":"2"}]`+"\\n" {
        \t\tt.Fatalf("stdout %q", stdout.String())
        \t}
        }

        """

    static let errorsTest = """
        package main

        import (
        \t"bytes"
        \t"strings"
        \t"testing"
        )

        func TestRunReportsAMissingFile(t *testing.T) {
        \tvar stdout, stderr bytes.Buffer
        \tif code := run([]string{"missing.csv"}, strings.NewReader(""), &stdout, &stderr); code != 1 {
        \t\tt.Fatalf("run = %d, want 1", code)
        \t}
        \tif !strings.HasPrefix(stderr.String(), "csv2json: ") {
        \t\tt.Fatalf("stderr %q", stderr.String())
        \t}
        }

        """

    static var acceptanceTestsJSON: JSONValue {
        ["tests": [
            ["name": "convert", "priority": "must", "covers": [1], "file": "convert/convert_test.go", "code": .string(convertTest)],
            ["name": "run", "priority": "must", "covers": [2], "file": "cmd/csv2json/main_test.go", "code": .string(runTest)],
            ["name": "errors", "priority": "should", "covers": [2], "file": "cmd/csv2json/errors_test.go", "code": .string(errorsTest)],
        ]]
    }

    // MARK: - Reference implementation

    static let tasks: [String: Int] = ["go.mod": 1, "convert/convert.go": 1, "cmd/csv2json/main.go": 2, "README.md": 3]

    static let files: [(path: String, content: String)] = [
        ("go.mod", "module example.com/csv2json\n\ngo 1.19\n"),
        ("convert/convert.go", convertSource),
        ("cmd/csv2json/main.go", mainSource(readsFiles: true)),
        ("README.md", """
            # csv2json

            Converts CSV with a header row to a JSON array of objects:

                go build ./cmd/csv2json
                ./csv2json people.csv        # or: ./csv2json < people.csv

            """),
    ]

    static let convertSource = """
        // Package convert turns CSV with a header row into JSON objects.
        package convert

        import (
        \t"encoding/csv"
        \t"encoding/json"
        \t"errors"
        \t"fmt"
        \t"io"
        )

        // Convert reads CSV from r and writes a JSON array with one object per row to w.
        func Convert(r io.Reader, w io.Writer) error {
        \treader := csv.NewReader(r)
        \treader.FieldsPerRecord = -1
        \trows, err := reader.ReadAll()
        \tif err != nil {
        \t\treturn err
        \t}
        \tif len(rows) == 0 {
        \t\treturn errors.New("no header row")
        \t}
        \theader := rows[0]
        \trecords := make([]map[string]string, 0, len(rows)-1)
        \tfor index, row := range rows[1:] {
        \t\tif len(row) != len(header) {
        \t\t\treturn fmt.Errorf("line %d: %d cells, the header has %d", index+2, len(row), len(header))
        \t\t}
        \t\trecord := make(map[string]string, len(header))
        \t\tfor column, name := range header {
        \t\t\trecord[name] = row[column]
        \t\t}
        \t\trecords = append(records, record)
        \t}
        \treturn json.NewEncoder(w).Encode(records)
        }

        """

    /// The converter with a missing parenthesis: gofmt refuses it (the retry's first answer).
    static var convertWithSyntaxError: String {
        convertSource.replacingOccurrences(of: "if len(rows) == 0 {", with: "if len(rows == 0 {")
    }

    /// The command; with `readsFiles` false it ignores its argument and reads standard input (the gate's failure).
    static func mainSource(readsFiles: Bool) -> String {
        let open = readsFiles ? """
            \tif len(args) > 0 {
            \t\tfile, err := os.Open(args[0])
            \t\tif err != nil {
            \t\t\tfmt.Fprintf(stderr, "csv2json: %v\\n", err)
            \t\t\treturn 1
            \t\t}
            \t\tdefer file.Close()
            \t\tinput = file
            \t}

            """ : ""
        return """
            // Command csv2json converts CSV with a header row to JSON.
            package main

            import (
            \t"fmt"
            \t"io"
            \t"os"

            \t"example.com/csv2json/convert"
            )

            func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
            \tinput := stdin
            \(open)\tif err := convert.Convert(input, stdout); err != nil {
            \t\tfmt.Fprintf(stderr, "csv2json: %v\\n", err)
            \t\treturn 1
            \t}
            \treturn 0
            }

            func main() {
            \tos.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
            }

            """
    }
}
