import FastCGI
import Testing
import TestSupport

/// Decoding of the CGI parameters, without a socket.
@Suite(.dedicatedThreads) struct RequestParamsTests {
    @Test(arguments: [
        ("a=1&b=2", [QueryItem(name: "a", value: "1"), QueryItem(name: "b", value: "2")]),
        ("q=caf%C3%A9+au+lait", [QueryItem(name: "q", value: "café au lait")]),
        ("%2B=%2b&plus=a+b", [QueryItem(name: "+", value: "+"), QueryItem(name: "plus", value: "a b")]),
        ("a=1=2", [QueryItem(name: "a", value: "1=2")]),
        ("&&a&", [QueryItem(name: "a", value: "")]),
        ("pct=100%&trail=%4", [QueryItem(name: "pct", value: "100%"), QueryItem(name: "trail", value: "%4")]),
        ("bad=%FF", [QueryItem(name: "bad", value: "\u{FFFD}")]),
        ("", []),
    ])
    func queryStringsDecode(queryString: String, expected: [QueryItem]) {
        #expect(RequestParams.parseQuery(queryString) == expected)
    }

    @Test func percentDecodingKeepsPlusOutsideQueries() {
        #expect(RequestParams.percentDecode("a+b%20c", plusIsSpace: false) == "a+b c")
        #expect(RequestParams.percentDecode("a+b%20c", plusIsSpace: true) == "a b c")
    }

    @Test func headersComeFromHTTPParams() {
        let params = RequestParams([
            "HTTP_ACCEPT": "text/event-stream", "HTTP_LAST_EVENT_ID": "17", "HTTP_AUTHORIZATION": "Bearer t",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": "12", "SERVER_NAME": "localhost",
        ])
        #expect(params.headers == [
            "accept": "text/event-stream", "last-event-id": "17", "authorization": "Bearer t",
            "content-type": "application/json", "content-length": "12",
        ])
        #expect(params.header("Last-Event-ID") == "17")
        #expect(params.header("AUTHORIZATION") == "Bearer t")
        #expect(params.header("Server-Name") == nil)
    }

    @Test(arguments: [("", nil), ("0", 0), ("1048576", 1_048_576), ("-1", nil), ("12abc", nil), (" 5", nil)] as [(String, Int?)])
    func contentLengthParses(text: String, expected: Int?) {
        #expect(RequestParams(["CONTENT_LENGTH": text]).contentLength == expected)
    }

    @Test func pathFallsBackToRequestURIWithoutQuery() {
        #expect(RequestParams(["DOCUMENT_URI": "/api/v1/me", "REQUEST_URI": "/api/v1/me?x=1"]).path == "/api/v1/me")
        #expect(RequestParams(["REQUEST_URI": "/health/live?verbose=1"]).path == "/health/live")
        #expect(RequestParams([:]).path == "")
        #expect(RequestParams([:]).method == "")
    }
}
