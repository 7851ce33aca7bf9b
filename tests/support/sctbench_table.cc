// The table of the suite: each program's variants, the kind of its bug and
// the SURW paper's figures for it (transcribed from
// ../shared/reference/surw-published.md: SURW, PCT-3, POS, random walk).
#include <charconv>
#include <string>
#include <utility>

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

// reorder_N (one checker) or reorder_N_cC (C checkers of the N threads).
std::string scaled_name(const char* prefix, int n, int checkers) {
  std::string name = prefix + std::to_string(n);
  if (checkers != 1) name += "_c" + std::to_string(checkers);
  return name;
}

// The paper's key for a program it has: "CS/" and its name there, which
// names the split by N alone (its reorder_20 has 10 checkers).
std::string paper_key(const Published& paper, std::string name) {
  if (paper.surw[0] == '\0') return "";
  const std::size_t c = name.find("_c");
  return "CS/" + (c == std::string::npos ? name : name.substr(0, c));
}

SctProgram reorder_program(int n, Published paper, int checkers = 1) {
  const std::string name = scaled_name("reorder_", n, checkers);
  return SctProgram{name,
                    [n, checkers] { reorder(n - checkers, checkers); },
                    [n, checkers] { reorder_fixed(n - checkers, checkers); },
                    FailureKind::kAssertion,
                    paper_key(paper, name),
                    paper,
                    n};
}

SctProgram twostage_program(int n, Published paper, int readers = 1) {
  const std::string name = scaled_name("twostage_", n, readers);
  std::string key = paper_key(paper, name);
  // The paper's "twostage" is PERIOD's twostage_bad.c run as it is: one
  // writer and one reader (its iTThreads = iRThreads = 1).
  if (n == 2 && !key.empty()) key = "CS/twostage";
  return SctProgram{name,
                    [n, readers] { twostage(n - readers, readers); },
                    [n, readers] { twostage_fixed(n - readers, readers); },
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
      // The paper's reorder_20 and reorder_50 are 10 + 10 and 40 + 10
      // threads (PERIOD's sources): its figures belong to the _c10 rows.
      reorder_program(20, {}),
      reorder_program(20, {"6 ± 4", "3005 ± 2680", "-", "-"}, 10),
      reorder_program(50, {}),
      reorder_program(50, {"13 ± 12", "3304 ± 1721*", "-", "-"}, 10),
      reorder_program(100, {"194 ± 214", "-", "-", "-"}),
      twostage_program(2, {"8 ± 4", "13 ± 14", "15 ± 12", "464 ± 581"}),
      twostage_program(3, {}),
      twostage_program(10, {}),
      twostage_program(20, {}),
      twostage_program(20, {"6 ± 3", "159 ± 151", "156 ± 137", "-"}, 10),
      twostage_program(50, {}),
      twostage_program(50, {"20 ± 17", "1676 ± 1715", "1637 ± 1385", "-"}, 10),
      twostage_program(100, {"454 ± 444", "7466 ± 831*", "6674 ± 2877*", "-"}),
      simple("three_preemptions", three_preemptions, assertion, "", {}),
  };
  return all;
}

// A number in 1..1000 spelled exactly as `digits`, or 0.
int number_of(std::string_view digits) {
  int n = 0;
  const auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return n >= 1 && n <= 1000 ? n : 0;
}

// N and C of "<prefix>N" (C = 1) or "<prefix>N_cC", with N in 2..1000 and
// 1 <= C < N; {0, 0} if `name` is neither.
std::pair<int, int> scale_of(std::string_view name, std::string_view prefix) {
  if (name.substr(0, prefix.size()) != prefix) return {0, 0};
  std::string_view rest = name.substr(prefix.size());
  int c = 1;
  if (const std::size_t at = rest.find("_c"); at != std::string_view::npos) {
    c = number_of(rest.substr(at + 2));
    rest = rest.substr(0, at);
  }
  const int n = number_of(rest);
  if (n < 2 || c < 1 || c >= n) return {0, 0};
  return {n, c};
}

}  // namespace

const std::vector<SctProgram>& sct_programs() {
  static const std::vector<SctProgram> all = build();
  return all;
}

std::optional<SctProgram> find_sct_program(std::string_view name) {
  for (const SctProgram& p : sct_programs())
    if (p.name == name) return p;
  if (const auto [n, c] = scale_of(name, "reorder_"); n != 0)
    return reorder_program(n, {}, c);
  if (const auto [n, c] = scale_of(name, "twostage_"); n != 0)
    return twostage_program(n, {}, c);
  return std::nullopt;
}

}  // namespace weft::test
