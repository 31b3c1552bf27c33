@testable import Engine
import Testing
import TestSupport

/// The reply read out of a chat answer while it streams: it only grows, never shows a half escape,
/// and ends as the reply that is stored.
@Suite(.dedicatedThreads) struct PartialChatReplyTests {
    /// Answers as models send them, each streamed one Unicode scalar at a time below.
    static let answers: [String] = [
        // The schema's order, compact, with every escape JSON has and raw non-ASCII text.
        #"{"reply":"A word counter is a good first project.\nIt reads \"notes.txt\", counts words \\ lines\/pages, and prints totals\t— naïve but useful. Caf\u00e9 \ud83d\ude80 🚀 \u2603\b\f\r. Shall I plan it?","plan_request":"A CLI that counts words"}"#,
        // plan_request first, pretty-printed, whitespace around every token.
        "{\n  \"plan_request\" : \"Build a {tricky} \\\"word\\\" counter\" ,\n  \"reply\" :\t\"Sure: I can plan a word counter.\\nTell me the file types.\"\r\n}\n",
        // plan_request null and nested values a lenient model might add first.
        #"{"extra": {"a": [1, 2.5e3, true, null, "}]"], "b": {}}, "plan_request": null, "reply": "Hi! \u00c9t\u00e9 \ud834\udd1e"}"#,
        // In a Markdown fence.
        "```json\n{\"reply\": \"Fenced, \\\"quoted\\\" and done.\", \"plan_request\": null}\n```\n",
        // Prose from a model that ignored the schema.
        "  Sure — tell me more about your notes.\nWhat format are they in? Plain text, Markdown, or both?\n\n",
    ]

    @Test(arguments: answers) func everyPrefixShowsAGrowingReplyThatEndsAsTheStoredOne(answer: String) {
        let scalars = Array(answer.unicodeScalars)
        var previous: [Unicode.Scalar] = []
        for length in 0...scalars.count {
            var prefix = String.UnicodeScalarView()
            prefix.append(contentsOf: scalars[..<length])
            let shown = Array(PartialChatReply.text(in: String(prefix)).unicodeScalars)
            #expect(shown.starts(with: previous), "after \(length) of \(scalars.count) scalars the reply shrank or changed")
            previous = shown
        }
        let stored = ChatHandler.reply(from: answer).text
        #expect(!stored.hasPrefix("Sorry"))
        #expect(String(String.UnicodeScalarView(previous)) == stored)
    }

    @Test func theWordCountFixtureStreamsToItsReply() {
        let answer = WordCountFixture.chatReply
        #expect(PartialChatReply.text(in: answer) == ChatHandler.reply(from: answer).text)
        #expect(PartialChatReply.text(in: String(answer.prefix(#"{"reply": "A word"#.count))) == "A word")
    }

    @Test(arguments: [
        (#"{"reply": "a\"#, "a"),
        (#"{"reply": "a\u"#, "a"),
        (#"{"reply": "a\u00e"#, "a"),
        (#"{"reply": "a\u00e9"#, "aé"),
        (#"{"reply": "a\ud83d"#, "a"),
        (#"{"reply": "a\ud83d\"#, "a"),
        (#"{"reply": "a\ud83d\ude8"#, "a"),
        (#"{"reply": "a\ud83d\ude80"#, "a🚀"),
        (#"{"reply": "a\ud83d\ude80b"#, "a🚀b"),
        (#"{"reply": "a\n\t\/\\\"\b\f\r"#, "a\n\t/\\\"\u{08}\u{0C}\r"),
        (#"{"reply": "é🚀 raw"#, "é🚀 raw"),
    ]) func escapesAppearOnlyWhenComplete(received: String, shown: String) {
        #expect(PartialChatReply.text(in: received) == shown)
    }

    @Test(arguments: [
        // Nothing of the reply yet.
        "", "   \n", "{", "{\"", "{\"rep", "{\"reply\"", "{\"reply\" :", "{\"reply\": ",
        "{\"plan_request\": \"still writing", "{\"plan_request\": nul", "{\"plan_request\": {\"a\": [1,",
        "`", "``", "```", "```json", "```json\n", "```json\n  ",
        // No reply member, or not a string, or JSON broken before it.
        "{}", "{\"plan_request\": null}", "{\"reply\": null}", "{\"reply\": 42}", "{\"replying\": \"no\"}",
        "{\"reply\" \"missing colon\"}", "{\"plan_request\": null \"reply\": \"no comma\"}",
    ]) func nothingIsShownBeforeTheReplyBegins(received: String) {
        #expect(PartialChatReply.text(in: received) == "")
    }

    @Test(arguments: [
        // An invalid escape, a lone surrogate and \u0000 stop the reply where they are.
        (#"{"reply": "ok\x then"#, "ok"),
        (#"{"reply": "ok\udc00 then"#, "ok"),
        (#"{"reply": "ok\ud83d\u0041 then"#, "ok"),
        (#"{"reply": "ok\u0000 then"#, "ok"),
        // The first "reply" member counts; nested ones do not.
        (#"{"plan_request": {"reply": "nested"}, "reply": "top"}"#, "top"),
        (#"{"reply": "first", "reply": "second"}"#, "first"),
        // Raw control characters, which local model servers send, are kept.
        ("{\"reply\": \"line one\nline two", "line one\nline two"),
    ]) func brokenOrUnusualJSON(received: String, shown: String) {
        #expect(PartialChatReply.text(in: received) == shown)
    }

    @Test(arguments: [
        ("Sure, tell me more.", "Sure, tell me more."),
        ("\n  Sure, tell me more.  \n", "Sure, tell me more."),
        ("Here it is: {\"reply\": \"x\"}", "Here it is:"),
        ("`ls` lists files", "`ls` lists files"),
        ("```python\nprint(1)\n```", "```python\nprint(1)\n```"),
    ]) func proseIsShownUpToAnEmbeddedObject(received: String, shown: String) {
        #expect(PartialChatReply.text(in: received) == shown)
    }
}
