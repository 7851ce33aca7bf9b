// The table of the suite: each program's variants, the kind of its bug and
// the SURW paper's figures for it (transcribed from
// ../shared/reference/surw-published.md: SURW, PCT-3, POS, random walk).
#include <charconv>
#include <string>

#include "tests/support/sctbench.h"
#include "tests/support/sctbench_programs.h"

namespace weft::test {

namespace {

using sim::FailureKind;

SctProgram simple(std::string name, void (*program)(Variant), FailureKind bug,
                  std::string key, Published paper) {
  return SctProgram{name,
                    [program] { program(Variant::kBad); },
                    [program] { program(Variant::kFixed); },
                    bug,
                    std::move(key),
                    paper,
                    0};
}

SctProgram wronglock_program(int incrementers, std::string name,
                             Published paper) {
  return SctProgram{
      name,
      [incrementers] { wronglock(incrementers, Variant::kBad); },
      [incrementers] { wronglock(incrementers, Variant::kFixed); },
      FailureKind::kAssertion,
      "CS/" + name,
      paper,
      0};
}

SctProgram reorder_program(int n, Published paper) {
  const std::string name = "reorder_" + std::to_string(n);
  return SctProgram{name,
                    [n] { reorder(n); },
                    [n] { reorder_fixed(n); },
                    FailureKind::kAssertion,
                    paper.surw[0] != '\0' ? "CS/" + name : "",
                    paper,
                    n};
}

SctProgram twostage_program(int n, Published paper) {
  const std::string name = "twostage_" + std::to_string(n);
  std::string key;
  if (paper.surw[0] != '\0') key = n == 3 ? "CS/twostage" : "CS/" + name;
  return SctProgram{name,
                    [n] { twostage(n); },
                    [n] { twostage_fixed(n); },
                    FailureKind::kAssertion,
                    key,
                    paper,
                    n};
}

std::vector<SctProgram> build() {
  const FailureKind assertion = FailureKind::kAssertion;
  const FailureKind deadlock = FailureKind::kDeadlock;
  std::vector<SctProgram> all = {
      simple("account", account, assertion, "CS/account",
             {"6 ± 5", "4 ± 2", "4 ± 3", "18 ± 24"}),
      wronglock_program(7, "wronglock",
                        {"7 ± 7", "51 ± 50", "10 ± 14", "36 ± 42"}),
      wronglock_program(3, "wronglock_3",
                        {"9 ± 9", "58 ± 46", "11 ± 14", "36 ± 42"}),
      simple("token_ring", token_ring, assertion, "CS/token_ring",
             {"8 ± 6", "8 ± 6", "9 ± 11", "13 ± 13"}),
      simple("carter01", carter01, deadlock, "", {}),
      simple("deadlock01", deadlock01, deadlock, "CS/deadlock01",
             {"2 ± 0", "13 ± 12", "4 ± 3", "3 ± 3"}),
      simple("lazy01", lazy01, assertion, "CS/lazy01",
             {"2 ± 0", "5 ± 3", "5 ± 3", "21 ± 21"}),
      simple("circular_buffer", circular_buffer, assertion, "", {}),
      simple("bluetooth_driver", bluetooth_driver, assertion,
             "CS/bluetooth_driver",
             {"70 ± 55", "112 ± 73", "36 ± 29", "215 ± 225"}),
      simple("stack", stack, assertion, "CS/stack",
             {"5 ± 3", "3 ± 2", "2 ± 1", "176 ± 136"}),
      simple("work_steal_queue", work_steal_queue, assertion,
             "Chess/WorkStealQueue", {"6 ± 4", "48 ± 49", "12 ± 7", ""}),
      reorder_program(3, {"7 ± 7", "185 ± 199", "86 ± 70", "-"}),
      reorder_program(4, {"7 ± 6", "554 ± 643", "533 ± 651", "-"}),
      reorder_program(5, {"10 ± 9", "647 ± 517", "2169 ± 2182", "-"}),
      reorder_program(10, {"17 ± 11", "3225 ± 2426*", "-", "-"}),
      reorder_program(20, {"6 ± 4", "3005 ± 2680", "-", "-"}),
      reorder_program(50, {"13 ± 12", "3304 ± 1721*", "-", "-"}),
      reorder_program(100, {"194 ± 214", "-", "-", "-"}),
      twostage_program(3, {"8 ± 4", "13 ± 14", "15 ± 12", "464 ± 581"}),
      twostage_program(10, {}),
      twostage_program(20, {"6 ± 3", "159 ± 151", "156 ± 137", "-"}),
      twostage_program(50, {"20 ± 17", "1676 ± 1715", "1637 ± 1385", "-"}),
      twostage_program(100, {"454 ± 444", "7466 ± 831*", "6674 ± 2877*", "-"}),
      simple("three_preemptions", three_preemptions, assertion, "", {}),
  };
  return all;
}

// N of "<prefix>N", or 0 if `name` is not that with N in 3..1000.
int scale_of(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return 0;
  const std::string_view digits = name.substr(prefix.size());
  int n = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return n >= 3 && n <= 1000 ? n : 0;
}

}  // namespace

const std::vector<SctProgram>& sct_programs() {
  static const std::vector<SctProgram> all = build();
  return all;
}

std::optional<SctProgram> find_sct_program(std::string_view name) {
  for (const SctProgram& p : sct_programs())
    if (p.name == name) return p;
  if (const int n = scale_of(name, "reorder_")) return reorder_program(n, {});
  if (const int n = scale_of(name, "twostage_")) return twostage_program(n, {});
  return std::nullopt;
}

}  // namespace weft::test
