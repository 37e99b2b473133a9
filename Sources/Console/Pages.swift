/// Every page, by path.
enum Pages {
    static let all: [(String, PageLoader)] = [
        ("/", OverviewPage.load), ("/jobs", JobsPage.list), ("/jobs/confirm", JobsPage.confirm), ("/job", JobsPage.detail),
        ("/schedules", SchedulesPage.load), ("/mappings", MappingsPage.list), ("/mapping", MappingsPage.detail),
        ("/review", ReviewPage.load), ("/availability", AvailabilityPage.load),
    ]
}
