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

    /// `:scale WORKSPACE -N`: removes the workspace's last N slots, those with nothing running (pending, failed,
    /// killed, timed out) first, after a confirmation that names them; a running node among them is killed first.
    /// A workspace keeps at least one node.
    private mutating func confirmScaleDown(_ workspace: Int, by count: Int, _ model: ConsoleModel) {
        let record = model.workspaces[workspace]
        let newestFirst = Array(record.nodes.reversed())
        let idle = newestFirst.filter { model.nodes[$0].state.isRemovable }
        let running = newestFirst.filter { !model.nodes[$0].state.isRemovable }
        let chosen = Array((idle + running).prefix(min(count, record.nodes.count - 1)))
        guard !chosen.isEmpty else {
            status = StatusMessage("\(record.name) has one node left; a workspace keeps at least one (x kills it)", .error)
            return
        }
        let names = chosen.map { model.nodes[$0].name }
        let kill = chosen.filter { !model.nodes[$0].state.isRemovable }.map { model.nodes[$0].name }
        var detail = "Removes " + Self.list(names) + ": their output goes with them, and what requirers wait for shrinks."
        if !kill.isEmpty { detail += " \(Plural.count(kill.count, "of them is", plural: "of them are")) still running and is killed first." }
        if chosen.count < count { detail += " Only \(chosen.count) of \(count) can go (a workspace keeps one node)." }
        overlay = .confirm(
            ConfirmDialog(
                question: "Scale \(record.name) down: remove \(Plural.count(chosen.count, "node"))?",
                detail: detail,
                effect: .removeNodes(names, kill: kill, what: "\(Plural.count(chosen.count, "node")) of \(record.name)")
            )
        )
    }
}
