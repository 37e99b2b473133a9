import Foundation
import Postgres
import PostgresTestSupport
import Testing
import Yams

/// The deployment files of deploy/ hold what an operator relies on: the autoscaler's query counts the
/// jobs it should, a stopping worker is given the time its grace needs, and the probes ask the
/// address the process serves.
@Suite("The deployment files: KEDA's query, stop timeouts and probes")
struct DeploymentTests {
    @Test("KEDA's query (deploy/kubernetes/base/autoscaling.yaml) counts available, retryable and running jobs of every queue, as couplet_reader")
    func autoscalerQueryCountsTheWork() async throws {
        let query = try Self.kedaQuery()
        try await withMigratedDatabase { _, db in
            #expect(try await Self.run(query, on: db) == 0, "an empty queue: 0, not NULL")
            let counted: [TestJob] = [
                TestJob(state: "available"), TestJob(state: "available"), TestJob(state: "available", queue: "sync"),
                TestJob(state: "retryable"), TestJob(state: "retryable", queue: "sync", runIn: 600),
                TestJob(state: "running"), TestJob(state: "running", queue: "sync"), TestJob(state: "running", queue: "sync"),
            ]
            let ignored: [TestJob] = [
                TestJob(state: "scheduled", runIn: 600), TestJob(state: "on_hold"), TestJob(state: "failed"), TestJob(state: "failed", queue: "sync"),
                TestJob(state: "completed"), TestJob(state: "cancelled"),
            ]
            for job in counted + ignored { _ = try await db.insert(job) }
            #expect(try await Self.run(query, on: db) == Int64(counted.count), "3 available, 2 retryable, 3 running over both queues")
        }
    }

    @Test("docs/deployment.md shows the query the ScaledObject runs")
    func documentedQueryIsTheDeployedOne() throws {
        let blocks = try DocumentationPage.named("docs/deployment.md").codeBlocks.filter { $0.language == "sql" }
        #expect(blocks.map { SQLStatements.normalized($0.text) } == [SQLStatements.normalized(try Self.kedaQuery())])
    }

    @Test("the worker unit's TimeoutStopSec and the worker pods' terminationGracePeriodSeconds exceed the --grace they give")
    func stopTimeoutsExceedTheGrace() throws {
        let unit = try SystemdUnit(path: "deploy/systemd/couplet-worker@.service")
        let unitGrace = try #require(Self.option("--grace", in: unit.execStartWords))
        let timeoutStop = try #require(unit.value("TimeoutStopSec"))
        #expect(try Self.seconds(timeoutStop) >= Self.seconds(unitGrace) + Self.releaseMargin,
                "TimeoutStopSec=\(timeoutStop) leaves the worker \(Self.releaseMargin)s after --grace \(unitGrace) to release its jobs")
        #expect(unit.value("KillMode") == "mixed" && unit.value("KillSignal") == "SIGTERM")

        let pod = try Manifests(path: "deploy/kubernetes/base/worker.yaml").podSpec(of: "Deployment", "couplet-worker")
        let podGrace = try #require(Self.option("--grace", in: try Self.container("worker", of: pod).arguments))
        let termination = try #require(pod["terminationGracePeriodSeconds"] as? Int)
        #expect(Double(termination) >= (try Self.seconds(podGrace)) + Self.releaseMargin,
                "terminationGracePeriodSeconds \(termination) leaves \(Self.releaseMargin)s after --grace \(podGrace)")
    }

    @Test("the workers' and schedulers' probes ask /livez and /readyz on the port of their --http-address, which listens on all interfaces")
    func probesMatchTheHTTPAddress() throws {
        let pods = [
            ("deploy/kubernetes/base/worker.yaml", "couplet-worker", "worker"),
            ("deploy/kubernetes/base/scheduler.yaml", "couplet-scheduler", "scheduler"),
        ]
        for (path, deployment, name) in pods {
            let container = try Self.container(name, of: try Manifests(path: path).podSpec(of: "Deployment", deployment))
            let address = try #require(Self.option("--http-address", in: container.arguments), "\(path): no --http-address")
            let (host, port) = try #require(Self.hostAndPort(address), "\(path): \(address)")
            #expect(host == "0.0.0.0", "\(path): the kubelet probes the pod's IP, so the address cannot be loopback")
            for (probe, endpoint) in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")] {
                let get = try #require(container.probe(probe), "\(path): no \(probe)")
                #expect(get.path == endpoint, "\(path): \(probe)")
                #expect(container.port(get.port) == port, "\(path): \(probe) asks port \(get.port), the process serves \(port)")
            }
        }
    }

    /// What a stopping worker needs beyond its grace to release the jobs still running and close its connections.
    static let releaseMargin = 5.0

    /// The `query` of the ScaledObject's postgresql trigger.
    static func kedaQuery() throws -> String {
        let scaledObject = try #require(try Manifests(path: "deploy/kubernetes/base/autoscaling.yaml").document(of: "ScaledObject", "couplet-worker"))
        let triggers = try #require((scaledObject["spec"] as? [String: Any])?["triggers"] as? [[String: Any]])
        let postgres = try #require(triggers.first { $0["type"] as? String == "postgresql" })
        return try #require((postgres["metadata"] as? [String: Any])?["query"] as? String)
    }

    /// Runs `query` as KEDA's login would, with role couplet_reader only, and returns its one number.
    static func run(_ query: String, on db: PostgresConnection) async throws -> Int64 {
        try await db.runScript("SET ROLE couplet_reader", name: "as the reader")
        let rows = try await db.query(PostgresQuery(unsafeSQL: query))
        let value = try rows.single().decode(Int64.self, at: 0)
        try await db.runScript("RESET ROLE", name: "back")
        return value
    }

    /// The value after `option` in `words` (`--grace 25s`, or `--grace=25s`).
    static func option(_ option: String, in words: [String]) -> String? {
        if let index = words.firstIndex(of: option), words.indices.contains(index + 1) { return words[index + 1] }
        return words.first { $0.hasPrefix(option + "=") }.map { String($0.dropFirst(option.count + 1)) }
    }

    /// `host:port` taken apart.
    static func hostAndPort(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        return (String(address[..<colon]), port)
    }

    /// Seconds of a duration as Couplet and systemd write it: `25s`, `1m30s`, `500ms`, or a bare number of seconds.
    static func seconds(_ text: String) throws -> Double {
        if let plain = Double(text) { return plain }
        let units: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600]
        let parts = text.matches(of: /([0-9]+)(ms|min|s|m|h)/)
        guard !parts.isEmpty, parts.map({ String($0.output.0) }).joined() == text else {
            throw DeploymentFileError(description: "not a duration: \(text)")
        }
        return parts.reduce(0) { $0 + (Double($1.output.1) ?? 0) * (units[String($1.output.2)] ?? 0) }
    }

    /// The container named `name` of a pod spec.
    static func container(_ name: String, of pod: [String: Any]) throws -> Container {
        let containers = try #require(pod["containers"] as? [[String: Any]])
        return Container(fields: try #require(containers.first { $0["name"] as? String == name }, "no container \(name)"))
    }
}

/// A deployment file that is not what the test expects.
struct DeploymentFileError: Error, CustomStringConvertible {
    let description: String
}

/// The YAML documents of a manifest file of the repository.
struct Manifests {
    let documents: [[String: Any]]

    init(path: String) throws {
        let text = try String(contentsOf: DocumentationPage.repository.appending(path: path), encoding: .utf8)
        documents = try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
    }

    /// The resource of `kind` named `name`.
    func document(of kind: String, _ name: String) -> [String: Any]? {
        documents.first { $0["kind"] as? String == kind && ($0["metadata"] as? [String: Any])?["name"] as? String == name }
    }

    /// The pod spec of a Deployment's template.
    func podSpec(of kind: String, _ name: String) throws -> [String: Any] {
        let resource = try #require(self.document(of: kind, name), "no \(kind) \(name)")
        let template = try #require((resource["spec"] as? [String: Any])?["template"] as? [String: Any])
        return try #require(template["spec"] as? [String: Any])
    }
}

/// A container of a pod spec: its arguments, ports and probes.
struct Container {
    let fields: [String: Any]

    /// `args`, as the entrypoint `couplet` receives them.
    var arguments: [String] { fields["args"] as? [String] ?? [] }

    /// The container port a probe's `port` names: a number, or a port's name.
    func port(_ reference: String) -> Int? {
        if let number = Int(reference) { return number }
        let ports = fields["ports"] as? [[String: Any]] ?? []
        return ports.first { $0["name"] as? String == reference }?["containerPort"] as? Int
    }

    /// The HTTP GET of probe `name`: its path and port (as written).
    func probe(_ name: String) -> (path: String, port: String)? {
        guard let get = (fields[name] as? [String: Any])?["httpGet"] as? [String: Any], let path = get["path"] as? String,
              let port = get["port"].map({ "\($0)" })
        else { return nil }
        return (path, port)
    }
}

/// A systemd unit file of the repository, read as `Key=value` lines (comments and sections ignored;
/// a key given twice keeps its last value, as systemd does for these settings).
struct SystemdUnit {
    let values: [String: String]

    init(path: String) throws {
        let text = try String(contentsOf: DocumentationPage.repository.appending(path: path), encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("[") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        self.values = values
    }

    func value(_ key: String) -> String? { values[key] }

    /// ExecStart's words (the unit's commands hold no quotes).
    var execStartWords: [String] { (values["ExecStart"] ?? "").split(separator: " ").map(String.init) }
}
