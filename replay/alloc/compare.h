// Compare: replays one slots log under several allocators (each in its own
// child process) and puts the results side by side: a table with every
// figure's ratio to the first allocator's, a CSV in mimalloc-bench's
// benchres.csv layout, and a self-contained HTML page with an SVG plot of
// live bytes and RSS over the operation index per allocator.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "replay/alloc/replay.h"

namespace weft::replay {

// The table: one row per allocator; ratios are to results[0].
void print_comparison(const std::vector<ReplayResult>& results,
                      std::ostream& out);

// mimalloc-bench's benchres.csv: space-separated "benchmark allocator
// elapsed rss user sys page-faults page-reclaims" (seconds, KiB). rss is
// the replay's peak RSS (the replayer's own memory excluded).
void write_benchres(const std::string& benchmark,
                    const std::vector<ReplayResult>& results,
                    std::ostream& out);

// One HTML page, no external resources: per allocator, live requested
// bytes and RSS over operation index.
void write_plot(const std::string& title,
                const std::vector<ReplayResult>& results, std::ostream& out);

}  // namespace weft::replay
