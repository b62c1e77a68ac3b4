import ArticleVault

/// What `avault audit` counted, as the HTML report shows it.
struct AuditTally {
    struct KeyRow {
        var keyID: String
        /// The trust store name, or what the reports say for a key without one.
        var signer: String
        var roles: [String]
        var count: Int
    }

    var records: Int
    var failing: Int
    var outcomes: [String: Int]
    var secured: [String: Int]
    var bySigner: [String: Int]
    var byKey: [KeyRow]
    var byRole: [String: Int]
    /// Valid signatures by the month (`YYYY-MM`) of their record's date; `undated` when the
    /// record has no date that starts with one.
    var byMonth: [String: Int]
    var attention: [(path: String, reasons: [String])]
}

/// Escapes text for HTML element content and quoted attribute values. Control characters and
/// the invisible ones that reorder or hide text are shown as escapes first, as on a terminal
/// (``Terminal/shown(_:)``): a file name cannot turn a row around or hide in it.
func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in Terminal.shown(text).unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// The month (`YYYY-MM`) a date written as RFC 3339 or `YYYY-MM-DD…` falls in.
func monthOf(_ date: String?) -> String? {
    guard let date else { return nil }
    let u = Array(date.utf8.prefix(7))
    guard u.count == 7, u[4] == UInt8(ascii: "-"),
          u[0..<4].allSatisfy({ $0 >= 48 && $0 <= 57 }), u[5...6].allSatisfy({ $0 >= 48 && $0 <= 57 }),
          let m = Int(String(decoding: u[5...6], as: UTF8.self)), (1...12).contains(m) else { return nil }
    return String(decoding: u, as: UTF8.self)
}

/// One self-contained HTML page for `avault audit --html`: inline CSS and inline SVG, no
/// scripts, no network, no fonts beyond the system's. Every text that comes from a record,
/// a path or a key is escaped.
enum AuditHTML {
    static let outcomeOrder = ["valid", "invalid", "untrusted", "revoked", "expired", "unsigned", "malformed"]
    static let outcomeColour: [String: String] = [
        "valid": "#2e7d32", "invalid": "#c62828", "untrusted": "#ef6c00", "revoked": "#6a1b9a",
        "expired": "#8d6e63", "unsigned": "#78909c", "malformed": "#ad1457",
    ]
    static let securedColour: [String: String] = ["none": "#90a4ae", "v1": "#e65100", "v2": "#1565c0", "v3": "#2e7d32", "malformed": "#ad1457"]

    static func render(_ t: AuditTally, generated: String) -> String {
        var h = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>avault audit</title>
            <style>
            \(css)
            </style>
            </head>
            <body>
            <header><h1>avault audit</h1><p class="meta">Generated \(htmlEscape(generated))</p></header>

            """
        let passed = t.records - t.failing
        let v1 = t.secured["v1"] ?? 0
        h += "<section class=\"cards\">\n"
        h += card("records", t.records, "")
        h += card("pass", passed, "ok")
        h += card("fail", t.failing, t.failing > 0 ? "bad" : "")
        h += card("unsigned", t.outcomes["unsigned"] ?? 0, "")
        h += card("legacy v1 blobs", v1, v1 > 0 ? "warn" : "ok")
        h += card("need attention", t.attention.count, t.attention.isEmpty ? "ok" : "bad")
        h += "</section>\n"

        // Outcomes.
        let outcomes = outcomeOrder.map { ($0, t.outcomes[$0] ?? 0) }
        h += section("Outcomes", id: "outcomes",
                     chart: stackedBar(outcomes.map { ($0.0, $0.1, outcomeColour[$0.0] ?? "#555") }, total: t.records),
                     table: table(["outcome", "records"], outcomes.map { [$0.0, String($0.1)] }))

        // Secured formats.
        let secured = ["none", "v1", "v2", "v3", "malformed"].map { ($0, t.secured[$0] ?? 0) }
        let note = v1 > 0 ? "<p class=\"note warn\">\(v1) record\(v1 == 1 ? "" : "s") still hold\(v1 == 1 ? "s" : "") a legacy v1 secured blob (unauthenticated): run <code>avault migrate</code>.</p>\n"
            : "<p class=\"note ok\">No legacy v1 secured blobs remain.</p>\n"
        h += section("Secured blobs", id: "secured",
                     chart: stackedBar(secured.map { ($0.0, $0.1, securedColour[$0.0] ?? "#555") }, total: t.records) + note,
                     table: table(["format", "records"], secured.map { [$0.0, String($0.1)] }))

        // Signers and roles.
        let signers = t.bySigner.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        h += section("Valid signatures by signer", id: "signers",
                     chart: barChart(signers.map { ($0.key, $0.value) }, colour: "#1565c0"),
                     table: table(["signer", "signatures"], signers.map { [$0.key, String($0.value)] }))
        let roles = t.byRole.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        h += section("Valid signatures by role", id: "roles",
                     chart: barChart(roles.map { ($0.key, $0.value) }, colour: "#00838f"),
                     table: table(["role", "signatures"], roles.map { [$0.key, String($0.value)] }))
        h += section("Signatures by key id, valid or not", id: "keys", chart: "",
                     table: table(["key id", "signer", "roles", "records"],
                                  t.byKey.map { [$0.keyID, $0.signer, $0.roles.joined(separator: ", "), String($0.count)] }))

        // Months.
        let months = t.byMonth.sorted { a, b in
            if a.key == "undated" { return false }
            if b.key == "undated" { return true }
            return a.key < b.key
        }
        h += section("Valid signatures by month of the record's date", id: "months",
                     chart: columnChart(months.map { ($0.key, $0.value) }, colour: "#5e35b1"),
                     table: table(["month", "signatures"], months.map { [$0.key, String($0.value)] }))

        // Attention.
        h += section("Needs attention (\(t.attention.count))", id: "attention", chart: "",
                     table: table(["record", "reasons"], t.attention.map { [$0.path, $0.reasons.joined(separator: "; ")] }))
        h += "</body>\n</html>\n"
        return h
    }

    static let css = """
        :root { color-scheme: light; }
        body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1040px; padding: 0 16px; color: #1b1f23; background: #fafafa; }
        header h1 { margin: 0; font-size: 24px; }
        .meta { color: #5f6b76; margin: 2px 0 16px; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 18px; }
        .card { flex: 1 1 120px; box-sizing: border-box; background: #fff; border: 1px solid #dde3e8; border-radius: 8px; padding: 10px 14px; }
        .card .n { font-size: 26px; font-weight: 600; }
        .card .l { color: #5f6b76; }
        .card.ok .n { color: #2e7d32; } .card.bad .n { color: #c62828; } .card.warn .n { color: #e65100; }
        section.panel { background: #fff; border: 1px solid #dde3e8; border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; }
        section.panel h2 { font-size: 17px; margin: 0 0 10px; }
        .grid { display: flex; flex-wrap: wrap; gap: 20px; align-items: flex-start; }
        .grid > .chart { flex: 2 1 420px; min-width: 0; }
        .grid > .tbl { flex: 1 1 260px; min-width: 0; overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eceff1; vertical-align: top; overflow-wrap: anywhere; white-space: pre-wrap; }
        th { color: #5f6b76; font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        svg text { font: 12px system-ui, sans-serif; fill: #1b1f23; }
        .legend { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 6px; }
        .legend span { display: inline-flex; align-items: center; gap: 4px; }
        .legend i { width: 11px; height: 11px; border-radius: 2px; display: inline-block; }
        .note { margin: 8px 0 0; } .note.warn { color: #b34700; } .note.ok { color: #2e7d32; }
        .empty { color: #5f6b76; font-style: italic; }
        code { background: #eef1f4; padding: 1px 4px; border-radius: 3px; }
        """

    static func card(_ label: String, _ n: Int, _ cls: String) -> String {
        "<div class=\"card \(cls)\"><div class=\"n\">\(n)</div><div class=\"l\">\(htmlEscape(label))</div></div>\n"
    }

    static func section(_ title: String, id: String, chart: String, table: String) -> String {
        var s = "<section class=\"panel\" id=\"\(id)\">\n<h2>\(htmlEscape(title))</h2>\n<div class=\"grid\">\n"
        if !chart.isEmpty { s += "<div class=\"chart\">\n\(chart)</div>\n" }
        s += "<div class=\"tbl\">\n\(table)</div>\n</div>\n</section>\n"
        return s
    }

    static func table(_ head: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p class=\"empty\">(none)</p>\n" }
        func isNumber(_ s: String) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        let numeric = head.indices.map { i in rows.allSatisfy { i < $0.count && isNumber($0[i]) } }
        var s = "<table>\n<thead><tr>"
        for (i, c) in head.enumerated() { s += numeric[i] ? "<th class=\"num\">\(htmlEscape(c))</th>" : "<th>\(htmlEscape(c))</th>" }
        s += "</tr></thead>\n<tbody>\n"
        for row in rows {
            s += "<tr>"
            for (i, c) in row.enumerated() { s += numeric[i] ? "<td class=\"num\">\(htmlEscape(c))</td>" : "<td>\(htmlEscape(c))</td>" }
            s += "</tr>\n"
        }
        return s + "</tbody>\n</table>\n"
    }

    /// One horizontal bar split by share, with a legend.
    static func stackedBar(_ parts: [(String, Int, String)], total: Int) -> String {
        guard total > 0 else { return "<p class=\"empty\">(no records)</p>\n" }
        let width = 600.0, height = 34.0
        var x = 0.0
        var s = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-label=\"share of records\">\n"
        for (label, n, colour) in parts where n > 0 {
            let w = width * Double(n) / Double(total)
            s += "<rect x=\"\(fmt(x))\" y=\"0\" width=\"\(fmt(w))\" height=\"\(Int(height))\" fill=\"\(colour)\"><title>\(htmlEscape(label)): \(n)</title></rect>\n"
            if w > 36 {
                s += "<text x=\"\(fmt(x + w / 2))\" y=\"22\" text-anchor=\"middle\" style=\"fill:#fff\">\(n)</text>\n"
            }
            x += w
        }
        s += "</svg>\n<div class=\"legend\">"
        for (label, n, colour) in parts {
            s += "<span><i style=\"background:\(colour)\"></i>\(htmlEscape(label)) \(n)</span>"
        }
        return s + "</div>\n"
    }

    /// Horizontal bars, one per label.
    static func barChart(_ rows: [(String, Int)], colour: String) -> String {
        guard let top = rows.map(\.1).max(), top > 0 else { return "<p class=\"empty\">(none)</p>\n" }
        let shown = Array(rows.prefix(30))
        let labelWidth = 180.0, barWidth = 380.0, row = 24.0
        let height = Double(shown.count) * row + 4
        var s = "<svg viewBox=\"0 0 \(Int(labelWidth + barWidth + 50)) \(Int(height))\" width=\"100%\" role=\"img\">\n"
        for (i, (label, n)) in shown.enumerated() {
            let y = Double(i) * row + 2
            let w = max(1, barWidth * Double(n) / Double(top))
            s += "<text x=\"\(fmt(labelWidth - 8))\" y=\"\(fmt(y + 15))\" text-anchor=\"end\">\(htmlEscape(truncate(label, 26)))</text>\n"
            s += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 2))\" width=\"\(fmt(w))\" height=\"\(fmt(row - 6))\" rx=\"2\" fill=\"\(colour)\"><title>\(htmlEscape(label)): \(n)</title></rect>\n"
            s += "<text x=\"\(fmt(labelWidth + w + 6))\" y=\"\(fmt(y + 15))\">\(n)</text>\n"
        }
        if rows.count > shown.count { s += "<!-- \(rows.count - shown.count) more in the table -->\n" }
        return s + "</svg>\n"
    }

    /// Vertical columns in label order (months).
    static func columnChart(_ cols: [(String, Int)], colour: String) -> String {
        guard let top = cols.map(\.1).max(), top > 0 else { return "<p class=\"empty\">(no valid signatures)</p>\n" }
        let plot = 180.0, base = 200.0, slot = max(14.0, min(60.0, 600.0 / Double(cols.count)))
        let width = max(600.0, slot * Double(cols.count) + 40)
        var s = "<svg viewBox=\"0 0 \(Int(width)) \(Int(base + 60))\" width=\"100%\" role=\"img\">\n"
        s += "<line x1=\"30\" y1=\"\(fmt(base))\" x2=\"\(fmt(width - 5))\" y2=\"\(fmt(base))\" stroke=\"#90a4ae\"/>\n"
        s += "<text x=\"26\" y=\"\(fmt(base - plot + 4))\" text-anchor=\"end\">\(top)</text>\n"
        s += "<text x=\"26\" y=\"\(fmt(base + 4))\" text-anchor=\"end\">0</text>\n"
        for (i, (label, n)) in cols.enumerated() {
            let h = plot * Double(n) / Double(top)
            let x = 34 + Double(i) * slot
            s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(base - h))\" width=\"\(fmt(slot * 0.75))\" height=\"\(fmt(h))\" fill=\"\(label == "undated" ? "#b0bec5" : colour)\"><title>\(htmlEscape(label)): \(n)</title></rect>\n"
            let cx = x + slot * 0.375
            s += "<text x=\"\(fmt(cx))\" y=\"\(fmt(base + 12))\" transform=\"rotate(45 \(fmt(cx)) \(fmt(base + 12)))\">\(htmlEscape(label))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func truncate(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    static func fmt(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
