import Foundation
import HTTPTypes
import Workflows

/// What a delivery's body becomes in the run's state, and the sender's delivery id.
extension WebhookReceiver {
    /// How a body is read, by its content type.
    enum Payload {
        case json, form, text
    }

    static func payloadKind(_ contentType: String?) throws -> Payload {
        // The media type before any parameters, without surrounding spaces, in lowercase (ASCII).
        var media: String?
        if let contentType {
            let bytes = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
            let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }
                .reversed()
            media = String(decoding: trimmed.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
        switch media {
        case "application/json": return .json
        case let type? where type.hasPrefix("application/") && type.hasSuffix("+json"): return .json
        case "application/x-www-form-urlencoded": return .form
        case "text/plain": return .text
        default:
            throw APIError(
                status: .unsupportedMediaType,
                message:
                    "content type \"\(contentType ?? "")\" is not accepted; send application/json, application/x-www-form-urlencoded or text/plain"
            )
        }
    }

    /// The payload as the workflow sees it: JSON as it is, a form as an object of strings (a list
    /// where a field repeats), text as a string.
    static func decodePayload(_ body: [UInt8], kind: Payload) throws -> JSONValue {
        switch kind {
        case .json:
            guard !body.isEmpty else { throw APIError.badRequest("the body is empty; a JSON content type needs JSON") }
            do {
                return try JSONValue(json: Data(body), maxDepth: JSONValue.maximumInputDepth)
            } catch  where error.code == .jsonTooDeep {
                throw APIError.badRequest(
                    "the body nests deeper than \(JSONValue.maximumInputDepth) levels; flatten it")
            } catch {
                throw APIError.badRequest("the body is not valid JSON (the content type says it is)")
            }
        case .text:
            guard let text = String(validating: body, as: UTF8.self) else {
                throw APIError.badRequest("the body is not valid UTF-8 text")
            }
            return .string(text)
        case .form:
            guard let text = String(validating: body, as: UTF8.self) else {
                throw APIError.badRequest("the form body is not valid UTF-8")
            }
            var fields: [String: JSONValue] = [:]
            for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = formDecode(parts[0]), let value = formDecode(parts.count > 1 ? parts[1] : "") else {
                    throw APIError.badRequest("the form body has a bad %-escape in \"\(pair.prefix(80))\"")
                }
                switch fields[key] {
                case nil: fields[key] = .string(value)
                case .array(let list)?: fields[key] = .array(list + [.string(value)])
                case let first?: fields[key] = .array([first, .string(value)])
                }
            }
            return .object(fields)
        }
    }

    /// True when the content type is exactly `application/x-www-form-urlencoded` (what `curl -d`
    /// sends by default, without parameters) and the body is a JSON object or list that is not a
    /// form: some `&`-separated part has no `=`. Read as a form, `{"message":"hi"}` would become one
    /// key with an empty value and the run would "succeed" on nonsense.
    static func isJSONSentAsCurlForm(_ body: [UInt8], contentType: String?) -> Bool {
        guard contentType == "application/x-www-form-urlencoded",
            let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return false }
        let pairs = body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
        guard pairs.contains(where: { !$0.contains(UInt8(ascii: "=")) }) else { return false }
        return (try? JSONValue(json: Data(body), maxDepth: JSONValue.maximumInputDepth)) != nil
    }

    static func formDecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The sender's delivery id, if it gave one: printable ASCII, at most 200 characters.
    static func deliveryID(_ headers: HTTPFields) throws -> String? {
        for header in WebhookHeaders.delivery {
            guard let value = headers[header.name] else { continue }
            guard (1...200).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw APIError.badRequest("\(header.text) must be 1-200 printable characters without spaces")
            }
            return value
        }
        return nil
    }
}
