// Internal: the store's in-process caches, shared by every connection.
#pragma once
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "conjure/json.hpp"

namespace conjure::store {

// A bounded LRU of decoded blobs. Blobs are immutable and named by their
// content, so a cached value is valid for every connection and process.
class BlobCache {
 public:
  explicit BlobCache(std::size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<const Json> get(const std::string& hash) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(hash);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }
  void put(const std::string& hash, std::shared_ptr<const Json> value, std::size_t bytes) {
    if (bytes > capacity_ / 4) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.count(hash)) return;
    lru_.push_front(Entry{hash, std::move(value), bytes});
    map_[hash] = lru_.begin();
    used_ += bytes;
    while (used_ > capacity_ && !lru_.empty()) {
      used_ -= lru_.back().bytes;
      map_.erase(lru_.back().hash);
      lru_.pop_back();
    }
  }

 private:
  struct Entry {
    std::string hash;
    std::shared_ptr<const Json> value;
    std::size_t bytes;
  };
  std::mutex mu_;
  std::size_t capacity_;
  std::size_t used_ = 0;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
};

// The working graph of recently written/read worlds, keyed by world id and
// checked against the row's rev before use. Filled only after a commit.
class GraphCache {
 public:
  std::shared_ptr<const Json> get(const std::string& id, const std::string& rev) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(id);
    if (it == map_.end() || it->second.first != rev) return nullptr;
    return it->second.second;
  }
  void put(const std::string& id, const std::string& rev, std::shared_ptr<const Json> doc) {
    std::lock_guard<std::mutex> lock(mu_);
    if (map_.size() >= 256 && !map_.count(id)) map_.erase(map_.begin());
    map_[id] = {rev, std::move(doc)};
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<std::string, std::shared_ptr<const Json>>> map_;
};

}  // namespace conjure::store
