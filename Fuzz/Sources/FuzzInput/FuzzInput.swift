import CLibFuzzer
import Foundation

/// Runs libFuzzer with the process's arguments (`-max_total_time=600 corpus/ …`) on `check`, which
/// gets each input as text, and exits with libFuzzer's exit code: 0 when the time is up without a crash.
///
/// Each fuzz target's `main.swift` calls this: SwiftPM links every executable with `main` aliased
/// to `<module>_main`, so libFuzzer's own `main` never runs.
public func fuzz(_ check: @escaping (String) -> Void) -> Never {
    checkedInput = check
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
}

/// Crashes with `promise` when `kept` is false, so that libFuzzer saves the input that broke a
/// documented guarantee just as it saves one that crashed.
public func expect(_ kept: Bool, _ promise: @autoclosure () -> String) {
    if !kept { fatalError("broken promise: \(promise())") }
}

/// The target's check, set once before libFuzzer starts and only read after, on libFuzzer's one thread.
nonisolated(unsafe) private var checkedInput: (String) -> Void = { _ in }

/// libFuzzer's entry point (by this name also for the `main` of libclang_rt.fuzzer, which is linked
/// but never runs): `checkedInput` on the bytes read as UTF-8 text (the fuzzed entry points take
/// text; an invalid sequence becomes U+FFFD, as when a file is read leniently). Returns 0, the only
/// value libFuzzer accepts.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    checkedInput(String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self))
    return 0
}
