/// schedulerd's version: what `--version` prints and what each daemon reports among the instances
/// sharing a store.
public enum ProductVersion {
    /// The version of this build.
    public static let current = "0.6.0"
}
