import Glibc
import Logging
import OppsCore

/// The hub's log lines: the format of swift-log's `StreamLogHandler` (operators and their tools
/// read `2026-12-04T16:39:47+0000 info opps-hub: path=/v1/push status=200 [OppsHub] answered`),
/// written at a fraction of its cost, because the hub writes one for every answered request,
/// on that request's way back.
///
/// `StreamLogHandler` asked the C library for the local time with `localtime`, which re-checks
/// the time-zone file at every call (a `stat` of /etc/localtime when `TZ` is unset), sorted and
/// re-joined the metadata through lazy sequences, and wrote through `stdio` with a flush: 25 µs
/// of a 1.2 ms round trip (BENCHMARKS.md, forty-first session). Here the zone is read once
/// (`localtime_r`), and the line is built in one buffer and written with one `write(2)`, so
/// lines from several threads never interleave.
///
/// One event is one line: a line break or other control character in the message or a metadata
/// value (a path, a name — anything a request chose) is written escaped (`\n`, `\u{1b}`), so no
/// request can forge a log line.
public struct HubLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata = Logger.Metadata()
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let fd: Int32

    /// A handler writing to the process's standard error, for `LoggingSystem.bootstrap`.
    public static func standardError(label: String) -> HubLogHandler {
        HubLogHandler(label: label, fileDescriptor: 2, metadataProvider: LoggingSystem.metadataProvider)
    }

    /// A handler writing to `fileDescriptor` (tests give a pipe's).
    public init(label: String, fileDescriptor: Int32, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.fd = fileDescriptor
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { all.merge(provided) { $1 } }
        if let explicit = event.metadata, !explicit.isEmpty { all.merge(explicit) { $1 } }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = Self.timestamp()
        line.reserveCapacity(160)
        line += " "
        line += event.level.rawValue
        if !label.isEmpty { line += " " + label }
        line += ":"
        for key in all.keys.sorted() {
            line += " "
            Self.appendEscaped(key, to: &line)
            line += "="
            Self.appendEscaped(all[key]!.description, to: &line)
        }
        line += " ["
        line += event.source
        line += "] "
        Self.appendEscaped(event.message.description, to: &line)
        line += "\n"
        Self.write(line, to: fd)
    }

    /// `2026-12-04T16:39:47+0800`: local time with its offset, as `StreamLogHandler` writes it.
    /// `localtime_r` reads the zone once per process (plain `localtime` looks at the zone file again
    /// at every call).
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        guard localtime_r(&now, &parts) != nil else { return "<unknown>" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 40) { buffer in
            let n = strftime(buffer.baseAddress!, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress, count: n).bindMemory(to: UInt8.self), as: UTF8.self)
        }
    }

    /// Appends `text`, with every control character written as an escape: one event, one line.
    /// Control characters are C0 and DEL, C1 (a terminal may take U+009B for an escape), and the
    /// line and paragraph separators some log viewers break lines at.
    static func appendEscaped(_ text: String, to line: inout String) {
        // Only text with such a byte is looked at scalar by scalar: 0xC2 starts C1 (and Latin-1
        // letters), 0xE2 the separators (and much punctuation, "—" among it).
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0xC2 || $0 == 0xE2 }) else {
            line += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: line += "\\n"
            case 0x0D: line += "\\r"
            case 0x09: line += "\\t"
            case _ where scalar.isControlCharacter || scalar.value == 0x2028 || scalar.value == 0x2029:
                line += "\\u{\(String(scalar.value, radix: 16))}"
            default: line.unicodeScalars.append(scalar)
            }
        }
    }

    /// One `write(2)` for the whole line (again for what a partial write left, or after a signal).
    /// A log that cannot be written (a closed descriptor, a full disk) is dropped: the request it
    /// describes must not fail for it.
    static func write(_ line: String, to fd: Int32) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
