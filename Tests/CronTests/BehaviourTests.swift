import Foundation
import Testing
@testable import Cron

@Suite("CronExpression behaviour")
struct BehaviourTests {
    @Test func keepsOriginalTextAndZone() {
        let plain = cron("*/5 * * * *")
        #expect(plain.description == "*/5 * * * *")
        #expect(plain.timeZone == nil)
        let zoned = cron("CRON_TZ=Europe/Oslo 0 9 * * mon-fri")
        #expect(zoned.description == "CRON_TZ=Europe/Oslo 0 9 * * mon-fri")
        #expect(zoned.timeZone == oslo)
    }

    @Test func equalityFollowsTheText() {
        #expect(cron("0 0 * * *") == cron("0 0 * * *"))
        #expect(Set([cron("0 0 * * *"), cron("0 0 * * *"), cron("@daily")]).count == 2)
    }

    @Test func canEverFire() {
        #expect(!cron("0 0 30 2 *").canEverFire)
        #expect(!cron("0 0 31 4,6,9,11 *").canEverFire)
        #expect(!cron("0 0 30W 2 *").canEverFire)
        #expect(cron("0 0 29 2 *").canEverFire)
        #expect(cron("0 0 30 2 mon").canEverFire)
        #expect(cron("0 0 L-28 2 *").canEverFire)
        #expect(cron("@every 1s").canEverFire)
    }

    @Test func impossibleExpressionNeverFires() {
        let never = cron("0 0 30 2 *")
        let start = instant("2025-01-01T00:00:00Z")
        #expect(never.next(after: start) == nil)
        #expect(never.previous(before: start) == nil)
        #expect(never.fireTimes(after: start, count: 3).isEmpty)
        #expect(!never.matches(instant("2025-03-02T00:00:00Z")))
    }

    @Test func matchesFollowsTheDaylightSavingPolicy() {
        let expression = cron("30 2 * * *")
        #expect(expression.matches(instant("2025-03-30T03:00:00+02:00"), in: oslo))  // skipped 02:30
        #expect(!expression.matches(instant("2025-03-30T03:30:00+02:00"), in: oslo))
        #expect(expression.matches(instant("2025-10-26T02:30:00+02:00"), in: oslo))  // first 02:30
        #expect(!expression.matches(instant("2025-10-26T02:30:00+01:00"), in: oslo))  // repeated 02:30
        #expect(expression.matches(instant("2025-10-26T02:30:00Z")))
        #expect(!expression.matches(instant("2025-10-26T02:30:00Z").addingTimeInterval(0.5)))
        #expect(!expression.matches(instant("2025-10-26T02:31:00Z")))
    }

    @Test func everyIsAnchoredToTheEpochAndIgnoresZones() {
        let every = cron("@every 90s")
        #expect(every.matches(Date(timeIntervalSince1970: 1_735_689_690)))
        #expect(!every.matches(Date(timeIntervalSince1970: 1_735_689_660)))
        let start = instant("2025-03-30T00:59:00Z")
        let expected = [1_743_296_400, 1_743_296_490, 1_743_296_580].map { Date(timeIntervalSince1970: TimeInterval($0)) }
        #expect(every.fireTimes(after: start, count: 3) == expected)
        #expect(every.fireTimes(after: start, count: 3, in: oslo) == expected)
        #expect(every.fireTimes(after: start, count: 3, in: newYork) == expected)
        #expect(cron("@every 1h").next(after: Date(timeIntervalSince1970: -1)) == Date(timeIntervalSince1970: 0))
        #expect(cron("@every 1h").previous(before: Date(timeIntervalSince1970: 0)) == Date(timeIntervalSince1970: -3600))
    }

    @Test func fireTimesAcrossFallBack() {
        let times = cron("0 * * * *").fireTimes(after: instant("2025-10-26T00:30:00+02:00"), count: 4, in: oslo)
        #expect(times == [
            instant("2025-10-26T01:00:00+02:00"),
            instant("2025-10-26T02:00:00+02:00"),
            instant("2025-10-26T03:00:00+01:00"),  // the repeated 02:00 (+01:00) does not fire
            instant("2025-10-26T04:00:00+01:00"),
        ])
    }

    @Test func fireTimesAcrossSpringForward() {
        let times = cron("0,30 * * * *").fireTimes(after: instant("2025-03-09T01:00:00-05:00"), count: 4, in: newYork)
        #expect(times == [
            instant("2025-03-09T01:30:00-05:00"),
            instant("2025-03-09T03:00:00-04:00"),  // 02:00 and 02:30 are skipped and collapse into 03:00
            instant("2025-03-09T03:30:00-04:00"),
            instant("2025-03-09T04:00:00-04:00"),
        ])
    }

    @Test func fireTimesWithNonPositiveCountIsEmpty() {
        #expect(cron("* * * * *").fireTimes(after: instant("2025-01-01T00:00:00Z"), count: 0).isEmpty)
        #expect(cron("* * * * *").fireTimes(after: instant("2025-01-01T00:00:00Z"), count: -1).isEmpty)
    }

    @Test func fractionalSeconds() {
        let everySecond = cron("* * * * * *")
        let start = instant("2025-01-01T00:00:00Z").addingTimeInterval(0.5)
        #expect(everySecond.next(after: start) == instant("2025-01-01T00:00:01Z"))
        #expect(everySecond.previous(before: start) == instant("2025-01-01T00:00:00Z"))
    }

    @Test func fixedOffsetZone() {
        let zone = TimeZone(identifier: "Etc/GMT-2")!  // UTC+2
        #expect(cron("0 9 * * *").next(after: instant("2025-01-01T00:00:00Z"), in: zone) == instant("2025-01-01T07:00:00Z"))
    }

    @Test func datesOutsideTheSupportedRange() {
        let expression = cron("* * * * *")
        for date in [Date(timeIntervalSince1970: 1e15), Date(timeIntervalSince1970: -1e15),
                     Date(timeIntervalSince1970: .nan), Date(timeIntervalSince1970: .infinity)] {
            #expect(expression.next(after: date) == nil)
            #expect(expression.previous(before: date) == nil)
            #expect(!expression.matches(date))
        }
        #expect(expression.next(after: .distantFuture) != nil)
    }

    /// Found by deploy/fuzz (FuzzCron): at the last supported second it is already the year 10000
    /// on Oslo's wall clock, and `next` returned 10000-01-01 00:00:00 UTC, which `matches` refuses;
    /// `previous` before the first supported second returned an instant in the year 0.
    @Test func fireTimesStayInTheSupportedRange() {
        let lastSecond = Date(timeIntervalSince1970: 253_402_300_799)  // 9999-12-31 23:59:59 UTC
        let firstSecond = Date(timeIntervalSince1970: -62_135_596_800)  // 0001-01-01 00:00:00 UTC
        for expression in [cron("*/5 * * * *"), cron("CRON_TZ=Pacific/Kiritimati 0 0 1 1 *")] {
            #expect(expression.next(after: lastSecond, in: oslo) == nil)
            #expect(expression.fireTimes(after: lastSecond.addingTimeInterval(-3_600), count: 100, in: oslo)
                .allSatisfy { expression.matches($0, in: oslo) })
            #expect(expression.previous(before: firstSecond, in: newYork) == nil)
        }
    }

    @Test func searchesAreBoundedForRareExpressions() {
        // Fires only in leap years whose February starts on a Monday: 2044, then 2072.
        let rare = cron("0 0 * 2 1#5")
        #expect(rare.fireTimes(after: instant("2045-01-01T00:00:00Z"), count: 1) == [instant("2072-02-29T00:00:00Z")])
        #expect(rare.previous(before: instant("2072-02-29T00:00:00Z")) == instant("2044-02-29T00:00:00Z"))
    }
}
