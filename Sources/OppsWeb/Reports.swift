import OppsCore
import OppsReplica

/// Reports as pictures: the funnel and conversion, win rate and time in stage, drawn as SVG by
/// the app from the same core figures `opps funnel` and `opps report` print.
extension WebApp {
    /// The funnel's figures as the page shows them (tests compare them with `opps funnel`).
    struct FunnelFigures: Sendable, Equatable {
        struct Row: Sendable, Equatable {
            var stage: String
            var now: Int
            var reached: Int
            var conversionPercent: String?
        }
        var rows: [Row]
        var won: Int
        var lost: Int
        var winRatePercent: String?
    }

    func funnelFigures(_ filter: PipelineFilter = PipelineFilter()) throws -> FunnelFigures {
        let f = try pipeline().funnel(filter)
        return FunnelFigures(
            rows: f.rows.map { .init(stage: $0.stage, now: $0.current, reached: $0.reached, conversionPercent: $0.conversion.flatMap { percentText($0.0, $0.1) }) },
            won: f.won, lost: f.lost, winRatePercent: percentText(f.won, f.won + f.lost))
    }

    func reportsPage(_ t: WebText, message: Message?) throws -> String {
        let words = vocabulary(t)
        let figures = try funnelFigures()
        var html = "<h1>\(esc(t.reports))</h1><h2>\(esc(t("Funnel and conversion", "漏斗与转化率")))</h2>"
        html += funnelSVG(figures, words: words, t: t)
        html +=
            "<p class=\"winrate\">\(esc(t("Win rate: ", "赢单率：")))<b>\(esc(figures.winRatePercent.map { "\($0) %" } ?? t("no closed deals", "暂无结束的商机")))</b>"
            + esc(t(" (\(figures.won) won, \(figures.lost) lost)", "（赢单 \(figures.won)，输单 \(figures.lost)）")) + "</p>"
        let stays = try pipeline().timeInStage(PipelineFilter())
        html += "<h2>\(esc(t("Time in stage (median days)", "阶段停留时间（中位天数）")))</h2>"
        html += barsSVG(stays.map { (words.stage($0.stage), $0.stats.map { daysText($0.median) }) }, unit: t("d", "天"))
        let follow = try pipeline().followUp(PipelineFilter())
        html += "<h2>\(esc(t("Follow-up speed (median hours to first activity)", "跟进速度（首次跟进中位小时数）")))</h2>"
        html += barsSVG(follow.map { ($0.isTotal ? t("all", "全部") : $0.owner, $0.firstActivity.map { hoursText($0.median) }) }, unit: t("h", "小时"))
        return try layout(t.reports, t, active: "/reports", message: message, body: html)
    }

    /// One bar per stage, as wide as the deals that reached it, centred: a funnel; the
    /// conversion from the stage before written beside it.
    nonisolated func funnelSVG(_ f: FunnelFigures, words: Vocabulary, t: WebText) -> String {
        let width = 640.0, rowHeight = 30.0, labelWidth = 120.0, barSpace = 380.0
        let top = Double(max(1, f.rows.map(\.reached).max() ?? 1))
        var svg =
            "<svg class=\"chart\" role=\"img\" aria-label=\"\(esc(t("Funnel", "漏斗")))\" viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(f.rows.count) + 10))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, row) in f.rows.enumerated() {
            let y = 5 + Double(i) * rowHeight
            let w = max(2, barSpace * Double(row.reached) / top)
            let x = labelWidth + (barSpace - w) / 2
            svg += "<text x=\"\(Int(labelWidth - 8))\" y=\"\(Int(y + 19))\" text-anchor=\"end\" class=\"label\">\(esc(words.stage(row.stage)))</text>"
            svg +=
                "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(Int(rowHeight - 6))\" rx=\"3\" class=\"funnel s\(i % 8)\"><title>\(esc(words.stage(row.stage))): \(row.reached)</title></rect>"
            svg +=
                "<text x=\"\(Int(labelWidth + barSpace / 2))\" y=\"\(Int(y + 19))\" text-anchor=\"middle\" class=\"value\(i % 8 >= 2 && w > 40 ? " in" : "")\">\(row.reached)</text>"
            let conv = row.conversionPercent.map { "\($0) % · " } ?? ""
            svg += "<text x=\"\(Int(labelWidth + barSpace + 10))\" y=\"\(Int(y + 19))\" class=\"conv\">\(esc(conv))\(esc(t("now", "当前"))) \(row.now)</text>"
        }
        return svg + "</svg>"
    }

    /// Horizontal bars of decimal figures (nil: no data, drawn as a dash).
    nonisolated func barsSVG(_ rows: [(label: String, figure: String?)], unit: String) -> String {
        let rowHeight = 26.0, labelWidth = 120.0, barSpace = 400.0
        let values = rows.map { $0.figure.flatMap(Double.init) ?? 0 }
        let top = max(values.max() ?? 1, 0.01)
        var svg = "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 640 \(Int(rowHeight * Double(rows.count) + 10))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, row) in rows.enumerated() {
            let y = 5 + Double(i) * rowHeight
            svg += "<text x=\"\(Int(labelWidth - 8))\" y=\"\(Int(y + 16))\" text-anchor=\"end\" class=\"label\">\(esc(row.label))</text>"
            if let figure = row.figure {
                let w = max(2, barSpace * values[i] / top)
                svg += "<rect x=\"\(Int(labelWidth))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(Int(rowHeight - 8))\" rx=\"2\" class=\"funnel s\(i % 8)\"></rect>"
                svg += "<text x=\"\(fmt(labelWidth + w + 6))\" y=\"\(Int(y + 16))\" class=\"value\">\(esc(figure)) \(esc(unit))</text>"
            } else {
                svg += "<text x=\"\(Int(labelWidth))\" y=\"\(Int(y + 16))\" class=\"value\">—</text>"
            }
        }
        return svg + "</svg>"
    }

    nonisolated func fmt(_ d: Double) -> String { String(Int((d * 10).rounded()) / 10) + "." + String(Int((d * 10).rounded()) % 10) }
}
