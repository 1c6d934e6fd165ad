// Only the header matters (libFuzzer defines the function); SwiftPM wants a source file.
#include "FuzzerDriver.h"
