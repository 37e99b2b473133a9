import Sync

extension ODataClient {
    /// How this client's requests stand against its endpoint's service protection limits, in the
    /// engine's terms (what a worker writes to `couplet.endpoint_limits`).
    public func limitStatistics() async -> EndpointLimitStatistics {
        let statistics = await protection.statistics
        return EndpointLimitStatistics(
            endpoint: service.name, waiting: statistics.waiting, inFlight: statistics.inFlight, isPaused: statistics.isPaused,
            waited: statistics.totalWaited, throttled: statistics.throttledResponses)
    }
}
