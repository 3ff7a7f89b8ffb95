// Shared helpers of the store tests: a temporary directory and sample worlds.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "conjure/errors.hpp"
#include "conjure/json.hpp"
#include "conjure/store/store.hpp"

namespace conjure::testing {

// The error code `fn` throws; a test failure when it throws none.
inline ErrorCode code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  }
  ADD_FAILURE() << "expected a conjure::Error";
  return ErrorCode::kInternal;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "conjure-store-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A gate-clean world of `n` states in a line: s0 -> s1 -> ... (one event each).
inline Json sample_world(int n = 3, const std::string& name = "Sample") {
  Json states = Json::object();
  Json events = Json::array();
  for (int i = 0; i < n; ++i) {
    std::string id = "s" + std::to_string(i);
    states[id] = {{"base", "a quiet stone room number " + std::to_string(i) + " with moss on the walls"},
                  {"camera", {{"static", "slow drift at eye level"}, {"dynamic", "handheld sway"}}},
                  {"movement", {{"static", "dust drifting in lamplight"}, {"dynamic", "steps echoing"}}},
                  {"ambient", Json::array({"water dripping from the ceiling"})}};
    if (i + 1 < n) {
      events.push_back({{"name", "Go to room " + std::to_string(i + 1)},
                        {"kind", "transition"},
                        {"from", Json::array({id})},
                        {"to", "s" + std::to_string(i + 1)}});
    }
  }
  if (n > 0) states["s" + std::to_string(n - 1)]["ending"] = {{"kind", "win"}, {"title", "Out"}};
  return {{"schemaVersion", "1.0"},
          {"name", name},
          {"entrance", {{"state", "s0"}}},
          {"scene", {{"states", states}, {"events", events}}}};
}

inline Json update_base(const std::string& id, const std::string& base) {
  return Json::array({{{"op", "update_state"}, {"id", id}, {"patch", {{"base", base}}}}});
}

}  // namespace conjure::testing
