// RunnableView::index_of, the index of a strand among a point's strands
// that every strategy picking by id asks at each step, against
// std::lower_bound.
#include "sim/runnable_view.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace weft::sim {
namespace {

RC_GTEST_PROP(RunnableView, IndexOfIsTheLowerBoundOrNotFound, ()) {
  // Dense runs (every strand runnable), evenly spread and clustered ids:
  // each of index_of's three paths.
  const auto n = *rc::gen::inRange<std::uint32_t>(1, 1200);
  const auto stride = *rc::gen::element<std::uint32_t>(1, 1, 2, 3, 7);
  const auto start = *rc::gen::inRange<std::uint32_t>(0, 50);
  std::vector<StrandId> ids;
  for (std::uint32_t i = 0; i < n; ++i) ids.push_back(start + i * stride);
  const auto holes = *rc::gen::inRange<std::uint32_t>(0, 20);
  for (std::uint32_t h = 0; h < holes && ids.size() > 1; ++h)
    ids.erase(ids.begin() + *rc::gen::inRange<std::size_t>(0, ids.size()));
  ChoicePoint point{};
  point.kind = ChoiceKind::kYield;
  point.strands = ids;
  point.count = static_cast<std::uint32_t>(ids.size());
  const StrandId last = ids.back() + 3;
  for (StrandId id = 0; id <= last; ++id) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), id);
    const std::uint32_t want =
        it != ids.end() && *it == id
            ? static_cast<std::uint32_t>(it - ids.begin())
            : point.count;
    RC_ASSERT(RunnableView::index_of(point, id) == want);
  }
}

}  // namespace
}  // namespace weft::sim
