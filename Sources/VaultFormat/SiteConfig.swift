internal import CYAML

/// What a Jekyll site's `_config.yml` says about the entries it publishes that a walk skips:
/// its `include:` list (Jekyll publishes the hidden entries it names, such as `.well-known`).
public enum SiteConfig {
    /// What Jekyll includes when its configuration sets no `include:` (`.htaccess`).
    public static let defaultInclude = [".htaccess"]

    /// The settings that move a directory Jekyll reads from its default place, and their
    /// defaults: where collections (and posts) live, and where layouts, includes, data files
    /// and plugins are read from.
    public static let directoryKeys: [String: String] = ["collections_dir": "", "layouts_dir": "_layouts", "includes_dir": "_includes",
                                                         "data_dir": "_data", "plugins_dir": "_plugins"]

    /// Where Jekyll keeps its cache when the configuration sets no `cache_dir:` (in the site's
    /// source), which `jekyll build` reads in place of rendering files it has rendered before.
    public static let defaultCacheDir = ".jekyll-cache"

    /// A path of the configuration as Jekyll expands it from the site's source
    /// (`File.expand_path`): `.` and empty segments dropped, a `..` taking the segment before it
    /// away (none above the source).
    public static func expanded(_ item: String) -> String {
        var segments: [Substring] = []
        for segment in item.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." { _ = segments.popLast() } else { segments.append(segment) }
        }
        return segments.joined(separator: "/")
    }

    /// What a `_config.yml` says about the entries Jekyll reads: its `include:` list (nil when
    /// it sets none), and each of ``directoryKeys`` it sets, with its value.
    public struct Settings: Equatable, Sendable {
        public var include: [String]?
        public var directories: [String: String] = [:]
        /// Its `cache_dir:` (nil when it sets none).
        public var cacheDir: String?
        public init(include: [String]? = nil, directories: [String: String] = [:], cacheDir: String? = nil) {
            self.include = include; self.directories = directories; self.cacheDir = cacheDir
        }
    }

    /// The `include:` list of a `_config.yml`'s text, as ``settings(in:)`` reads it.
    public static func include(in bytes: UnsafeRawBufferPointer) throws(FormatError) -> [String]? {
        try settings(in: bytes)?.include
    }

    /// The `include:` list of a `_config.yml`'s text, or nil when it sets none (an empty file
    /// or document, or one without the key): every scalar item as its text (Jekyll ignores
    /// items that are not strings, such as numbers; taking them as text only makes the walk
    /// see more). The last `include` key counts, as in Psych.
    ///
    /// Refused, since what Jekyll includes could not be told (and Jekyll itself cannot build
    /// with most of these): YAML that libyaml cannot parse, a document that is not a mapping,
    /// an `include:` that is not a sequence, an alias or a `<<` merge key at the top level or in
    /// the list. Only the first document is read (Psych's `safe_load` reads only it). Each of
    /// ``directoryKeys`` set must be a name (a scalar); the last one counts. Nil for an empty
    /// configuration.
    ///
    /// Refused too, since the files Jekyll reads would then not be those of the site avault
    /// walks: `source:` (Jekyll builds that directory when not given `-s`), and a `plugins_dir:`
    /// other than `_plugins` (Jekyll reads any other from the directory it runs in, not from the
    /// site: `Site#plugins_path`). `cache_dir:` must be a name too. So is a `sass:` mapping that
    /// sets `sass_dir` or `load_paths` (jekyll-sass-converter reads partials there, where the
    /// walk, which takes `_sass`, does not look), or an `implementation` other than `sassc`
    /// (Dart Sass reads what the gate does not follow), or that cannot be read for them (an
    /// alias, a `<<` merge key).
    /// Why a `sass: implementation:` other than `sassc` is refused.
    static let implementationRefused = "sass: implementation: other than sassc (Dart Sass reads @use, @forward and imports beside a page, which avault does not follow)"

    public static func settings(in bytes: UnsafeRawBufferPointer) throws(FormatError) -> Settings? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw .invalidSiteConfig("out of memory", line: nil) }
        defer { yaml_parser_delete(&parser) }
        var empty: UInt8 = 0
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        yaml_parser_set_input_string(&parser, base ?? withUnsafeMutablePointer(to: &empty) { UnsafePointer($0) }, bytes.count)

        var depth = 0 // open mappings and sequences
        var awaitingKey = true // at depth 1, in the top-level mapping
        var inInclude = false // the value of the current top-level key is the include list
        var list: [String]?
        var current: [String] = []
        var directories: [String: String] = [:]
        var directoryKey: String? // the current top-level key is one of directoryKeys
        var cacheDir: String?
        var inCacheDir = false // the current top-level key is cache_dir
        var inSassKey = false // the current top-level key is sass
        var inSass = false // in the sass: mapping (its keys at depth 2)
        var sassAwaitingKey = true
        var inSassDir = false // the current key of the sass: mapping is sass_dir
        var inSassImplementation = false // … is implementation
        var inSource = false // the current top-level key is source
        /// Whether a plain scalar is YAML's null (which Jekyll's merge of its defaults drops).
        func isNull(_ style: yaml_scalar_style_t, _ text: String) -> Bool {
            style == YAML_PLAIN_SCALAR_STYLE && ["", "~", "null", "Null", "NULL"].contains(text)
        }
        /// Whether a tag other than `!!str` is on the scalar (Psych decodes `!!binary`).
        func isTaggedOtherThanText(_ tag: UnsafeMutablePointer<yaml_char_t>?) -> Bool {
            tag.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) != "tag:yaml.org,2002:str" } ?? false
        }
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                throw .invalidSiteConfig("invalid YAML: \(problem)", line: Int(parser.problem_mark.line) + 1)
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT, YAML_DOCUMENT_END_EVENT:
                return Settings(include: list, directories: directories, cacheDir: cacheDir)
            case YAML_ALIAS_EVENT:
                // A key that may be `include`, the list, or an item of it.
                if inInclude || depth == 1 && (awaitingKey || directoryKey != nil || inCacheDir || inSassKey || inSource)
                    || inSass && depth == 2 && (sassAwaitingKey || inSassDir) {
                    throw .invalidSiteConfig("an alias where avault looks for include:, a directory or sass: settings: write it out", line: line)
                }
                if depth == 1 { awaitingKey = true }
                if inSass && depth == 2 { sassAwaitingKey = true }
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let text = String(decoding: UnsafeRawBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                // A tag changes what Psych makes of the text (`!!binary` decodes base64): a key,
                // or an item of the list, must be the text it reads as.
                if depth == 1 && awaitingKey || depth == 2 && (inInclude || inSass && sassAwaitingKey), isTaggedOtherThanText(s.tag) {
                    throw .invalidSiteConfig("a tag on a key or an include: item, which Jekyll may read as other text: remove it", line: line)
                }
                switch depth {
                case 0:
                    // A document that is one scalar: empty or null is no configuration.
                    guard isNull(s.style, text) else { throw .invalidSiteConfig("the configuration is not a mapping", line: line) }
                    return nil
                case 1 where awaitingKey:
                    if text == "<<" { throw .invalidSiteConfig("a '<<' merge key at the top level: write its keys out", line: line) }
                    inSource = text == "source"
                    inInclude = text == "include"
                    inCacheDir = text == "cache_dir"
                    inSassKey = text == "sass"
                    directoryKey = directoryKeys[text] != nil ? text : nil
                    awaitingKey = false
                case 1:
                    if inInclude { throw .invalidSiteConfig("include: is not a list of names", line: line) }
                    // `.` (Jekyll reads it from the directory it runs in, where it read this
                    // file) and null leave the site where it is.
                    if inSource, isTaggedOtherThanText(s.tag) || !isNull(s.style, text) && text != "." {
                        throw .invalidSiteConfig("source: makes jekyll build read another directory than the site avault walks: remove it, and walk and build that directory", line: line)
                    }
                    if inCacheDir {
                        // Jekyll keeps an absolute path as it is (inside the source); avault
                        // would look for it under the site.
                        if isTaggedOtherThanText(s.tag) || text.hasPrefix("/") {
                            throw .invalidSiteConfig("cache_dir: with a tag or an absolute path, which avault does not read: name a directory of the site", line: line)
                        }
                        cacheDir = isNull(s.style, text) ? nil : text
                    }
                    if directoryKey == "plugins_dir", text != "_plugins", !isNull(s.style, text) {
                        throw .invalidSiteConfig("plugins_dir: other than _plugins, which Jekyll reads from the directory jekyll build runs in, not from the site: avault cannot tell which plugins run", line: line)
                    }
                    if let key = directoryKey {
                        if isTaggedOtherThanText(s.tag) {
                            throw .invalidSiteConfig("a tag on \(key):, which Jekyll may read as other text: remove it", line: line)
                        }
                        // A null (`~`, `null`, nothing) leaves Jekyll's default, as its merge of
                        // the defaults drops nil; a name that is the site's own directory (`""`,
                        // `.`) would make Jekyll read every file of the site as one of them.
                        if isNull(s.style, text) {
                            directories[key] = nil
                        } else if key != "collections_dir" && expanded(text).isEmpty {
                            throw .invalidSiteConfig("\(key): names the site's own directory, whose every file Jekyll would read as one: avault's walk does not take a site so", line: line)
                        } else {
                            directories[key] = text
                        }
                    }
                    awaitingKey = true
                case 2 where inInclude:
                    current.append(text)
                case 2 where inSass:
                    if sassAwaitingKey {
                        if ["load_paths", "<<"].contains(text) {
                            throw .invalidSiteConfig("sass: \(text), where Sass reads partials avault's walk does not take: keep them in _sass", line: line)
                        }
                        inSassDir = text == "sass_dir"
                        inSassImplementation = text == "implementation"
                    } else if inSassDir, isTaggedOtherThanText(s.tag) || text != "_sass" && !isNull(s.style, text) {
                        throw .invalidSiteConfig("sass: sass_dir: other than _sass, where Sass reads partials avault's walk does not take: keep them in _sass", line: line)
                    } else if inSassImplementation, isTaggedOtherThanText(s.tag) || text != "sassc" && !isNull(s.style, text) {
                        throw .invalidSiteConfig(implementationRefused, line: line)
                    }
                    sassAwaitingKey.toggle()
                default:
                    break
                }
            case YAML_MAPPING_START_EVENT, YAML_SEQUENCE_START_EVENT:
                let isMapping = event.type == YAML_MAPPING_START_EVENT
                if depth == 0 {
                    guard isMapping else { throw .invalidSiteConfig("the configuration is not a mapping", line: line) }
                } else if depth == 1 {
                    guard !awaitingKey else { throw .invalidSiteConfig("a key that is not a string at the top level", line: line) }
                    if let key = directoryKey ?? (inCacheDir ? "cache_dir" : nil) { throw .invalidSiteConfig("\(key): is not a directory name", line: line) }
                    if inInclude {
                        guard !isMapping else { throw .invalidSiteConfig("include: is not a list of names", line: line) }
                        current = []
                    }
                    if inSassKey {
                        // Psych makes a mapping of an `!!omap` sequence too.
                        let tag = isMapping ? event.data.mapping_start.tag : event.data.sequence_start.tag
                        guard isMapping, tag == nil else { throw .invalidSiteConfig("sass: is not a mapping, or has a tag: write it as one", line: line) }
                        inSass = true; sassAwaitingKey = true; inSassDir = false; inSassImplementation = false
                    }
                    if inSource { throw .invalidSiteConfig("source: is not a directory name", line: line) }
                } else if depth == 2 && inSass && (sassAwaitingKey || inSassDir || inSassImplementation) {
                    throw .invalidSiteConfig(sassAwaitingKey ? "a key that is not a string in sass:"
                                             : inSassDir ? "sass: sass_dir: is not a directory name" : implementationRefused, line: line)
                }
                depth += 1
            case YAML_MAPPING_END_EVENT, YAML_SEQUENCE_END_EVENT:
                depth -= 1
                if depth == 2 && inSass { sassAwaitingKey = true } // a value of the sass: mapping ended
                if depth == 1 {
                    inSass = false
                    if inInclude { list = current; inInclude = false }
                    awaitingKey = true
                }
            default:
                continue
            }
        }
    }
}
