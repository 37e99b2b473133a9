// The shared emulator types (`JSONValue`, `Fault`, `FaultScope`, `EmulatorStats`) are part of this
// library's interface, as they were before they moved to EmulatorSupport.
@_exported import EmulatorSupport
