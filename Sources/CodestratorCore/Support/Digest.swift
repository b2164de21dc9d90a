import Foundation

/// Public SHA-256 for other modules (the install manifest records file hashes).
public enum Digest {
    /// Lower-case hex SHA-256 of `data`.
    public static func sha256Hex(_ data: Data) -> String { SHA256Digest.hex(data) }
}
