import YAMLFile

/// A mapping's name and dependencies as its file declares them, with their places.
struct DeclaredMapping {
    var name: String
    var place: FilePlace
    var dependencies: [(name: String, place: FilePlace)]
}

/// The checks of a mappings file that look across mappings: names used twice, endpoints,
/// `lookup(…)` mappings, `map(…)` value maps and dependencies that do not exist, and dependency cycles.
struct MappingReferences {
    let file: MappingFileDefinition
    /// Every mapping the file declares, including mappings whose other parts are wrong.
    let declared: [DeclaredMapping]
    /// Mappings outside the file that stay, with what each depends on.
    let others: [String: [String]]
    /// Every value map the file declares, including value maps whose other parts are wrong.
    var declaredValueMaps: [(name: String, place: FilePlace)] = []
    /// Value maps outside the file that stay.
    var otherValueMaps: Set<String> = []

    /// Reports every problem found.
    func check(into problems: inout ProblemCollector) {
        reportDuplicateEndpoints(into: &problems)
        reportDuplicateMappings(into: &problems)
        reportDuplicateValueMaps(into: &problems)
        for mapping in file.mappings {
            reportUnknownEndpoints(of: mapping, into: &problems)
            reportUnknownLookups(of: mapping, into: &problems)
            reportUnknownValueMaps(of: mapping, into: &problems)
        }
        reportUnknownDependencies(into: &problems)
        reportCycles(into: &problems)
    }

    private var knownMappings: Set<String> { Set(declared.map(\.name)).union(others.keys) }

    /// Two endpoints with one name, or with names that read the same environment variable (`erp`, `ERP`).
    private func reportDuplicateEndpoints(into problems: inout ProblemCollector) {
        var first: [String: EndpointDefinition] = [:]
        for endpoint in file.endpoints {
            let variable = EndpointDirectory.variable(for: endpoint.name)
            guard let earlier = first[variable] else {
                first[variable] = endpoint
                continue
            }
            let message = earlier.name == endpoint.name
                ? "duplicate endpoint name \"\(endpoint.name)\": first declared at line \(earlier.place.line)"
                : "endpoints \"\(earlier.name)\" (line \(earlier.place.line)) and \"\(endpoint.name)\" would both read \(variable)"
            problems.report(at: endpoint.place, message)
        }
    }

    private func reportDuplicateMappings(into problems: inout ProblemCollector) {
        Self.reportDuplicates(declared.map { ($0.name, $0.place) }, what: "mapping", into: &problems)
    }

    private func reportDuplicateValueMaps(into problems: inout ProblemCollector) {
        Self.reportDuplicates(declaredValueMaps, what: "value map", into: &problems)
    }

    /// Each name of `names` used again, at its later place: `duplicate <what> name …`.
    private static func reportDuplicates(_ names: [(name: String, place: FilePlace)], what: String, into problems: inout ProblemCollector) {
        var first: [String: FilePlace] = [:]
        for (name, place) in names {
            if let earlier = first[name] {
                problems.report(at: place, "duplicate \(what) name \"\(name)\": first defined at line \(earlier.line)")
            } else {
                first[name] = place
            }
        }
    }

    private func reportUnknownEndpoints(of mapping: TableMappingDefinition, into problems: inout ProblemCollector) {
        for side in SyncSide.allCases {
            let name = mapping.mapping.side(side).endpoint
            guard file.endpoint(name) == nil else { continue }
            let declared = file.endpoints.map(\.name).joined(separator: ", ")
            problems.report(
                at: mapping.place(of: .endpoint(side)),
                "endpoint \"\(name)\" is not declared under endpoints" + (declared.isEmpty ? "" : " (declared: \(declared))"))
        }
    }

    private func reportUnknownLookups(of mapping: TableMappingDefinition, into problems: inout ProblemCollector) {
        for use in Self.uses(in: mapping, of: \.referencedMappings) where !knownMappings.contains(use.name) {
            problems.report(
                at: mapping.place(of: .lookup(field: use.field, direction: use.direction, mapping: use.name)),
                "lookup(\(use.name)) names no mapping: \(use.name) is neither in this file nor stored")
        }
    }

    private func reportUnknownValueMaps(of mapping: TableMappingDefinition, into problems: inout ProblemCollector) {
        let known = Set(declaredValueMaps.map(\.name)).union(otherValueMaps)
        for use in Self.uses(in: mapping, of: \.referencedValueMaps) where !known.contains(use.name) {
            problems.report(
                at: mapping.place(of: .valueMap(field: use.field, direction: use.direction, name: use.name)),
                "map(\(use.name)) names no value map: \(use.name) is neither under value_maps in this file nor stored")
        }
    }

    /// Every name `names` finds in the rule chains of `mapping`'s fields, with the field's index and
    /// the chain's direction, in field order.
    private static func uses(
        in mapping: TableMappingDefinition, of names: (TransformationChain) -> Set<String>
    ) -> [(field: Int, direction: SyncDirection, name: String)] {
        mapping.mapping.fields.enumerated().flatMap { index, field in
            SyncDirection.allCases.flatMap { direction in
                names(field.transformation(for: direction)).sorted().map { (field: index, direction: direction, name: $0) }
            }
        }
    }

    private func reportUnknownDependencies(into problems: inout ProblemCollector) {
        for mapping in declared {
            for (name, place) in mapping.dependencies where !knownMappings.contains(name) {
                problems.report(at: place, "depends_on names \"\(name)\", which is neither in this file nor stored")
            }
        }
    }

    /// Each cycle once, at the dependency of its first mapping in the file that leads into it.
    private func reportCycles(into problems: inout ProblemCollector) {
        var edges = others
        for mapping in declared.reversed() { edges[mapping.name] = mapping.dependencies.map(\.name) }
        for cycle in DependencyGraph(edges: edges).cycles(startingFrom: declared.map(\.name)) {
            guard let mapping = declared.first(where: { $0.name == cycle[0] }),
                let dependency = mapping.dependencies.first(where: { $0.name == cycle[1] })
            else { continue }
            problems.report(
                at: dependency.place,
                "dependency cycle: \(cycle.joined(separator: " → ")); a mapping runs only after the ones it depends on")
        }
    }
}

/// Which mappings must run before which, to find cycles.
struct DependencyGraph {
    /// Each mapping's dependencies.
    let edges: [String: [String]]

    /// Every cycle reachable from `roots`, each once, written from its member that comes first in
    /// `roots` back to it again: `["CUSTOMER", "CONTACT", "CUSTOMER"]`.
    func cycles(startingFrom roots: [String]) -> [[String]] {
        var search = CycleSearch(edges: edges)
        for root in roots { search.visit(root) }
        let rank = Dictionary(roots.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<[String]>()
        return search.cycles.compactMap { cycle in
            let normalized = Self.rotated(cycle, rank: rank)
            return seen.insert(normalized).inserted ? normalized : nil
        }
    }

    /// The cycle (without its closing repeat) starting at its best-ranked member, closed again.
    private static func rotated(_ cycle: [String], rank: [String: Int]) -> [String] {
        let start = cycle.indices.min { (rank[cycle[$0]] ?? .max, cycle[$0]) < (rank[cycle[$1]] ?? .max, cycle[$1]) } ?? 0
        let members = Array(cycle[start...] + cycle[..<start])
        return members + [members[0]]
    }

    /// A depth-first search that records the path back to a mapping still being visited.
    private struct CycleSearch {
        let edges: [String: [String]]
        var path: [String] = []
        var finished = Set<String>()
        var cycles: [[String]] = []

        mutating func visit(_ name: String) {
            if let start = path.firstIndex(of: name) {
                cycles.append(Array(path[start...]))
                return
            }
            guard !finished.contains(name) else { return }
            path.append(name)
            for next in edges[name] ?? [] { visit(next) }
            path.removeLast()
            finished.insert(name)
        }
    }
}
