import JSON

/// Reads the fields of a JSON request body, collecting every problem so one 422 lists them all.
struct BodyFields {
    let object: JSONObject
    private(set) var errors: [(field: String, message: String)] = []

    init(_ object: JSONObject, allowed: [String]) {
        self.object = object
        for key in object.keys where !allowed.contains(key) {
            errors.append((key, "is not a field of this request (expected: \(allowed.joined(separator: ", ")))"))
        }
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    /// A string of at most `maxBytes` UTF-8 bytes; blank strings count as missing unless `allowBlank`.
    mutating func string(_ key: String, required: Bool = false, maxBytes: Int = 20_000, allowBlank: Bool = false) -> String? {
        guard let value = object[key], !value.isNull else {
            if required { errors.append((key, "is required")) }
            return nil
        }
        guard let text = value.stringValue else {
            errors.append((key, "must be a string, not \(value.typeName)"))
            return nil
        }
        if !allowBlank && text.allSatisfy(\.isWhitespace) {
            errors.append((key, "must not be empty"))
            return nil
        }
        if text.utf8.count > maxBytes {
            errors.append((key, "is \(text.utf8.count) bytes long; at most \(maxBytes) are allowed"))
            return nil
        }
        return text
    }

    /// A finite number greater than zero.
    mutating func positiveNumber(_ key: String) -> Double? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let number = value.doubleValue, number.isFinite, number > 0 else {
            errors.append((key, "must be a number greater than 0"))
            return nil
        }
        return number
    }

    /// One of `words`.
    mutating func word(_ key: String, from words: [String]) -> String? {
        guard let text = string(key) else { return nil }
        guard words.contains(text) else {
            errors.append((key, "must be one of: \(words.joined(separator: ", "))"))
            return nil
        }
        return text
    }

    /// An array of strings.
    mutating func strings(_ key: String, maxCount: Int = 100) -> [String]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.arrayValue, array.count <= maxCount else {
            errors.append((key, "must be an array of at most \(maxCount) strings"))
            return nil
        }
        let texts = array.compactMap(\.stringValue)
        guard texts.count == array.count else {
            errors.append((key, "must contain only strings"))
            return nil
        }
        return texts
    }

    /// An array of whole numbers.
    mutating func integers(_ key: String, maxCount: Int = 100) -> [Int]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.arrayValue, array.count <= maxCount else {
            errors.append((key, "must be an array of at most \(maxCount) whole numbers"))
            return nil
        }
        let numbers = array.compactMap { $0.intValue.map(Int.init) }
        guard numbers.count == array.count else {
            errors.append((key, "must contain only whole numbers"))
            return nil
        }
        return numbers
    }

    /// An array of objects.
    mutating func objects(_ key: String, maxCount: Int = 100) -> [JSONObject]? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let array = value.arrayValue, array.count <= maxCount else {
            errors.append((key, "must be an array of at most \(maxCount) objects"))
            return nil
        }
        let objects = array.compactMap(\.objectValue)
        guard objects.count == array.count else {
            errors.append((key, "must contain only objects"))
            return nil
        }
        return objects
    }

    mutating func fail(_ key: String, _ message: String) { errors.append((key, message)) }

    /// Throws a 422 listing every problem, if there was any.
    func check() throws(Problem) {
        if !errors.isEmpty { throw .validationFailed(errors) }
    }
}
