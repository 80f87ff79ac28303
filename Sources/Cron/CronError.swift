/// An error from parsing a cron expression, a time zone or a time.
///
/// The ``description`` is a single line meant for the person who wrote the input: it quotes the input,
/// names the field and says what is allowed, for example
/// `invalid cron expression "61 * * * *": minute field "61" is out of range 0-59`.
/// It never carries anything but the input it complains about.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem was found. New codes may be added; switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The expression does not have 5 or 6 fields, or is empty.
        public static let fieldCount = Code(name: "fieldCount")
        /// A value is outside the field's range.
        public static let outOfRange = Code(name: "outOfRange")
        /// A value, name, step or item could not be read.
        public static let syntax = Code(name: "syntax")
        /// A special character (`L`, `W`, `#`, `?`, `H`) is used where it is not allowed.
        public static let misplaced = Code(name: "misplaced")
        /// An unknown `@macro`.
        public static let unknownMacro = Code(name: "unknownMacro")
        /// An `@every` duration that is not a positive whole number of seconds.
        public static let invalidDuration = Code(name: "invalidDuration")
        /// An unknown IANA time zone.
        public static let unknownTimeZone = Code(name: "unknownTimeZone")
        /// The expression is well formed but matches no time at all.
        public static let neverFires = Code(name: "neverFires")
        /// A date or time that could not be read.
        public static let invalidTime = Code(name: "invalidTime")

        /// The code's name as written in Swift (`outOfRange`), for logs and tests; not a message.
        public var description: String { name }
    }

    /// What kind of problem was found.
    public var code: Code
    /// The whole line, ready to show.
    public var message: String
    /// The field that is wrong (`minute`, `day-of-week`, …), when one is.
    public var field: String?
    /// The 1-based column in the expression where the wrong field starts, when known.
    public var column: Int?

    init(_ code: Code, _ message: String, field: String? = nil, column: Int? = nil) {
        self.code = code
        self.message = message
        self.field = field
        self.column = column
    }

    /// The same line as ``message``: what is wrong with the quoted input and what is allowed.
    public var description: String { message }

    /// Quotes user input for a one-line message: control characters, line and paragraph separators
    /// are escaped (`\n`, `\u{2028}`), and input past 120 characters is cut with `…`.
    static func quote(_ text: some StringProtocol, marks: Bool = true) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 120 {
                out += "…"
                break
            }
            count += 1
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _
            where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                || scalar.value == 0x2029:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return marks ? "\"" + out + "\"" : out
    }
}
