import Foundation
import PackagePlugin

/// Embeds the numbered SQL files of the package's `Schema/` folder into the target that uses it,
/// so the `couplet` binary carries its migrations wherever it is installed.
@main
struct EmbedSchemaPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let schema = context.package.directoryURL.appending(path: "Schema")
        let files = try FileManager.default.contentsOfDirectory(at: schema, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchema.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(files.count) migrations from Schema/",
                executable: try context.tool(named: "EmbedSchemaTool").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files + [schema],
                outputFiles: [output])
        ]
    }
}
