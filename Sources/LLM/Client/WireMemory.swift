/// What a client learned about its server (one provider, base URL and model, as the client is
/// configured): the request options to start from, so later calls skip forms the server refused (a
/// structured-output form, `temperature`, `max_tokens`, Anthropic's content blocks).
///
/// A refusal is remembered as soon as the client steps down from it, whether or not the call then
/// succeeds; a success remembers the options that worked. Nothing is remembered from a failure that
/// named no parameter (a bare 500, a timeout): those never change the options.
actor WireMemory {
    private var plain: WireOptions?
    private var structured: WireOptions?

    func options(structured isStructured: Bool) -> WireOptions? {
        isStructured ? structured : plain
    }

    /// Remembers options that worked. The parameter knobs hold for every request to the model; the
    /// structured mode only for structured ones.
    func remember(_ options: WireOptions, structured isStructured: Bool) {
        func withKnobs(_ base: WireOptions?) -> WireOptions? {
            guard var base else { return nil }
            base.sendTemperature = options.sendTemperature
            base.maxTokensField = options.maxTokensField
            base.sendStreamOptions = options.sendStreamOptions
            base.contentBlocks = options.contentBlocks
            base.reducedSchema = options.reducedSchema
            return base
        }
        if isStructured {
            structured = options
            plain = withKnobs(plain) ?? { var o = options; o.structuredMode = nil; return o }()
        } else {
            plain = options
            structured = withKnobs(structured)
        }
    }
}
