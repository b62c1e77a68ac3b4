import Foundation

/// The repository the tests run from, for its `Fixtures/`, `keys/` and `Tests/` files.
public enum Repository {
    /// The repository root: the nearest directory above this file that holds `Package.swift`.
    public static let root: URL = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().standardizedFileURL
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            let parent = dir.deletingLastPathComponent()
            precondition(parent.path != dir.path, "no Package.swift above \(#filePath)")
            dir = parent
        }
        return dir
    }()

    /// `relative` inside the repository.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
}
