import Foundation
import Testing
import TestSupport
@testable import VaultFormat

/// Replays the fuzz seeds (Tests/Fuzz/corpus/<target>/) and every input a fuzzer found that
/// broke a parser (Tests/Fuzz/regressions/<target>/) through the same property checks the
/// libFuzzer targets run (FuzzProperties.swift). See Tests/Fuzz/README.md.
@Suite struct FuzzCorpusTests {
    static let fuzzRoot = Repository.url("Tests/Fuzz")

    static func files(_ folder: String, _ target: FuzzTarget) -> [URL] {
        let dir = fuzzRoot.appendingPathComponent(folder).appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test func everyTargetHasAnEntryPointAndSeeds() throws {
        let entries = try FileManager.default.contentsOfDirectory(atPath: Self.fuzzRoot.appendingPathComponent("targets").path)
            .filter { $0.hasSuffix(".swift") }.map { String($0.dropLast(".swift".count)) }
        #expect(Set(entries) == Set(FuzzTarget.allCases.map(\.rawValue)))
        for target in FuzzTarget.allCases {
            #expect(Self.files("corpus", target).count >= 2, "\(target.rawValue) has no seeds")
        }
        // Regressions are filed under a target's name.
        let regressions = Self.fuzzRoot.appendingPathComponent("regressions")
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: regressions.path)) ?? [] where !folder.hasPrefix(".") {
            #expect(FuzzTarget(rawValue: folder) != nil, "Tests/Fuzz/regressions/\(folder) is no target")
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func seedsAndRegressionsKeepEveryProperty(_ target: FuzzTarget) throws {
        for file in Self.files("corpus", target) + Self.files("regressions", target) {
            let input = [UInt8](try Data(contentsOf: file))
            do { try target.check(input) } catch {
                Issue.record("\(target.rawValue)/\(file.lastPathComponent): \(error)")
            }
        }
    }
}
