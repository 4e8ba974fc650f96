/*
 * exit() with its code. wasi-libc's exit() runs the atexit handlers,
 * flushes stdio, then calls _Exit(code), which would go through the WASI
 * preview-1 adapter's proc_exit: that one only tells 0 from not 0 (WASI
 * 0.2's `exit(result)`). This _Exit, linked before libc, calls WASI
 * 0.2.12's `exit-with-code` instead, so `exit(3)` fails the run with code
 * 3. (Workflow world only: c_exit.h is generated beside its bindings.)
 */
#include <stdint.h>
#include <stdlib.h>

#include "c_exit.h"

_Noreturn void _Exit(int code) {
    wasi_cli_exit_exit_with_code((uint8_t)code);
    __builtin_unreachable();
}
