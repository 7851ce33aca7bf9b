// A program written for std::thread alone, with no weft header: two
// threads each add one hit to a plain int. thread_counter.cc is compiled
// with weft_instrument() and its threads are weft::intercept's strands
// inside a simulation; outside one they are real threads.
#pragma once

namespace thread_counter {

// Two std::threads each add a hit, unsynchronised (the data race) or
// under a std::mutex (fixed); returns the count.
int count_hits_racy();
int count_hits_locked();

// The source line of the racy increment, for the tests to find.
extern const int kRacyLine;

}  // namespace thread_counter
