// libFuzzer's driver, called from opps-fuzz's own main (SwiftPM gives every executable a main
// of its own, so libFuzzer's cannot be used): Tools/fuzz.sh links libFuzzer with -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
