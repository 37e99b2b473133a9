import Cron
import Foundation
import FuzzInput

// The input is a schedules file.
fuzz { text in
    let schedules: [ScheduleDefinition]
    do {
        schedules = try ScheduleFile.parse(text, file: "fuzz.yaml")
    } catch {
        expect(!"\(error)".isEmpty, "a rejected file names a problem")
        return
    }
    for schedule in schedules {
        _ = schedule.expression.next(after: Date(timeIntervalSince1970: 1_743_296_400), in: schedule.zone)
    }
}
