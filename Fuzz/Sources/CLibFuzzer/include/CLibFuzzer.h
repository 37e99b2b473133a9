// libFuzzer's driver, which the toolchain's libclang_rt.fuzzer provides under -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>

/// Parses libFuzzer's flags from argc and argv and fuzzes `testOneInput` as they say; returns the exit code.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*testOneInput)(const uint8_t *data, size_t size));
