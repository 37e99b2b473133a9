import Foundation
import Testing

@testable import Cron

@Suite("Tick planning")
struct TickPlanTests {
    let utc = TimeZone(identifier: "UTC")!
    let base = ISO8601DateFormatter().date(from: "2026-05-04T10:00:00Z")!

    func schedule(_ expression: String, _ policy: MisfirePolicy = .skip, window: TimeInterval = 3600) throws -> PlannedSchedule {
        PlannedSchedule(name: "s", expression: try CronExpression(expression), timeZone: utc, misfirePolicy: policy, catchUpWindow: window)
    }

    func at(_ minutes: Double) -> Date { base.addingTimeInterval(minutes * 60) }

    @Test("ticks since the last one fire when on time, and the next one is reported")
    func onTime() throws {
        let plan = TickPlan.plan(try schedule("*/5 * * * *"), lastTick: at(0), firstSeen: at(-60), now: at(11), threshold: 600)
        #expect(plan.due == [at(5), at(10)])
        #expect(plan.next == at(15))
        #expect(!plan.droppedMissedTicks)
    }

    @Test("a tick exactly at now fires now; the last tick never fires again")
    func boundaries() throws {
        let plan = TickPlan.plan(try schedule("*/5 * * * *"), lastTick: at(5), firstSeen: at(-60), now: at(10), threshold: 60)
        #expect(plan.due == [at(10)])
    }

    @Test("skip drops ticks older than the threshold")
    func skip() throws {
        let plan = TickPlan.plan(try schedule("*/5 * * * *"), lastTick: at(0), firstSeen: at(-60), now: at(92), threshold: 600)
        #expect(plan.due == [at(85), at(90)])
        #expect(plan.droppedMissedTicks)
    }

    @Test("run_once adds the latest missed tick when it lies within the window")
    func runOnce() throws {
        let plan = TickPlan.plan(try schedule("*/5 * * * *", .runOnce), lastTick: at(0), firstSeen: at(-60), now: at(92), threshold: 600)
        #expect(plan.due == [at(80), at(85), at(90)])
        let outside = TickPlan.plan(
            try schedule("*/5 * * * *", .runOnce, window: 300), lastTick: at(0), firstSeen: at(-60), now: at(92), threshold: 120)
        #expect(outside.due == [at(90)], "90 is exactly at the threshold: on time; 85 is older than the window")
        #expect(outside.droppedMissedTicks)
    }

    @Test("a schedule without ticks starts when first seen, never earlier")
    func firstSeen() throws {
        let plan = TickPlan.plan(try schedule("*/5 * * * *", .runOnce), lastTick: nil, firstSeen: at(7), now: at(12), threshold: 600)
        #expect(plan.due == [at(10)])
    }

    @Test("an expression that never fires plans nothing")
    func never() throws {
        let plan = TickPlan.plan(try schedule("0 0 30 2 *"), lastTick: nil, firstSeen: at(0), now: at(1), threshold: 60)
        #expect(plan.due.isEmpty && plan.next == nil)
    }
}
