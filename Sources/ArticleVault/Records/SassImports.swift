internal import VaultFormat

extension SassImports {
    /// Whether `name` (a file's, by its bytes) is one Sass compiles (`.scss`, `.sass`, in any
    /// case: jekyll-sass-converter matches them so).
    static func isSass(_ name: String) -> Bool {
        RecordWalker.isStylesheet(name, atTop: false)
    }
}
