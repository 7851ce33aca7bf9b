// For weft's inline code compiled into a translation unit that clang
// instruments for weft's own hook runtime (weft_instrument, sim/instrument/):
// WEFT_UNINSTRUMENTED keeps the scheduler's inline bookkeeping (the step
// counter, pending operations, the fiber switch) out of the race detector;
// WEFT_HEADER_CODE_BEGIN / _END put the inline functions between them in
// the ordinary text section, outside the instrumented units' own section,
// so the runtime counts what they call as weft's code, not the program's
// (sim/instrument/instrumented_section.h); WEFT_INSTRUMENTED_TU says the
// unit is instrumented. Under a real ThreadSanitizer build (WEFT_TSAN) and
// in ordinary builds nothing changes.
#pragma once

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(WEFT_TSAN)
#define WEFT_INSTRUMENTED_TU 1
#define WEFT_UNINSTRUMENTED __attribute__((no_sanitize("thread")))
#define WEFT_HEADER_CODE_BEGIN _Pragma("clang section text=\"weft_internal\"")
#define WEFT_HEADER_CODE_END _Pragma("clang section text=\"\"")
#endif
#endif
#ifndef WEFT_UNINSTRUMENTED
#define WEFT_UNINSTRUMENTED
#define WEFT_HEADER_CODE_BEGIN
#define WEFT_HEADER_CODE_END
#endif
