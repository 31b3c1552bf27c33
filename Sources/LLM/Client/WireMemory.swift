/// What a client learned about its server: the request options that last succeeded, so later calls
/// skip forms the server refused (a structured-output form, `temperature`, `max_tokens`).
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
