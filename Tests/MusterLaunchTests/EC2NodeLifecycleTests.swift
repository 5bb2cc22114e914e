import Testing

@testable import MusterLaunch

@Suite("EC2 node lifecycle")
struct EC2NodeLifecycleTests {
    let clock = ContinuousClock()

    @Test func `an instance that reaches running is reported booted once`() {
        var lifecycle = EC2NodeLifecycle(generation: 0)
        let start = clock.now
        let result1 = lifecycle.created(instanceID: "i-1", at: start)
        #expect(result1 == .watch)
        let result2 = lifecycle.observed(state: "pending", reason: nil, at: start, bootTimeout: .seconds(60))
        #expect(result2 == .wait)
        let result3 = lifecycle.observed(state: nil, reason: nil, at: start, bootTimeout: .seconds(60))
        #expect(result3 == .wait)
        let result4 = lifecycle.observed(state: "running", reason: nil, at: start, bootTimeout: .seconds(60))
        #expect(result4 == .booted)
        let result5 = lifecycle.observed(state: "running", reason: nil, at: start, bootTimeout: .seconds(60))
        #expect(result5 == .wait)
        let result6 = lifecycle.stop()
        #expect(result6 == .terminate("i-1"))
        let result7 = lifecycle.stop()
        #expect(result7 == StopAction.none)
    }

    typealias StopAction = EC2NodeLifecycle.StopAction

    @Test func `a stop during run-instances terminates the instance as soon as it exists`() {
        var lifecycle = EC2NodeLifecycle(generation: 2)
        let result8 = lifecycle.stop()
        #expect(result8 == StopAction.none)
        let result9 = lifecycle.created(instanceID: "i-2", at: clock.now)
        #expect(result9 == .terminate("i-2"))
        #expect(lifecycle.instanceID == nil)
    }

    @Test func `a failed run-instances is reported unless the node was stopped meanwhile`() {
        var failed = EC2NodeLifecycle(generation: 0)
        let result10 = failed.creationFailed()
        #expect(result10)
        var stopped = EC2NodeLifecycle(generation: 0)
        _ = stopped.stop()
        let reported = stopped.creationFailed()
        #expect(!reported)
    }

    @Test func `an instance that ends before running, or boots too slowly, fails the launch`() {
        let start = clock.now
        var ended = EC2NodeLifecycle(generation: 0)
        _ = ended.created(instanceID: "i-3", at: start)
        let endedResult = ended.observed(state: "terminated", reason: "Server.InternalError", at: start, bootTimeout: .seconds(60))
        #expect(endedResult == .failed("instance i-3 is terminated before it ran: Server.InternalError"))
        var slow = EC2NodeLifecycle(generation: 0)
        _ = slow.created(instanceID: "i-4", at: start)
        let result11 = slow.observed(state: "pending", reason: nil, at: start + .seconds(59), bootTimeout: .seconds(60))
        #expect(result11 == .wait)
        let slowResult = slow.observed(state: "pending", reason: nil, at: start + .seconds(61), bootTimeout: .seconds(60))
        guard case .timedOut(let message) = slowResult else {
            Issue.record("a slow boot did not time out")
            return
        }
        #expect(message.contains("i-4") && message.contains("pending"))
        let result12 = slow.stop()
        #expect(result12 == StopAction.none, "a timed-out instance is terminated by the timeout, not again")
    }
}
