// Table-driven engine tests: every tests/data/play/*.json holds a world and
// cases (inputs with times → expected refusals, states, events, flags, ending,
// listed events and per-step observations). Each case runs as its own test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"
#include "conjure/play/trace.hpp"
#include "conjure/world/world.hpp"

using conjure::Json;
namespace play = conjure::play;

namespace {

struct TraceCase {
  std::string file;
  std::string name;
  Json world;
  Json spec;
};

void PrintTo(const TraceCase& c, std::ostream* os) { *os << c.file << ": " << c.name; }

std::vector<TraceCase> load_cases() {
  std::vector<TraceCase> out;
  const std::filesystem::path dir = std::filesystem::path(CONJURE_TEST_DATA) / "play";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    Json doc = conjure::parse_world(ss.str());
    if (!doc.contains("cases")) continue;
    Json world = doc["world"];
    conjure::normalise(world);
    for (const Json& c : doc["cases"])
      out.push_back(TraceCase{path.stem().string(), c.value("name", std::string("unnamed")), world, c});
  }
  return out;
}

std::string test_name(const testing::TestParamInfo<TraceCase>& info) {
  std::string n = info.param.file + "_";
  bool up = true;
  for (char c : info.param.name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      n.push_back(up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
      up = false;
    } else {
      up = true;
    }
  }
  return n;
}

Json ending_json(const std::optional<play::Ending>& e) {
  if (!e) return nullptr;
  return Json{{"kind", e->kind}, {"title", e->title}, {"subtitle", e->subtitle}};
}

class PlayTrace : public testing::TestWithParam<TraceCase> {};

TEST_P(PlayTrace, MatchesExpectedRun) {
  const TraceCase& tc = GetParam();
  SCOPED_TRACE(tc.name);
  auto world = play::PlayWorld::build(tc.world);
  const std::string player = tc.spec.value("player", std::string("player-1"));
  const auto inputs = play::parse_trace_inputs(tc.spec.at("inputs"));
  const play::Trace trace = play::replay(world, player, inputs);
  const Json got = trace.to_json();
  const Json& ex = tc.spec.at("expect");

  if (ex.contains("refusals")) {
    std::vector<std::string> refusals;
    for (const auto& s : trace.steps) refusals.push_back(s.refusal);
    EXPECT_EQ(Json(refusals), ex["refusals"]) << got.dump(1);
  }
  if (ex.contains("states")) EXPECT_EQ(Json(trace.states), ex["states"]) << got.dump(1);
  if (ex.contains("fired")) EXPECT_EQ(Json(trace.fired), ex["fired"]) << got.dump(1);
  if (ex.contains("flags")) EXPECT_EQ(Json(trace.flags), ex["flags"]) << got.dump(1);
  if (ex.contains("ending")) EXPECT_EQ(ending_json(trace.ending), ex["ending"]) << got.dump(1);
  if (ex.contains("steps")) {
    ASSERT_EQ(ex["steps"].size(), got["steps"].size());
    for (std::size_t i = 0; i < ex["steps"].size(); ++i)
      for (const auto& [k, v] : ex["steps"][i].items())
        EXPECT_EQ(got["steps"][i].at(k), v) << "step " << i << " field " << k << "\n" << got.dump(1);
  }
  if (ex.contains("available")) {
    // Replaying the same inputs on a fresh session must end in the same place;
    // the listing is read from that session.
    play::Session s(world, player);
    for (const auto& in : inputs) {
      const auto at = static_cast<std::int64_t>(std::llround(in.at * 1e6));
      if (!s.ended() && at > s.now_us()) s.tick(static_cast<double>(at - s.now_us()) / 1e6);
      if (in.kind == play::TraceInput::Kind::kFire) s.fire(in.value);
      if (in.kind == play::TraceInput::Kind::kKey) s.key(in.value);
      if (in.kind == play::TraceInput::Kind::kMove) s.move(in.value);
    }
    Json listed = Json::array();
    for (const auto& e : s.available_events()) listed.push_back(Json::array({e.name, e.index}));
    EXPECT_EQ(listed, ex["available"]);
  }
  // Determinism: a second replay gives the very same trace.
  EXPECT_EQ(play::replay(world, player, inputs).to_json(), got);
}

INSTANTIATE_TEST_SUITE_P(Table, PlayTrace, testing::ValuesIn(load_cases()), test_name);

}  // namespace
