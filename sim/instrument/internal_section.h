// Force-included first into weft's own sources when the instrumentation is
// available (clang): their functions, and the inline and template copies
// they instantiate, go to one section, weft_internal, as do weft's inline
// header functions compiled into instrumented units (WEFT_HEADER_CODE_BEGIN
// in sim/internal/uninstrumented.h). The hook runtime reads the section's
// range (__start_/__stop_weft_internal) to tell a call from weft's code into
// an instrumented copy of a shared inline function (weft's bookkeeping,
// which it ignores) from the program's own calls.
#pragma once
#define WEFT_INTERNAL_SECTION 1
#pragma clang section text = "weft_internal"
