import MusterCore

extension ScriptPlan {
    /// The ctx-scripts a released node runs, exactly in the order of DESIGN.md's phase table:
    ///
    /// 0. `0-etchosts.sh IP short FQDN` once per known host (see ``KnownHosts``), then the built-in
    ///    host-files step;
    /// 1. `1-ipandhost/<role> IP short FQDN` once per (required role, provider);
    /// 2. `2-thishost/<nic label> IP short FQDN` once per own NIC;
    /// 3. `3-data/<name> FILE` once per data value (the file is made when the step runs);
    /// 4. `4-restarts/<role>` once per distinct required role, without arguments;
    /// 5. `5-thishost-finalize/<nic label> IP short FQDN` once per own NIC.
    ///
    /// A missing script is skipped, except that data values with no `3-data` folder at all are an error. An
    /// identity that is not valid (``MusterCore/Identity/validate()``) is left out of everything: no host file line,
    /// no script run with its values; the host-files step's ``HostFiles/notes`` say so.
    ///
    /// - Parameters:
    ///   - listing: What the node's ctx-scripts folder holds.
    ///   - own: The node's own identities, one per NIC, in NIC order (``Identity/interface`` is the NIC label).
    ///   - answer: The node's answer from the broker.
    /// - Throws: ``AgentError/configuration(_:)`` (code 2) for data values without a `3-data` folder.
    public static func full(listing: ScriptListing, own: [Identity], answer: NodeAnswer) throws(AgentError) -> ScriptPlan {
        if !answer.data.isEmpty && !listing.hasFolder(Folder.data) {
            let names = answer.data.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw .configuration("data \(names) given, but ctx-scripts has no \(Folder.data) folder to receive it")
        }
        let known = KnownHosts(answer: answer, own: own)
        var plan = PlanBuilder(listing: listing)
        for host in known.hosts { plan.add(0, Folder.etcHosts, host.ip, host.shortName, host.hostname) }
        plan.steps.append(.hostFiles(known.files))
        for role in answer.roles {
            for provider in uniqueProviders(role) { plan.add(1, "\(Folder.ipAndHost)/\(role.role)", arguments(provider.identity)) }
        }
        let own = own.filter(\.isValid)
        for identity in own { plan.add(2, "\(Folder.thisHost)/\(identity.interface)", arguments(identity)) }
        for data in answer.data {
            plan.add(3, "\(Folder.data)/\(data.name)", [], data: DataValue(name: data.name, value: data.value))
        }
        var restarted: Set<String> = []
        for role in answer.roles where restarted.insert(role.role).inserted { plan.add(4, "\(Folder.restarts)/\(role.role)", []) }
        for identity in own { plan.add(5, "\(Folder.finalize)/\(identity.interface)", arguments(identity)) }
        return plan.plan
    }

    /// The steps for a newer answer after an older one was applied (a provider joined a required role later,
    /// by scale-up or retry): `0-etchosts.sh` for each newly known host, the built-in host-files step
    /// (rewritten from the whole new answer), and `1-ipandhost/<role>` for each provider that is new to its role.
    /// A provider whose identity changed (new address, name or key) counts as new.
    ///
    /// Phases 2–5 do not run again: they are about the node itself or ran once per role.
    public static func incremental(listing: ScriptListing, own: [Identity], from old: NodeAnswer, to new: NodeAnswer) -> ScriptPlan {
        let before = Set(KnownHosts(answer: old, own: own).hosts.map { HostKeyPair(ip: $0.ip, hostname: $0.hostname) })
        let known = KnownHosts(answer: new, own: own)
        var plan = PlanBuilder(listing: listing)
        for host in known.hosts where !before.contains(HostKeyPair(ip: host.ip, hostname: host.hostname)) {
            plan.add(0, Folder.etcHosts, host.ip, host.shortName, host.hostname)
        }
        plan.steps.append(.hostFiles(known.files))
        for role in new.roles {
            let previous = Set(old.roles.filter { $0.role == role.role }.flatMap(\.providers))
            for provider in uniqueProviders(role) where !previous.contains(provider) {
                plan.add(1, "\(Folder.ipAndHost)/\(role.role)", arguments(provider.identity))
            }
        }
        return plan.plan
    }

    /// The folder and script names of the phase table.
    enum Folder {
        static let etcHosts = "0-etchosts.sh"
        static let ipAndHost = "1-ipandhost"
        static let thisHost = "2-thishost"
        static let data = "3-data"
        static let restarts = "4-restarts"
        static let finalize = "5-thishost-finalize"
    }
}

/// IP, short name, FQDN: the arguments of phases 0, 1, 2 and 5.
private func arguments(_ identity: Identity) -> [String] { [identity.ip, identity.shortName, identity.hostname] }

/// A role's providers without repeats (the same provider identity listed twice runs once), and without those whose
/// identity is invalid (``KnownHosts`` says so in the node's output): no script is run with such values.
private func uniqueProviders(_ role: RoleAnswer) -> [RoleAnswer.Provider] {
    var seen: Set<RoleAnswer.Provider> = []
    return role.providers.filter { $0.identity.isValid && seen.insert($0).inserted }
}

private struct HostKeyPair: Hashable {
    var ip: String
    var hostname: String
}

/// Collects steps, leaving out (and noting) the scripts the folder does not hold.
private struct PlanBuilder {
    let listing: ScriptListing
    var steps: [PlanStep] = []
    var skipped: [ScriptRef] = []

    var plan: ScriptPlan { ScriptPlan(steps: steps, skipped: skipped) }

    mutating func add(_ phase: Int, _ script: String, _ arguments: String...) { add(phase, script, arguments) }

    mutating func add(_ phase: Int, _ script: String, _ arguments: [String], data: DataValue? = nil) {
        let step = ScriptStep(phase: phase, script: script, arguments: arguments, data: data)
        if isSafe(script) && listing.contains(script) { steps.append(.script(step)) } else { skipped.append(step.key) }
    }

    /// A role, NIC name or data name is a file name inside its phase folder: each part must be a
    /// ``MusterCore/SafeName``, so that it cannot climb out of it.
    private func isSafe(_ script: String) -> Bool {
        let parts = script.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { SafeName.isValid($0) }
    }
}
