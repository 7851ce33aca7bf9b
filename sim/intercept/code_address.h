// A code address in the program described for a report: the function
// around it and the address within its file ("forward+0x1d in
// prog+0x11b5", what `addr2line -e prog 0x11b5` takes), the same in every
// run of one build since it holds no load address. Only text: nothing
// decides anything by it. Internal to sim/intercept.
#pragma once

namespace weft::intercept::internal {

// The description of `pc`, or "" when no loaded file contains it. The
// string lives as long as the process (one per address, cached); the
// first address of each file reads that file's symbol table once.
const char* describe_code_address(const void* pc);

}  // namespace weft::intercept::internal
