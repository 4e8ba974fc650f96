/*
 * The conformance suite's drift variant (docs/conformance.md): the same
 * workflow as ../conformance, except that its `drift` case calls
 * `conf_echo` where v1 waits for the signal `go`.
 */
#define CONFORMANCE_V2 1
#include "../conformance/conformance.c"
