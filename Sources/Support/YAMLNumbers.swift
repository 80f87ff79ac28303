import Yams

extension Yams.Node {
    /// The integer this scalar spells, as Yams reads it (`42`, `-7`, `1_000`, `0x1F`, `0o17`), or `nil`;
    /// a scalar with a `:` is never an integer.
    ///
    /// Yams also reads YAML 1.1's base-60 integers (`1:30` is 90) with arithmetic that traps once the
    /// value passes `Int.max` (`1:0:0:0:0:0:0:0:0:0:0`), which would stop the daemon at start or on
    /// SIGHUP. Files are read through this property instead of `int`, so such text stays a string;
    /// YAML 1.2 dropped base-60 numbers too.
    package var integer: Int? {
        guard let scalar, !scalar.string.contains(":") else { return nil }
        return int
    }

    /// The floating-point number this scalar spells (`0.5`, `1e3`, `.inf`), or `nil`; as with
    /// ``integer``, a scalar with a `:` is never a number (`12:30` stays the string it looks like).
    package var number: Double? {
        guard let scalar, !scalar.string.contains(":") else { return nil }
        return float
    }
}
