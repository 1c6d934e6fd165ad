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
        html += Self.both { funnelSVG(figures, words: words, t: t, narrow: $0) }
        html +=
            "<p class=\"winrate\">\(esc(t("Win rate: ", "赢单率：")))<b>\(esc(figures.winRatePercent.map { "\($0)%" } ?? t("no closed deals", "暂无结束的商机")))</b>"
            + esc(t(" (\(figures.won) won, \(figures.lost) lost)", "（赢单 \(figures.won)，输单 \(figures.lost)）")) + "</p>"
        let stays = try pipeline().timeInStage(PipelineFilter())
        html += "<h2>\(esc(t("Time in stage (median)", "阶段停留时间（中位）")))</h2>"
        let stayRows = stays.map { s in
            (words.stage(s.stage), s.stats.map { (daysText($0.median), durationText(milliseconds: $0.median, chinese: t.chinese)) })
        }
        html += Self.both { barsSVG(stayRows, narrow: $0) }
        let follow = try pipeline().followUp(PipelineFilter())
        html += "<h2>\(esc(t("Follow-up speed (median time from hand-off to first activity)", "跟进速度（从移交到首次跟进，中位时间）")))</h2>"
        // As long as it took (`4天8小时`), the bar by the hours.
        let followRows = follow.map { f in
            (f.isTotal ? t("all", "全部") : f.owner, f.firstActivity.map { (hoursText($0.median), durationText(milliseconds: $0.median, chinese: t.chinese)) })
        }
        html += Self.both { barsSVG(followRows, narrow: $0) }
        html += try forecastSection(t)
        return try layout(t.reports, t, active: "/reports", message: message, body: html)
    }

    /// The forecast, as `opps forecast` gives it: per close month, pipeline, weighted and won as
    /// bars (one picture per currency, the owners summed), then the rows by month and owner with
    /// every figure. Amounts of different currencies are never added together.
    func forecastSection(_ t: WebText) throws -> String {
        let rows = try pipeline().forecast(PipelineFilter())
        var html = "<h2>\(esc(t("Forecast by close month", "按成交月份的预测")))</h2>"
        guard !rows.isEmpty else { return html + "<p>\(esc(t("No deals to forecast here.", "这里没有可预测的商机。")))</p>" }
        func month(_ m: String) -> String { m == "-" ? t("no close date", "未填成交日期") : m }
        let legend = [("fc-pipeline", t("pipeline", "管道")), ("fc-weighted", t("weighted", "加权")), ("fc-won", t("won", "赢单"))]
        html += "<p class=\"legend\">" + legend.map { "<span class=\"key \($0.0)\"></span>\(esc($0.1))" }.joined(separator: " ") + "</p>"
        // Per month, every owner's deals together, summed by the core as opps forecast's rows are.
        let months = try pipeline().forecast(PipelineFilter(), byOwner: false)
        func drawn(_ row: ForecastRow) -> [CurrencyTotals] { [row.pipeline, row.weighted, row.won] }
        // The currency most rows are in first (amounts of different currencies do not compare:
        // 1,000,000 JPY is not more than 100,000 CNY); a company in one currency sees one picture.
        var rowsIn = [String: Int]()
        for row in rows { for code in Set(drawn(row).flatMap(\.totals.keys)) { rowsIn[code, default: 0] += 1 } }
        // The deals without a currency last, whatever their count: they are the exception to fix.
        let currencies = rowsIn.keys.sorted { a, b in
            let (x, y) = (a == CurrencyTotals.noCurrency, b == CurrencyTotals.noCurrency)
            return x != y ? y : rowsIn[a]! != rowsIn[b]! ? rowsIn[a]! > rowsIn[b]! : a < b
        }
        for code in currencies {
            let shown = months.filter { drawn($0).contains { $0.totals[code] != nil } }.sorted { ($0.month == "-" ? "~" : $0.month) < ($1.month == "-" ? "~" : $1.month) }
            html += "<h3>\(esc(code == CurrencyTotals.noCurrency ? t("no currency", "未填币种") : code))</h3>"
            let monthRows = shown.map { (month($0.month), $0) }
            html += Self.both { forecastSVG(monthRows, code: code, t: t, narrow: $0) }
        }
        // Every row and figure, as opps forecast prints them.
        let owners = rows.contains { $0.owner != "-" }
        func cell(_ totals: CurrencyTotals) -> String {
            totals.totals.isEmpty
                ? "—"
                : totals.codes.map { code in
                    esc(
                        (totals.overflowed.contains(code) ? t("(beyond 18 digits)", "（超过 18 位）") : groupedAmount(totals.text(code))) + " "
                            + (code == CurrencyTotals.noCurrency ? t("(no currency)", "（未填币种）") : code))
                }.joined(separator: "<br>")
        }
        let heads =
            [t("Month", "月份")] + (owners ? [t("Owner", "负责人")] : []) + [
                t("Deals", "商机数"), t("Pipeline", "管道"), t("Weighted", "加权"), t("Best case", "最佳情况"), t("Commit", "承诺"), t("Won", "赢单"),
            ]
        // On a phone each row is a card (month and owner, then each figure under its name):
        // `data-label` names a figure there, where the table's head is hidden.
        let figureHeads = heads.suffix(5).map(esc)
        html += "<div class=\"wide\"><table class=\"list forecast\"><tr>" + heads.map { "<th>\(esc($0))</th>" }.joined() + "</tr>"
        for row in rows {
            html += "<tr><td class=\"month\">\(esc(month(row.month)))</td>" + (owners ? "<td class=\"owner\">\(esc(row.owner))</td>" : "")
            html += "<td class=\"num deals\" data-label=\"\(esc(t("Deals", "商机数")))\">\(row.deals)</td>"
            html +=
                zip(figureHeads, [row.pipeline, row.weighted, row.bestCase, row.commit, row.won]).map {
                    "<td class=\"num\($1.totals.isEmpty ? " none" : "")\" data-label=\"\($0)\"><span>\(cell($1))</span></td>"
                }
                .joined() + "</tr>"
        }
        return html + "</table></div>"
    }

    /// A chart drawn twice: for a screen (640 wide) and for a phone (380 wide, its words at the
    /// size of the page's, not scaled down to 60 %); the style sheet shows one.
    nonisolated static func both(_ draw: (Bool) -> String) -> String { draw(false) + draw(true) }

    /// An amount as a number for a bar's length only (its text is always the exact one).
    nonisolated static func number(_ d: ExactDecimal?) -> Double {
        guard let d else { return 0 }
        var x = Double(d.units)
        for _ in 0..<d.scale { x /= 10 }
        return x
    }

    /// One row per month: pipeline, weighted and won of one currency as three bars on one scale,
    /// each with its amount.
    nonisolated func forecastSVG(
        _ rows: [(label: String, figures: ForecastRow)], code: String, t: WebText, narrow: Bool = false
    ) -> String {
        let rowHeight = 44.0, width = narrow ? 380.0 : 640.0, labelWidth = narrow ? Self.labelColumn(rows.map(\.label)) : 120.0
        let barSpace = narrow ? width - labelWidth - 110 : 330.0
        let top = max(rows.map { max(Self.number($0.figures.pipeline.totals[code]), Self.number($0.figures.won.totals[code])) }.max() ?? 1, 0.01)
        var svg =
            "<svg class=\"\(Self.chartClass(narrow))\" role=\"img\" aria-label=\"\(esc(t("Forecast", "预测"))) \(esc(code))\" viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(rows.count) + 8))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, row) in rows.enumerated() {
            let y = 4 + Double(i) * rowHeight
            svg += "<text x=\"\(Int(labelWidth - 8))\" y=\"\(Int(y + 25))\" text-anchor=\"end\" class=\"label\">\(esc(row.label))</text>"
            for (j, (totals, kind)) in [(row.figures.pipeline, "fc-pipeline"), (row.figures.weighted, "fc-weighted"), (row.figures.won, "fc-won")].enumerated() {
                guard let amount = totals.totals[code] else { continue }
                let w = max(2, barSpace * Self.number(amount) / top), by = y + 2 + Double(j) * 13
                svg += "<rect x=\"\(Int(labelWidth))\" y=\"\(fmt(by))\" width=\"\(fmt(w))\" height=\"11\" rx=\"2\" class=\"\(kind)\"></rect>"
                svg += "<text x=\"\(fmt(labelWidth + w + 6))\" y=\"\(fmt(by + 10))\" class=\"value small\">\(esc(groupedAmount(totals.text(code))))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// One bar per stage, as wide as the deals that reached it, centred: a funnel; the
    /// conversion from the stage before written beside it.
    nonisolated func funnelSVG(_ f: FunnelFigures, words: Vocabulary, t: WebText, narrow: Bool = false) -> String {
        let width = narrow ? 380.0 : 640.0, rowHeight = 30.0, labelWidth = narrow ? Self.labelColumn(f.rows.map { words.stage($0.stage) }) : 120.0
        let barSpace = narrow ? width - labelWidth - 120 : 380.0
        let top = Double(max(1, f.rows.map(\.reached).max() ?? 1))
        var svg =
            "<svg class=\"\(Self.chartClass(narrow))\" role=\"img\" aria-label=\"\(esc(t("Funnel", "漏斗")))\" viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(f.rows.count) + 10))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, row) in f.rows.enumerated() {
            let y = 5 + Double(i) * rowHeight
            let w = max(2, barSpace * Double(row.reached) / top)
            let x = labelWidth + (barSpace - w) / 2
            svg += "<text x=\"\(Int(labelWidth - 8))\" y=\"\(Int(y + 19))\" text-anchor=\"end\" class=\"label\">\(esc(words.stage(row.stage)))</text>"
            svg +=
                "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(Int(rowHeight - 6))\" rx=\"3\" class=\"funnel s\(i % 8)\"><title>\(esc(words.stage(row.stage))): \(row.reached)</title></rect>"
            svg +=
                "<text x=\"\(Int(labelWidth + barSpace / 2))\" y=\"\(Int(y + 19))\" text-anchor=\"middle\" class=\"value\(i % 8 >= 2 && w > 40 ? " in" : "")\">\(row.reached)</text>"
            let conv = row.conversionPercent.map { "\($0)% · " } ?? ""
            svg += "<text x=\"\(Int(labelWidth + barSpace + 10))\" y=\"\(Int(y + 19))\" class=\"conv\">\(esc(conv))\(esc(t("now", "当前"))) \(row.now)</text>"
        }
        return svg + "</svg>"
    }

    /// Horizontal bars of decimal figures (nil: no data, drawn as a dash).
    /// One bar a row, as long as its figure (a number) against the largest, with its text
    /// beside it; a row without a figure is a dash.
    nonisolated func barsSVG(_ rows: [(label: String, figure: (number: String, text: String)?)], narrow: Bool = false) -> String {
        let rowHeight = 26.0, width = narrow ? 380.0 : 640.0, labelWidth = narrow ? Self.labelColumn(rows.map(\.label)) : 120.0
        let barSpace = narrow ? width - labelWidth - 80 : 400.0
        let values = rows.map { $0.figure.flatMap { Double($0.number) } ?? 0 }
        let top = max(values.max() ?? 1, 0.01)
        var svg =
            "<svg class=\"\(Self.chartClass(narrow))\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(rows.count) + 10))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, row) in rows.enumerated() {
            let y = 5 + Double(i) * rowHeight
            svg += "<text x=\"\(Int(labelWidth - 8))\" y=\"\(Int(y + 16))\" text-anchor=\"end\" class=\"label\">\(esc(row.label))</text>"
            if let figure = row.figure {
                let w = max(2, barSpace * values[i] / top)
                svg += "<rect x=\"\(Int(labelWidth))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(Int(rowHeight - 8))\" rx=\"2\" class=\"funnel s\(i % 8)\"></rect>"
                svg += "<text x=\"\(fmt(labelWidth + w + 6))\" y=\"\(Int(y + 16))\" class=\"value\">\(esc(figure.text))</text>"
            } else {
                svg += "<text x=\"\(Int(labelWidth))\" y=\"\(Int(y + 16))\" class=\"value\">—</text>"
            }
        }
        return svg + "</svg>"
    }

    /// A phone's chart gives its labels the room the longest needs at 12 px (a Chinese
    /// character 12, another about 7), no less than 40 and no more than 120: `negotiation`
    /// whole, `方案` without a wide empty margin.
    nonisolated static func labelColumn(_ labels: [String]) -> Double {
        let widest = labels.map { $0.unicodeScalars.reduce(0.0) { $0 + ($1.value >= 0x1100 ? 12 : 7) } }.max() ?? 0
        return min(120, max(40, (widest + 14).rounded()))
    }

    nonisolated static func chartClass(_ narrow: Bool) -> String { narrow ? "chart narrow" : "chart broad" }

    nonisolated func fmt(_ d: Double) -> String { String(Int((d * 10).rounded()) / 10) + "." + String(Int((d * 10).rounded()) % 10) }
}
