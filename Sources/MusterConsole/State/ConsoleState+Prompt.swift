import MusterCore

extension ConsoleState {
    // MARK: Typing

    mutating func edit(_ key: Key, _ model: ConsoleModel) -> [ConsoleEffect] {
        guard var prompt else { return [] }
        switch key {
        case .escape, .control("c"):
            self.prompt = nil
            history.reset()
            if prompt.kind == .filter { applyFilter("", model) }
            return []
        case .enter:
            self.prompt = nil
            if prompt.kind == .command { history.add(prompt.text) }
            return submit(prompt, model)
        case .backspace, .delete:
            if prompt.text.isEmpty {
                self.prompt = nil
                return []
            }
            prompt.text.removeLast()
        case .control("u"):
            prompt.text = ""
        case .control("w"):
            while prompt.text.last == " " { prompt.text.removeLast() }
            while let last = prompt.text.last, last != " " && last != "/" { prompt.text.removeLast() }
        case .up where prompt.kind == .command:
            if let older = history.older(than: prompt.text) {
                prompt.text = older
                prompt.candidates = []
                self.prompt = prompt
            }
            return []
        case .down where prompt.kind == .command:
            if let newer = history.newer() {
                prompt.text = newer
                prompt.candidates = []
                self.prompt = prompt
            }
            return []
        case .tab where prompt.kind == .command:
            let names = CommandCompletion.Names(
                workspaces: model.workspaces.map(\.name),
                themes: options.themeNames,
                contexts: model.knownContexts.map(\.rawValue),
                nodes: model.nodes.map(\.name)
            )
            let completion = CommandCompletion.complete(prompt.text, names: names, paths: paths)
            prompt.text = completion.line
            prompt.candidates = completion.candidates
            self.prompt = prompt
            return []
        case .character(let character):
            prompt.text.append(character)
        default:
            return []
        }
        history.reset()
        prompt.candidates = []
        self.prompt = prompt
        if prompt.kind == .filter { applyFilter(prompt.text, model) }
        return []
    }

    private mutating func applyFilter(_ text: String, _ model: ConsoleModel) {
        if view == .events {
            events.setFilter(text, model.eventLog)
            events.cursor.select(Int.max, count: events.count(model.eventLog), height: listHeight(model))
        } else {
            if view != .tree && view != .timeline { show(.tree) }
            setTreeFilter(text, model)
        }
    }

    private mutating func submit(_ prompt: Prompt, _ model: ConsoleModel) -> [ConsoleEffect] {
        switch prompt.kind {
        case .filter:
            applyFilter(prompt.text, model)
            return []
        case .search:
            guard var detail else { return [] }
            detail.search = prompt.text.isEmpty ? nil : prompt.text
            detail.match = nil
            self.detail = detail
            if !prompt.text.isEmpty { findMatch(forward: true, model) }
            return []
        case .command:
            switch ConsoleCommand.parse(prompt.text) {
            case .failure(let error):
                status = StatusMessage(error.message, .error)
                return []
            case .success(let command):
                return run(command, model)
            }
        }
    }

    private mutating func run(_ command: ConsoleCommand, _ model: ConsoleModel) -> [ConsoleEffect] {
        func refuseIfReadOnly(_ what: String) -> Bool {
            if options.readOnly { status = StatusMessage("read-only console: \(what) is disabled (started with --readonly)", .error) }
            return options.readOnly
        }
        switch command {
        case .launch(let path):
            return refuseIfReadOnly(":launch") ? [] : [.launch(path: path)]
        case .scale(let workspace, let count):
            if refuseIfReadOnly(":scale") { return [] }
            guard let index = model.index(ofWorkspace: workspace) else {
                let known = model.workspaces.map(\.name).joined(separator: ", ")
                status = StatusMessage("no workspace '\(workspace)' (workspaces: \(known))", .error)
                return []
            }
            if count > 0 { return [.addNodes(workspace: workspace, count: count)] }
            confirmScaleDown(index, by: -count, model)
            return []
        case .theme(let name):
            guard options.themeNames.contains(name) else {
                status = StatusMessage("no theme '\(name)' (themes: \(options.themeNames.joined(separator: ", ")))", .error)
                return []
            }
            options.themeName = name
            return [.setTheme(name)]
        case .context(let id):
            view = .tree
            return [.switchContext(ContextID(id))]
        case .node(let name):
            guard let index = model.index(ofNode: name) else {
                status = StatusMessage("no node '\(name)' in this context (Tab completes node names)", .error)
                return []
            }
            if tree.index(of: .node(index), model) != nil {
                treeSelection = .node(index)
                keepTreeSelection(model)
            }
            open(index)
            return []
        case .save(let path):
            guard let detail else {
                status = StatusMessage(":save works in a node's detail (Enter on a node)", .error)
                return []
            }
            let name = model.nodes[detail.node].name
            return [.saveOutput(node: name, path: path ?? "\(name).log")]
        case .show(let target):
            show(target)
            return []
        case .help:
            overlay = .help(scroll: 0)
            return []
        case .quit:
            return perform(.quit, model)
        }
    }

    /// `:scale WORKSPACE -N`. The broker has no operation that removes a slot (a workspace's size is part of what
    /// its requirers were told they wait for), so scaling down kills the workspace's last N nodes that are not killed
    /// yet, pending, failed and timed-out ones first, after a confirmation that says so and names them; their slots
    /// stay, killed, and `r` brings one back.
    private mutating func confirmScaleDown(_ workspace: Int, by count: Int, _ model: ConsoleModel) {
        let record = model.workspaces[workspace]
        let candidates = record.nodes.reversed().filter { model.nodes[$0].state != .killed }
        let idle = candidates.filter { [.pending, .failed, .timedOut].contains(model.nodes[$0].state) }
        let busy = candidates.filter { ![.pending, .failed, .timedOut].contains(model.nodes[$0].state) }
        let chosen = Array((idle + busy).prefix(count))
        guard !chosen.isEmpty else {
            status = StatusMessage("\(record.name) has no node left to kill (every slot is killed)", .error)
            return
        }
        let names = chosen.map { model.nodes[$0].name }
        let running = chosen.filter { !idle.contains($0) }.count
        var detail = "The broker cannot remove slots: this kills " + Self.list(names) + " and their slots stay, killed."
        if running > 0 { detail += " \(Plural.count(running, "of them is", plural: "of them are")) still running." }
        if chosen.count < count { detail += " Only \(chosen.count) of \(count) can go." }
        overlay = .confirm(
            ConfirmDialog(
                question: "Scale \(record.name) down: kill \(Plural.count(chosen.count, "node"))?",
                detail: detail,
                effect: .killNodes(names, what: "\(Plural.count(chosen.count, "node")) of \(record.name) (scaled down)")
            )
        )
    }
}
