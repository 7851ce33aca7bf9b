// Must NOT compile: a type without serialize() cannot cross into an
// isolate. The test builds this target and expects the readable message.
#include "runtime/isolate.h"

struct Handle {
  int* raw = nullptr;  // no serialize(): a pointer has no meaning elsewhere
};

int main() {
  weft::runtime::Module m("m");
  m.def("use", [](Handle h) { return h.raw != nullptr; });
}
