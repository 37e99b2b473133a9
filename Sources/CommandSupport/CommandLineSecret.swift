import Foundation

/// Takes a secret given on the command line out of the process list.
///
/// `ps` and `/proc/<pid>/cmdline` read the process's own argument memory, which stays writable
/// for its whole life (PostgreSQL and the MySQL client rewrite it the same way). Overwriting a
/// value there leaves the parsed options untouched; the secret shows only between the process's
/// start and the call, which is why commands still warn about it.
enum CommandLineSecret {
    /// Overwrites with `x` every value of `option` (`--option VALUE` or `--option=VALUE`) in the
    /// process's argument memory.
    static func hideValues(of option: String) {
        let count = Int(CommandLine.argc)
        for index in 1..<max(count, 1) {
            guard let argument = CommandLine.unsafeArgv[index] else { continue }
            let text = String(cString: argument)
            if text == option, index + 1 < count, let value = CommandLine.unsafeArgv[index + 1] {
                overwrite(value, from: 0)
            } else if text.hasPrefix(option + "=") {
                overwrite(argument, from: option.utf8.count + 1)
            }
        }
    }

    /// Replaces the bytes of a C string from `offset` on with `x`, keeping its length.
    private static func overwrite(_ argument: UnsafeMutablePointer<CChar>, from offset: Int) {
        let length = strlen(argument)
        guard offset < length else { return }
        (argument + offset).update(repeating: CChar(UInt8(ascii: "x")), count: length - offset)
    }
}
