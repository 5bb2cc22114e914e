import Foundation

/// When to draw: at most ~30 frames a second however much changes, nothing when nothing changed, a slow tick
/// for clocks on screen, and a short settling time after a resize (terminals send bursts of them).
///
/// A pure value fed with times, so the loop's pacing is tested without sleeping.
public struct FramePacer: Sendable, Hashable {
    /// The shortest time between two frames.
    public var minimumInterval: TimeInterval = 1.0 / 30
    /// How often to redraw when nothing changed (durations on screen advance).
    public var tickInterval: TimeInterval = 1
    /// How long a resize must be quiet before the frame is redrawn at the new size.
    public var resizeDelay: TimeInterval = 0.05
    /// Something changed since the last frame.
    public private(set) var isDirty = true
    /// When the last frame was drawn.
    public private(set) var lastFrame: Date?
    /// When the last resize settles.
    public private(set) var resizeSettles: Date?

    /// Creates a pacer that draws the first frame at once.
    public init() {}

    /// Notes a change that needs a new frame.
    public mutating func markDirty() { isDirty = true }

    /// Notes a resize at `time`; drawing waits until resizes stop for ``resizeDelay``.
    public mutating func resized(at time: Date) {
        isDirty = true
        resizeSettles = time.addingTimeInterval(resizeDelay)
    }

    /// Whether a frame is due at `time`.
    public func isDue(at time: Date) -> Bool {
        if let resizeSettles, time < resizeSettles { return false }
        guard let lastFrame else { return true }
        let since = time.timeIntervalSince(lastFrame)
        return isDirty ? since >= minimumInterval : since >= tickInterval
    }

    /// How long the loop may wait for input at `time` before the next frame is due.
    public func timeout(at time: Date) -> TimeInterval {
        if let resizeSettles, time < resizeSettles { return resizeSettles.timeIntervalSince(time) }
        guard let lastFrame else { return 0 }
        let next = lastFrame.addingTimeInterval(isDirty ? minimumInterval : tickInterval)
        return max(0, next.timeIntervalSince(time))
    }

    /// Notes that a frame was drawn at `time`.
    public mutating func drew(at time: Date) {
        isDirty = false
        lastFrame = time
        resizeSettles = nil
    }
}
