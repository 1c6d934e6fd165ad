import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OppsConsole
import OppsCore
import OppsReplica
import Synchronization

/// `opps web`'s HTTP side: the routes, and the guard every request passes first. This server
/// runs on a laptop that holds the company's pipeline, so (as Jupyter does):
/// - it listens on 127.0.0.1 only;
/// - a secret made at each launch is in the URL it prints; the first request with it gets an
///   HttpOnly, SameSite=Strict cookie, and every request must carry that cookie;
/// - the Host header must name this loopback address and port (no DNS rebinding);
/// - a POST must come from this origin (Origin and Sec-Fetch-Site, when the browser sends
///   them) and carry the per-launch CSRF token of its form;
/// - no hub token is ever in a page (the replica's token stays in its database).
public struct WebServer: Sendable {
    public let app: WebApp
    /// The port the browser uses (Host and Origin are checked against it).
    let port: PortBox

    /// The language when the reader has not chosen one here (`opps web --locale`): above the
    /// browser's, below the page's EN / 中文 switch.
    let language: String?

    public init(app: WebApp, port: Int, language: String? = nil) {
        self.app = app
        self.port = PortBox(port)
        self.language = language
    }

    /// The port once the listener has it (a server started on port 0 learns it then).
    public func setPort(_ p: Int) { port.value.withLock { $0 = p } }

    final class PortBox: Sendable {
        let value: Mutex<Int>
        init(_ p: Int) { value = Mutex(p) }
    }

    /// Serves until the process is told to stop (SIGINT, SIGTERM); `onListening` gets the port.
    public func run(port: Int, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let application = Application(
            router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "opps-web"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                setPort(bound)
                await onListening(bound)
            }, logger: Logger(label: "opps-web", factory: { _ in SwiftLogNoOpLogHandler() }))
        do {
            try await application.runService()
        } catch let e as IOError where e.errnoCode == EADDRINUSE {
            throw ReplicaError.invalid(
                "port \(port) on 127.0.0.1 is already in use (another opps web?): choose another --port, or leave it out for a free one",
                chinese: "127.0.0.1 的端口 \(port) 已被占用（另一个 opps web？）：用 --port 换一个端口，或不写 --port 让它自己选")
        } catch let e as IOError where e.errnoCode == EACCES {
            throw ReplicaError.invalid(
                "no permission to listen on port \(port): ports below 1024 need privileges; choose --port 1024 or above, or leave it out for a free one",
                chinese: "没有权限监听端口 \(port)：1024 以下的端口需要特权；请用 --port 1024 或更大的端口，或不写 --port 让它自己选")
        }
    }

    static let cookie = "opps_web"
    /// What RFC 5987 lets a header's `filename*` hold unencoded (ASCII letters, digits, `-._~`).
    static let attributeCharacters = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    static let languageCookie = "opps_lang"

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: WebGuard(server: self))
        router.get("/") { request, _ in
            let t = self.text(request)
            let q = WebApp.Query(
                owner: request.uri.queryParameters["owner"].map(String.init), text: request.uri.queryParameters["q"].map(String.init),
                closed: request.uri.queryParameters["closed"] == "1", stage: request.uri.queryParameters["stage"].map(String.init),
                member: request.uri.queryParameters["team"].map(String.init), closeMonth: request.uri.queryParameters["close"].map(String.init),
                page: max(1, request.uri.queryParameters["page"].flatMap { Int($0) } ?? 1))
            return try await self.page(request, t) { app, m in try await app.boardPage(q, t, message: m, today: app.today()) }
        }
        router.get("/deal/{id}") { request, context in
            let t = self.text(request)
            do {
                let id = try await self.app.resolve(Self.recordParameter(context))
                // A deal's task, activity, approval or team member (an id `opps` printed for it):
                // the deal's page, which lists it.
                if let deal = try await self.app.deal(of: id) {
                    let query = request.uri.query.map { "?" + $0 } ?? ""
                    return Self.redirect("/deal/" + (try await self.app.shortID(deal)) + query)
                }
                return try await self.page(request, t) { app, m in try await app.dealPage(id, t, message: m) }
            } catch let e as ReplicaError {
                // An old link or a bookmark: why the deal is not here, in the reader's language.
                let (asks, page) = try await self.app.notHerePage(e, t)
                return Self.respond(asks ? .multipleChoices : .notFound, type: "text/html; charset=utf-8", page)
            }
        }
        router.get("/today") { request, _ in
            let t = self.text(request)
            let all = request.uri.queryParameters["all"] == "1"
            return try await self.page(request, t) { app, m in try await app.todayPage(t, message: m, today: app.today(), all: all) }
        }
        router.get("/approvals") { request, _ in
            let t = self.text(request)
            let all = request.uri.queryParameters["all"] == "1"
            return try await self.page(request, t) { app, m in try await app.approvalsPage(t, message: m, all: all) }
        }
        router.get("/reports") { request, _ in
            let t = self.text(request)
            return try await self.page(request, t) { app, m in try await app.reportsPage(t, message: m) }
        }
        router.get("/conflicts") { request, _ in
            let t = self.text(request)
            return try await self.page(request, t) { app, m in try await app.conflictsPage(t, message: m) }
        }
        router.get("/status.json") { _, _ in
            let s = try await self.app.status()
            let body =
                #"{"online":\#(s.online.map { $0 ? "true" : "false" } ?? "null"),"pending":\#(s.pending),"conflicts":\#(s.conflicts),"generation":\#(s.generation)}"#
            return Self.respond(.ok, type: "application/json", body)
        }
        // The deals (or `?type=` another record type) for a spreadsheet, as `opps export --sheet` writes them.
        router.get("/export.csv") { request, _ in
            let t = self.text(request)
            let (file, body) = try await self.app.sheet(request.uri.queryParameters["type"].map(String.init), t: t)
            var response = Self.respond(.ok, type: "text/csv; charset=utf-8", body)
            // An ASCII name for every browser, the reader's words for those that read RFC 6266's.
            let words = file.name.addingPercentEncoding(withAllowedCharacters: Self.attributeCharacters) ?? file.ascii
            response.headers[.contentDisposition] = "attachment; filename=\"\(file.ascii)\"; filename*=UTF-8''\(words)"
            return response
        }
        router.get("/app.css") { _, _ in Self.respond(.ok, type: "text/css; charset=utf-8", Assets.css) }
        router.get("/app.js") { _, _ in Self.respond(.ok, type: "text/javascript; charset=utf-8", Assets.js) }

        router.post("/deal/{id}/stage") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.moveStage(id, to: form["stage"] ?? "", reason: form["reason"], t: t)
            }
        }
        router.post("/deal/{id}/edit") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.edit(id, field: form["field"] ?? "", text: form["value"] ?? "", t: t)
            }
        }
        router.post("/deal/{id}/log") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.log(id, kind: form["kind"] ?? "", note: form["note"], place: form["place"], t: t)
            }
        }
        router.post("/deal/{id}/task") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.addTask(id, text: form["text"] ?? "", due: form["due"] ?? "", assignee: form["assignee"], t: t)
            }
        }
        router.post("/deal/{id}/task-done") { request, context in
            try await self.action(request, context) { app, form, t, _ in await app.finishTask(form["task"] ?? "", t: t) }
        }
        router.post("/deal/{id}/team") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.addMember(id, user: form["user"] ?? "", role: form["role"] ?? "", t: t)
            }
        }
        router.post("/deal/{id}/conflict") { request, context in
            try await self.action(request, context) { app, form, t, _ in
                await app.settleConflict(form["number"] ?? "", restore: form["action"] == "restore", t: t)
            }
        }
        router.post("/deal/{id}/merge") { request, context in
            try await self.action(request, context) { app, form, t, id in
                await app.merge(form["duplicate"] ?? "", into: id, t: t)
            }
        }
        // A conflict whose record is no longer here (no deal page to post on): back to the list.
        router.post("/conflicts/settle") { request, _ in
            let t = self.text(request)
            let form = try await self.form(request)
            let key = await self.app.say(await self.app.settleConflict(form["number"] ?? "", restore: form["action"] == "restore", t: t))
            return Self.redirect("/conflicts?m=" + key)
        }
        router.post("/approvals/{id}/decide") { request, context in
            try await self.action(request, context, returnTo: .approvals) { app, form, t, id in
                await app.decide(id, form["decision"] ?? "", note: form["note"], t: t)
            }
        }
        router.post("/approvals/{id}/withdraw") { request, context in
            try await self.action(request, context, returnTo: .approvals) { app, _, t, id in
                await app.withdraw(id, t: t)
            }
        }
        router.post("/new") { request, _ in
            let t = self.text(request)
            let form = try await self.form(request)
            let (message, deal) = await self.app.newDeal(
                name: form["name"] ?? "", account: form["account"] ?? "", amount: form["amount"], currency: form["currency"], close: form["close"], t: t)
            let key = await self.app.say(message)
            // Made: its page; refused: back to the board, where the form is.
            return Self.redirect((deal.map { "/deal/" + $0 } ?? "/") + "?m=" + key)
        }
        router.post("/undo") { request, _ in
            let t = self.text(request)
            _ = try await self.form(request)
            let (m, gone) = await self.app.undo(t: t)
            // Back where the button was, unless that was the page of a record the undo removed.
            let back = Self.back(request)
            let path = gone.contains { back == "/deal/" + $0 || back.hasPrefix("/deal/" + $0 + "?") } ? "/" : back
            return Self.redirect(path + (path.contains("?") ? "&" : "?") + "m=" + (await self.app.say(m)))
        }
        router.post("/sync") { request, _ in
            let t = self.text(request)
            _ = try await self.form(request)
            let m = await self.app.sync(t: t)
            // Back where the button was, unless that was the page of a deal the sync took off this
            // laptop (given to someone else): the board, where the message says so.
            var back = Self.back(request)
            if back.hasPrefix("/deal/"), let code = back.dropFirst("/deal/".count).split(separator: "?").first, (try? await self.app.resolve(String(code))) == nil {
                back = "/"
            }
            return Self.redirect(back + (back.contains("?") ? "&" : "?") + "m=" + (await self.app.say(m)))
        }
        return router
    }

    // MARK: Helpers

    func text(_ request: Request) -> WebText {
        WebText(
            acceptLanguage: request.headers[.acceptLanguage],
            override: request.uri.queryParameters["lang"].map(String.init) ?? request.cookies[Self.languageCookie]?.value
                ?? language.map { $0.lowercased().hasPrefix("zh") ? "zh-CN" : "en" })
    }

    /// A page: the message an action left for it, rendered in the reader's language; a
    /// `?lang=` choice is kept in a cookie.
    func page(_ request: Request, _ t: WebText, _ render: @Sendable (WebApp, WebApp.Message?) async throws -> String) async throws -> Response {
        let message = await app.take(request.uri.queryParameters["m"].map(String.init))
        var response = Self.respond(.ok, type: "text/html; charset=utf-8", try await render(app, message))
        if let lang = request.uri.queryParameters["lang"], lang == "en" || lang == "zh-CN" {
            response.headers[.setCookie] = "\(Self.languageCookie)=\(lang); Path=/; SameSite=Strict; HttpOnly"
        }
        return response
    }

    /// Where an action sends the browser back to.
    enum ReturnTo { case deal, approvals }

    /// A form post on a record: checks the CSRF token, performs it, and sends the browser back
    /// with what happened — to the board (its filters kept) for a move made there, to the
    /// approvals for a decision, else to the deal's page.
    func action(
        _ request: Request, _ context: BasicRequestContext, returnTo: ReturnTo = .deal,
        _ perform: @Sendable (WebApp, [String: String], WebText, RecordID) async throws -> WebApp.Message
    ) async throws -> Response {
        let t = text(request)
        let form = try await self.form(request)
        let id = try await app.resolve(Self.recordParameter(context))
        let key = await app.say(try await perform(app, form, t, id))
        let back = Self.back(request)
        let path: String =
            switch returnTo {
            case .approvals: "/approvals"
            case .deal where request.uri.path.hasSuffix("/stage") && !back.hasPrefix("/deal/"): back
            // A conflict settled on the conflicts page stays there, a task done on Today too.
            case .deal where request.uri.path.hasSuffix("/conflict") && back == "/conflicts": back
            case .deal where request.uri.path.hasSuffix("/task-done") && back == "/today": back
            case .deal: "/deal/" + (try await app.shortID(id))
            }
        return Self.redirect(path + (path.contains("?") ? "&" : "?") + "m=" + key)
    }

    /// The record a path names — a short id, a full id or an exact name, which arrives
    /// percent-encoded (`/deal/云帆物流%20续约` as the browser sends it).
    static func recordParameter(_ context: BasicRequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// The form fields of a POST, after its CSRF token is checked.
    func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let fields = formFields(Substring(String(buffer: buffer)))
        guard let token = fields["csrf"], constantTimeEqual(token, app.csrf) else { throw WebError.csrf }
        return fields
    }

    /// The page a form was on (its Referer's path on this origin), else the board.
    static func back(_ request: Request) -> String {
        // Only a path of this app: `//host/…` would send the browser to another site.
        guard let referer = request.headers[.referer], let url = URL(string: referer), url.path.hasPrefix("/"), !url.path.hasPrefix("//") else {
            return "/"
        }
        var path = url.path
        if let q = url.query {
            let kept = q.split(separator: "&").filter { !$0.hasPrefix("m=") && !$0.hasPrefix("lang=") }
            if !kept.isEmpty { path += "?" + kept.joined(separator: "&") }
        }
        return path
    }

    static func respond(_ status: HTTPResponse.Status, type: String, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }
}

func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var d: UInt8 = 0
    for i in x.indices { d |= x[i] ^ y[i] }
    return d == 0
}

/// The checks every request passes before any route (see `WebServer`). Refusals are plain
/// text with a stable first word: `foreign-host`, `no-session`, `cross-origin`, `csrf`.
struct WebGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: WebServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let port = server.port.value.withLock { $0 }
        let allowed = ["127.0.0.1:\(port)", "localhost:\(port)"]
        // DNS rebinding: a page of another site that points its name at 127.0.0.1 sends its own Host.
        guard let host = request.head.authority, allowed.contains(host.lowercased()) else {
            return WebServer.respond(.forbidden, type: "text/plain; charset=utf-8", "foreign-host: this app answers only at http://127.0.0.1:\(port)\n")
        }
        if request.method == .post {
            if let origin = request.headers[.origin], !allowed.map({ "http://" + $0 }).contains(origin.lowercased()) {
                return WebServer.respond(.forbidden, type: "text/plain; charset=utf-8", "cross-origin: a form of another site cannot post here\n")
            }
            if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site != "same-origin", site != "none" {
                return WebServer.respond(.forbidden, type: "text/plain; charset=utf-8", "cross-origin: a form of another site cannot post here\n")
            }
        }
        // The launch URL's secret becomes the session cookie; the URL is then cleaned of it.
        if let key = request.uri.queryParameters["k"] {
            guard constantTimeEqual(String(key), server.app.secret) else {
                return WebServer.respond(
                    .unauthorized, type: "text/plain; charset=utf-8", "no-session: this link is from another launch: open the address opps web printed\n")
            }
            var response = WebServer.redirect(request.uri.path)
            response.headers[.setCookie] = "\(WebServer.cookie)=\(server.app.secret); Path=/; HttpOnly; SameSite=Strict"
            return response
        }
        guard let cookie = request.cookies[WebServer.cookie]?.value, constantTimeEqual(cookie, server.app.secret) else {
            return WebServer.respond(.unauthorized, type: "text/plain; charset=utf-8", "no-session: open the address opps web printed (it holds this launch's key)\n")
        }
        do {
            return try await next(request, context)
        } catch WebError.csrf {
            return WebServer.respond(.forbidden, type: "text/plain; charset=utf-8", "csrf: the form is from an earlier launch: reload the page and try again\n")
        } catch WebError.notFound {
            return WebServer.respond(.notFound, type: "text/plain; charset=utf-8", "not-found: no such record on this laptop\n")
        } catch let e as ReplicaError {
            return WebServer.respond(.notFound, type: "text/plain; charset=utf-8", "not-found: \(e.description)\n")
        }
    }
}

extension WebApp {
    func resolve(_ text: String) throws -> RecordID { try replica.resolveID(text) }

    func shortID(_ id: RecordID) throws -> String { try codes()(id) }

    func today() -> CivilDate { LocalTime.date(clock.nowMilliseconds()) }

    /// One record type (deals unless `type` names another by name) as a spreadsheet reads it
    /// (`Replica.sheet`), and the file's name: `商机-2026-12-05.csv`, `opportunity-2026-12-05.csv`.
    func sheet(_ type: String?, t: WebText) throws -> (file: (name: String, ascii: String), body: String) {
        let name = type ?? "opportunity"
        guard let entity = replica.workspace.entity(name) else { throw WebError.notFound }
        let words = vocabulary(t)
        let day = today()
        let body = try replica.sheet(entity, words: words, chinese: t.chinese)
        return ((t.chinese ? "\(words.entity(entity.name))-\(day).csv" : "\(entity.name)-\(day).csv", "\(entity.name)-\(day).csv"), body)
    }
}
