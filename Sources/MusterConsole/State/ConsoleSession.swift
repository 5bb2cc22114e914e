import Foundation

/// The whole pure console: the model and the view state, kept in step.
///
/// Everything the console shows and does, without a terminal: apply updates from the feed, handle inputs,
/// take the effects, render frames. ``ConsoleLoop`` drives one with a real terminal; tests drive one directly.
public struct ConsoleSession: Sendable {
    /// What the console knows.
    public private(set) var model: ConsoleModel
    /// How it shows it.
    public private(set) var state: ConsoleState

    /// Creates a session for a broker, with no context yet.
    public init(broker: String, options: ConsoleOptions, screen: ScreenSize) {
        model = ConsoleModel(broker: broker)
        state = ConsoleState(options: options, screen: screen)
        state.follow(ModelDelta(), model)
    }

    /// Applies an update from the feed.
    @discardableResult
    public mutating func apply(_ update: ConsoleUpdate) -> ModelDelta {
        let delta = model.apply(update)
        if delta.changed || delta.structureChanged { state.follow(delta, model) }
        return delta
    }

    /// Handles an input at `time`; returns the effects to perform. Action results also go to the event log.
    public mutating func handle(_ input: ConsoleInput, at time: Date) -> [ConsoleEffect] {
        switch input {
        case .actionSucceeded(let message):
            model.log(EventLogEntry(sequence: nil, time: time, kind: "action", node: nil, text: message, severity: .success))
            state.follow(ModelDelta(), model)
        case .actionFailed(let message):
            model.log(EventLogEntry(sequence: nil, time: time, kind: "action", node: nil, text: message, severity: .error))
            state.follow(ModelDelta(), model)
        default:
            break
        }
        return state.handle(input, model: model)
    }

    /// Changes the options (for example the glyphs once the terminal's abilities are known).
    public mutating func setOptions(_ options: ConsoleOptions) {
        state.options = options
    }

    /// Shows a view (the contexts view when the console starts without a context).
    public mutating func show(_ view: ConsoleView) {
        state.show(view)
    }

    /// Sets the command line's history (read from its file at start).
    public mutating func setHistory(_ history: CommandHistory) {
        state.setHistory(history)
    }

    /// What the console needs from its feed now: the output of the node whose detail is open (the attempt
    /// shown), and the list of contexts while the contexts view is shown.
    public var demand: ConsoleDemand {
        var demand = ConsoleDemand(contexts: state.view == .contexts || (state.view == .tree && state.tree.showsOtherContexts))
        if state.view == .detail, let detail = state.detail, detail.node < model.nodes.count, let context = model.contextID {
            let node = model.nodes[detail.node]
            let attempt = detail.shownAttempt(latest: node.generation)
            demand.output = OutputDemand(context: context, node: node.name, attempt: attempt, live: attempt == node.generation)
        }
        return demand
    }

    /// The frame to render at `now`.
    public func frame(at now: Date) -> Frame { Frame(model: model, state: state, now: now) }
}
