extension Identity {
    /// Checks every field, so that the identity is safe to write into other nodes' host files:
    ///
    /// - ``interface`` is a ``SafeName`` (it names `2-thishost/<NIC>` scripts);
    /// - ``ip`` is an ``IPAddress`` literal;
    /// - ``hostname`` follows ``HostName``'s rule (RFC 1123, no trailing dot, no wildcard);
    /// - ``pubkey`` is one ``SSHPublicKey`` line of a known type.
    ///
    /// The broker's engine refuses a check-in whose identities fail this; an agent calls it again before it
    /// writes `etc/hosts`, `hosts.equiv` or `ssh_known_hosts` from an answer.
    ///
    /// - Throws: ``IdentityError`` for the first field that fails, in the order above.
    public func validate() throws(IdentityError) {
        if let problem = SafeName.problem(in: interface) {
            throw IdentityError(field: .interface, interface: interface, reason: problem.message(for: "the NIC name"))
        }
        if let reason = IPAddress.problem(in: ip) {
            throw IdentityError(field: .ip, interface: interface, reason: reason)
        }
        if let reason = HostName.problem(in: hostname) {
            throw IdentityError(field: .hostname, interface: interface, reason: reason)
        }
        do {
            _ = try SSHPublicKey(pubkey)
        } catch {
            throw IdentityError(field: .pubkey, interface: interface, reason: error.reason)
        }
    }

    /// Whether ``validate()`` passes.
    public var isValid: Bool {
        do {
            try validate()
            return true
        } catch {
            return false
        }
    }
}
