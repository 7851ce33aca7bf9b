// A small program written against the standard library only (bank.cc is
// compiled without weft's include path): two tellers deposit into one
// account and report to an auditor through a condition variable. The
// buggy teller reads and writes the balance in two critical sections.
#pragma once

namespace bank {

// Runs two deposits of 1 on std::threads and returns the final balance,
// as the auditor saw it once both tellers reported. `fixed`: one critical
// section per deposit (always 2); otherwise a deposit can be lost (1).
int run(bool fixed);

}  // namespace bank
