// Convert's map from a block's address to its slot: open addressing with
// linear probing in one flat array (a power of two of 16-byte entries, at
// most half full), deletion by backward shift (no tombstones), so a lookup
// touches one or two cache lines and memory follows the entries held. Key
// 0 marks an empty entry: convert never stores address 0 (a free of NULL
// is skipped, an allocation returning NULL failed). The value kFreed marks
// a freed address, `gen` saying when (convert's memory of recent frees, to
// tell a double free from a free of an unknown address); any other value
// is a live block's slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft::replay {

class AddressMap {
 public:
  static constexpr std::uint32_t kFreed = UINT32_MAX;

  struct Entry {
    std::uint64_t key = 0;
    std::uint32_t value = 0;
    std::uint32_t gen = 0;
  };

  AddressMap() : table_(kInitial), mask_(kInitial - 1), shift_(64 - 10) {}

  // The entry of `key`, or nullptr. Valid until the next insert or erase.
  Entry* find(std::uint64_t key) {
    for (std::size_t i = home(key);; i = (i + 1) & mask_) {
      Entry& e = table_[i];
      if (e.key == key) return &e;
      if (e.key == 0) return nullptr;
    }
  }

  // Starts loading the line where `key` would be: a lookup some calls
  // later finds it in the cache.
  // (GCC 12 dropped a __builtin_prefetch here, address and all.)
  void prefetch(std::uint64_t key) const {
    const Entry* e = &table_[home(key)];
#if defined(__x86_64__)
    asm volatile("prefetcht0 %0" : : "m"(*e));
#else
    __builtin_prefetch(e);
#endif
  }

  // Adds `key`, which must be absent.
  void insert(std::uint64_t key, std::uint32_t value, std::uint32_t gen = 0) {
    if (2 * (size_ + 1) > table_.size()) rebuild(2 * table_.size());
    place(Entry{key, value, gen});
    ++size_;
  }

  // Keeps only the entries `keep` is true of, in a table sized for them.
  template <class Keep>
  void retain(Keep keep) {
    std::size_t kept = 0;
    for (const Entry& e : table_) kept += e.key != 0 && keep(e) ? 1 : 0;
    std::size_t length = kInitial;
    while (length < 4 * kept) length *= 2;
    std::vector<Entry> old(length);
    old.swap(table_);
    set_length();
    for (const Entry& e : old)
      if (e.key != 0 && keep(e)) place(e);
    size_ = kept;
  }

  // Removes `key` if present.
  void erase(std::uint64_t key) {
    std::size_t i = home(key);
    while (table_[i].key != key) {
      if (table_[i].key == 0) return;
      i = (i + 1) & mask_;
    }
    // Shift later entries of the probe run back into the hole, each only
    // if the hole lies between its home and where it is now.
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (table_[j].key == 0) break;
      const std::size_t h = home(table_[j].key);
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      table_[i] = table_[j];
      i = j;
    }
    table_[i] = Entry{};
    --size_;
  }

  std::size_t size() const { return size_; }

 private:
  static constexpr std::size_t kInitial = 1024;  // 2^10

  std::size_t home(std::uint64_t key) const {
    // Fibonacci hashing, the product's top bits: block addresses share
    // their low bits and differ in few others.
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }

  void place(const Entry& entry) {
    std::size_t i = home(entry.key);
    while (table_[i].key != 0) i = (i + 1) & mask_;
    table_[i] = entry;
  }

  void set_length() {
    mask_ = table_.size() - 1;
    shift_ = 64;
    for (std::size_t n = table_.size(); n > 1; n /= 2) --shift_;
  }

  void rebuild(std::size_t length) {
    std::vector<Entry> old(length);
    old.swap(table_);
    set_length();
    for (const Entry& e : old)
      if (e.key != 0) place(e);
  }

  std::vector<Entry> table_;
  std::size_t mask_;
  int shift_;  // 64 - log2(the table's length)
  std::size_t size_ = 0;
};

}  // namespace weft::replay
