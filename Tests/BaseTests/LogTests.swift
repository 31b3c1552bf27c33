import Base
import Testing
import TestSupport

@Suite(.dedicatedThreads) struct LogTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("plan.id", "plan.id"),
        ("", "\"\""),
        ("two words", "\"two words\""),
        ("say \"hi\"\nthen \\ go", "\"say \\\"hi\\\"\\nthen \\\\ go\""),
        ("a=b", "\"a=b\""),
    ])
    func valuesAreBareOnlyWhenTheyAreOneSimpleWord(value: String, written: String) {
        #expect(Log.line(.info, "m", ["k": value]) == "level=info msg=m k=\(written)")
    }

    @Test func aLineIsTheLevelTheConstantMessageAndTheFieldsInOrder() {
        let line = Log.line(.warning, "worker died", ["pid": "12", "status": "signal 9", "duration_ms": "3"])
        #expect(line == "level=warning msg=\"worker died\" pid=12 status=\"signal 9\" duration_ms=3")
    }
}
