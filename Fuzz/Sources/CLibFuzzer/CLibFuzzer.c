// The declaration in include/CLibFuzzer.h is all there is: SwiftPM needs one source file per C target.
#include "CLibFuzzer.h"
