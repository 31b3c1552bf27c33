import Foundation

/// The demo cassette bundled with the LLM module (`Resources/demo/fastapi-jwt.jsonl`): a scripted
/// model that answers every call of the source document's example, "create a FastAPI app with JWT
/// auth", from discovery to the last file, so a newcomer sees the whole flow with no API key.
///
/// The script holds a real project (FastAPI, PyJWT, pydantic, standard-library password hashing)
/// whose code passes its pytest acceptance tests in the sandbox. It also shows each mechanism once:
/// an atom whose first answer has a syntax error and is retried, an atom whose first answer is
/// valid but fails a MUST test and is fixed by a Gate S repair round, and an atom that needs three
/// attempts and goes to a low-confidence review with AI suggestions. `Resources/demo/README.txt`
/// describes it call by call.
///
/// It is a scripted model, not a real one: every entry names `model`, and `masterplan replay-llm`
/// marks every answer it sends as scripted.
public enum DemoCassette {
    /// The model name every entry of the demo cassette carries.
    public static let model = "masterplan-demo-scripted"

    /// The request the cassette was written for (any request gets the same plan: keys are fixed words).
    public static let request = "create a FastAPI app with JWT auth"

    /// The file name of the cassette inside the module's `Resources/demo` folder.
    public static let fileName = "fastapi-jwt.jsonl"

    /// The path of the bundled cassette file, for `Cassette.load(path:)` and `masterplan replay-llm
    /// --cassette`. When the bundle lacks it (a broken installation) this is still the path where it
    /// belongs, so loading it fails with a message naming that path.
    public static var path: String {
        let name = (fileName as NSString).deletingPathExtension, ext = (fileName as NSString).pathExtension
        if let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources/demo")
            ?? Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "demo") {
            return url.path
        }
        return Bundle.module.bundleURL.appendingPathComponent("Resources/demo/\(fileName)").path
    }
}
