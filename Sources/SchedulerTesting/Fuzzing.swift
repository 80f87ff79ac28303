import Foundation

/// Settings shared by the fuzz suites, from the environment so that a failure reproduces:
/// `FUZZ_SEED` (decimal or `0x…`), `FUZZ_ITERATIONS` (inputs per test; default 3,000) and
/// `FUZZ_SECONDS` (each test stops making new inputs after this many seconds; default 20).
public enum FuzzConfig {
    static let environment = ProcessInfo.processInfo.environment

    /// The seed every mutator starts from: `FUZZ_SEED`, else a fixed value, so that runs repeat; a value
    /// that does not parse gives 0.
    public static let seed: UInt64 = {
        guard let text = environment["FUZZ_SEED"] else { return 0x5C4E_D00D_2026_1204 }
        return text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) ?? 0 : UInt64(text) ?? 0
    }()

    /// Inputs per fuzz test: `FUZZ_ITERATIONS`, at least 1; default 3,000.
    public static let iterations: Int = environment["FUZZ_ITERATIONS"].flatMap { Int($0) }.map { max(1, $0) } ?? 3000

    /// Seconds after which a fuzz test makes no new inputs: `FUZZ_SECONDS`, at least 1; default 20.
    public static let seconds: Double = environment["FUZZ_SECONDS"].flatMap { Double($0) }.map { max(1, $0) } ?? 20
}

/// Makes hostile text: mutations of valid inputs (a corpus), with tokens from a dictionary, the
/// numbers that break arithmetic, odd Unicode, and long repetitions.
public struct Mutator {
    var rng: SplitMix64
    let corpus: [String]
    let dictionary: [String]

    /// - Parameter salt: told apart from other tests' mutators, all seeded from ``FuzzConfig/seed``.
    public init(salt: UInt64, corpus: [String], dictionary: [String]) {
        rng = SplitMix64(seed: SplitMix64.mix(FuzzConfig.seed, salt))
        self.corpus = corpus
        self.dictionary = dictionary + Self.numbers + Self.oddText
    }

    /// Numbers at and past every integer boundary, and things that look like numbers.
    public static let numbers = [
        "0", "-0", "-1", "1", "+1", "9", "59", "60", "61", "999999999", "1000000000", "2147483647", "2147483648",
        "-2147483649", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "99999999999999999999999999", "1e308", "1e309", "-1e309",
        "NaN", "nan", "inf", "-inf", "Infinity", "0x7fffffffffffffff", "1.5", ".5", "5.", "1_000", "١٢", "１２",
    ]

    /// Text that breaks assumptions about characters.
    public static let oddText = [
        "", " ", "\t", "\n", "\r\n", "\0", "\u{7F}", "\u{85}", "\u{A0}", "\u{2028}", "\u{200B}", "\u{FEFF}", "\u{FFFD}",
        "\u{301}", "\u{1F468}\u{200D}\u{1F469}", "ß", "İ", "\\", "\"", "'", "{", "}", "[", "]", ":", ",", "#", "&",
        "*", "|", ">", "%", "%00", "%zz", "{{", "}}", "${", "$(", "../", "/", "<script>", "\u{10FFFF}",
    ]

    /// One of `items`, chosen uniformly; `items` must not be empty.
    public mutating func pick<T>(_ items: [T]) -> T { rng.pick(items) }

    /// True with probability `p` (0 never, 1 always).
    public mutating func chance(_ p: Double) -> Bool { rng.chance(p) }

    /// A number in `range`, chosen uniformly.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { rng.int(range) }

    /// A new input: a corpus entry changed one to six times, sometimes made very long.
    public mutating func next() -> String {
        var text = Array(pick(corpus).unicodeScalars)
        for _ in 0..<int(1...6) { mutate(&text) }
        var result = String(String.UnicodeScalarView(text))
        if chance(0.02) { result = String(repeating: result, count: int(2...200)) }
        return result
    }

    private mutating func mutate(_ text: inout [Unicode.Scalar]) {
        let token = Array(pick(dictionary).unicodeScalars)
        let at = text.isEmpty ? 0 : int(0...text.count)
        switch int(0...7) {
        case 0, 1:
            text.insert(contentsOf: token, at: at)
        case 2 where !text.isEmpty:
            let end = min(text.count, at + int(1...8))
            text.removeSubrange(min(at, text.count)..<end)
        case 3 where !text.isEmpty:
            // Replace a run of digits (or any few characters) with a token.
            let start = min(at, text.count - 1)
            var end = start
            while end < text.count, text[end].properties.numericType != nil { end += 1 }
            text.replaceSubrange(start..<max(end, min(text.count, start + 1)), with: token)
        case 4 where !text.isEmpty:
            let start = min(at, text.count - 1)
            let end = min(text.count, start + int(1...16))
            let piece = Array(text[start..<end])
            for _ in 0..<int(1...50) { text.insert(contentsOf: piece, at: start) }
        case 5:
            let other = Array(pick(corpus).unicodeScalars)
            let cut = other.isEmpty ? 0 : int(0...other.count)
            text = Array(text.prefix(at)) + Array(other.suffix(from: cut))
        case 6 where !text.isEmpty:
            let index = min(at, text.count - 1)
            let value = UInt32(truncatingIfNeeded: rng.next() % 0x300)
            text[index] = Unicode.Scalar(value) ?? "?"
        default:
            text.append(contentsOf: token)
        }
    }
}

/// Runs `body` on up to ``FuzzConfig/iterations`` inputs from `make`, each recorded in a
/// ``FuzzCrashReport`` slot first, stopping early when ``FuzzConfig/seconds`` have passed. A case that
/// fails names the test, the seed and the input; a crash prints the input before the process ends.
/// `body` returns `nil` when the input was handled as it must be, or what was wrong.
/// - Throws: ``TestFailure`` naming the seed and up to ten failing inputs, or when the time allowed
///   ran out before a hundred inputs were tried (a bound in time must not hide an empty test).
public func fuzz(
    _ label: String, iterations: Int = FuzzConfig.iterations, make: () -> String,
    _ body: (String) async throws -> String?
) async throws {
    let slot = await FuzzCrashReport.slot(label)
    defer { slot.release() }
    let deadline = ContinuousClock.now + .seconds(FuzzConfig.seconds)
    var tried = 0
    var failures: [String] = []
    while tried < iterations, ContinuousClock.now < deadline {
        let input = make()
        slot.set(input)
        if let problem = try await body(input) {
            failures.append("\(problem) — input: \(String(reflecting: String(input.prefix(600))))")
            if failures.count >= 10 { break }
        }
        tried += 1
    }
    if !failures.isEmpty {
        throw TestFailure(
            description: "\(label), FUZZ_SEED=\(FuzzConfig.seed): \(failures.joined(separator: "\n"))")
    }
    if tried < min(iterations, 100) {
        throw TestFailure(description: "\(label): only \(tried) inputs in the time allowed")
    }
}
