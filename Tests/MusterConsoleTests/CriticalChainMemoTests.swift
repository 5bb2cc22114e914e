import Foundation
import MusterCore
import Testing

@testable import MusterConsole

/// The timeline asks for the critical chain on every frame; it is computed once per state of the model, and a
/// change is never answered with the chain of before.
@Suite("The console's critical chain, memoized")
struct CriticalChainMemoTests {
    @Test func `the chain follows the model's changes, and a diverging copy keeps its own`() throws {
        var script = try EngineScript(document: try EngineScript.cpeDocument())
        for node in script.nodeNames { try script.start(node) }
        var model = ConsoleModel(broker: Scenes.broker)
        model.apply(.snapshot(try script.snapshot()))
        _ = script.takeEvents()
        #expect(model.criticalChain == nil, "no node has finished")
        #expect(model.criticalChain == nil, "asked twice, the same")

        let before = model
        try script.checkIn("rabbitmq-head-0")
        try script.reportOK("rabbitmq-head-0")
        model.apply(.events(script.takeEvents()))
        let chain = try #require(model.criticalChain, "the head finished")
        #expect(chain.nodes.contains("rabbitmq-head-0"))
        #expect(chain == CriticalChain.compute(ModelBoot(model: model)), "the memo holds what a fresh pass computes")
        #expect(before.criticalChain == nil, "the copy from before the change keeps its own chain")
    }
}
