/// The version of this build.
public enum CodestratorVersion {
    public static let current = "0.1.0"
}
