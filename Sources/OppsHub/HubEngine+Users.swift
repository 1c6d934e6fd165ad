import Foundation
import OppsCore
import OppsStore
import OppsWire

/// The hub's directory: users, their roles and places, and their tokens (operator commands).
extension HubEngine {
    // MARK: Users

    /// Adds a user and returns their token (shown once; only its hash is stored).
    public func addUser(_ user: HubUser, rng: inout some RandomNumberGenerator) throws -> String {
        guard user.name != Self.systemAuthor, !user.name.isEmpty, user.name.count <= 64,
            user.name.unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.value > 0x20 })
        else {
            throw HubError.invalid("user names are 1–64 characters without spaces, and \"hub\" is reserved")
        }
        guard workspace.role(user.role) != nil else {
            throw HubError.invalid("unknown role \"\(user.role)\" (\(workspace.roles.map(\.name).joined(separator: ", ")))")
        }
        if let m = user.manager, try store.user(named: m) == nil { throw HubError.invalid("unknown manager \"\(m)\"") }
        if let c = user.capacity, c < 0 { throw HubError.invalid("capacity must be 0 or more") }
        let token = Token.generate(using: &rng)
        try store.transaction {
            if try store.user(named: user.name) != nil { throw HubError.invalid("user \"\(user.name)\" already exists") }
            try store.addUser(user, now: now)
            try store.addToken(hash: Token.hash(token), user: user.name, now: now)
            try store.audit(action: "user", subject: user.name, detail: "added as \(user.role)", now: now)
        }
        directoryMarker = nil
        return token
    }

    /// Changes a user's directory entry (role, team, territory, manager, capacity, disabled).
    /// The change is audited; replicas see its effect on visibility at their next pull.
    public func updateUser(_ name: UserName, _ change: (inout HubUser) -> Void) throws -> HubUser {
        defer { directoryMarker = nil }
        return try store.transaction {
            guard var user = try store.user(named: name) else { throw HubError.invalid("no user \"\(name)\"") }
            let before = user
            change(&user)
            guard workspace.role(user.role) != nil else {
                throw HubError.invalid("unknown role \"\(user.role)\" (\(workspace.roles.map(\.name).joined(separator: ", ")))")
            }
            if let m = user.manager {
                guard m != name else { throw HubError.invalid("a user cannot manage themselves") }
                guard try store.user(named: m) != nil else { throw HubError.invalid("unknown manager \"\(m)\"") }
            }
            if let c = user.capacity, c < 0 { throw HubError.invalid("capacity must be 0 or more") }
            try store.updateUser(user)
            var changes = [String]()
            if before.role != user.role { changes.append("role \(before.role) → \(user.role)") }
            if before.team != user.team { changes.append("team \(before.team ?? "-") → \(user.team ?? "-")") }
            if before.territory != user.territory { changes.append("territory \(before.territory ?? "-") → \(user.territory ?? "-")") }
            if before.manager != user.manager { changes.append("manager \(before.manager ?? "-") → \(user.manager ?? "-")") }
            if before.capacity != user.capacity { changes.append("capacity \(before.capacity.map(String.init) ?? "-") → \(user.capacity.map(String.init) ?? "-")") }
            if before.disabled != user.disabled { changes.append(user.disabled ? "disabled" : "enabled") }
            try store.audit(action: "user", subject: name, detail: changes.joined(separator: ", "), now: now)
            return user
        }
    }

    /// Revokes every token of a user and issues a new one (shown once).
    public func rotateToken(_ name: UserName, rng: inout some RandomNumberGenerator) throws -> String {
        let token = Token.generate(using: &rng)
        // The old token must not be served from the token cache: re-read the directory.
        defer { directoryMarker = nil }
        try store.transaction {
            guard try store.user(named: name) != nil else { throw HubError.invalid("no user \"\(name)\"") }
            try store.revokeTokens(user: name)
            try store.addToken(hash: Token.hash(token), user: name, now: now)
            try store.audit(action: "token", subject: name, detail: "rotated", now: now)
        }
        return token
    }
}
