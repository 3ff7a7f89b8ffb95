#include <gtest/gtest.h>

#include <string>

#include "conjure/versions/diff.hpp"

using conjure::Json;

namespace {

const char* kBase = R"({
  "name": "Abbey",
  "entrance": {"state": "courtyard", "image": {"src": "seed.jpg", "label": "dawn"}},
  "scene": {
    "slots": {"abbey": "a ruined abbey", "lake": "a grey lake"},
    "states": {
      "courtyard": {"base": "{abbey}, a courtyard", "camera": {"static": "eye level", "dynamic": "sway"},
                    "ambient": ["crows"], "future": {"glow": 1}},
      "cellar": {"base": "a damp cellar"},
      "end": {"base": "a bright field", "ending": {"kind": "win", "title": "Out"}}
    },
    "events": [
      {"name": "Enter", "kind": "transition", "from": ["courtyard"], "to": "cellar", "hotkey": "E"},
      {"name": "Leave", "kind": "transition", "from": ["cellar"], "to": "end"}
    ]
  }
})";

Json base() { return Json::parse(kBase); }

TEST(Diff, EqualWorldsHaveAnEmptyDiff) {
  Json d = conjure::diff_worlds(base(), base());
  EXPECT_EQ(d, Json::parse(R"({
    "states": {"added": [], "removed": [], "changed": []},
    "events": {"added": [], "removed": [], "changed": []},
    "entrance": null,
    "slots": {"added": [], "removed": [], "changed": []}})"));
}

TEST(Diff, ReportsStatesAddedRemovedAndChangedWithDottedPaths) {
  Json a = base();
  Json b = base();
  auto& st = b["scene"]["states"];
  st.erase("cellar");
  st["attic"] = {{"base", "a dusty attic"}};
  st["aaa"] = Json::object();
  st["courtyard"]["camera"]["static"] = "low angle";
  st["courtyard"]["ambient"].push_back("bells");
  st["courtyard"]["future"]["glow"] = 2;
  st["courtyard"]["future"]["new"] = true;
  st["end"]["ending"]["kind"] = "lose";
  Json d = conjure::diff_worlds(a, b);
  EXPECT_EQ(d["states"]["added"], Json::parse(R"(["aaa","attic"])"));
  EXPECT_EQ(d["states"]["removed"], Json::parse(R"(["cellar"])"));
  EXPECT_EQ(d["states"]["changed"], Json::parse(R"([
    {"id": "courtyard", "fields": ["ambient", "camera.static", "future.glow", "future.new"]},
    {"id": "end", "fields": ["ending.kind"]}])"));
}

TEST(Diff, ReportsEventsByNameAndIgnoresTheirOrder) {
  Json a = base();
  Json b = base();
  auto& ev = b["scene"]["events"];
  std::swap(ev[0], ev[1]);
  ev[1]["hotkey"] = nullptr;  // Enter
  ev[1]["requires"] = {"lantern"};
  ev.push_back({{"name", "Wait"}, {"kind", "override"}, {"from", {"cellar"}}});
  ev.erase(0);  // Leave
  Json d = conjure::diff_worlds(a, b);
  EXPECT_EQ(d["events"], Json::parse(R"({
    "added": ["Wait"], "removed": ["Leave"],
    "changed": [{"name": "Enter", "fields": ["hotkey", "requires"]}]})"));
}

TEST(Diff, FromWrittenAsAStringEqualsTheOneElementArray) {
  Json a = base();
  Json b = base();
  b["scene"]["events"][0]["from"] = "courtyard";
  EXPECT_EQ(conjure::diff_worlds(a, b)["events"]["changed"], Json::array());
  b["scene"]["events"][0]["to"] = "end";
  EXPECT_EQ(conjure::diff_worlds(a, b)["events"]["changed"],
            Json::parse(R"([{"name": "Enter", "fields": ["to"]}])"));
  b["scene"]["events"][0]["from"] = "cellar";
  EXPECT_EQ(conjure::diff_worlds(a, b)["events"]["changed"],
            Json::parse(R"([{"name": "Enter", "fields": ["from", "to"]}])"));
}

TEST(Diff, EntranceNamesBothStatesAndTheChangedFields) {
  Json a = base();
  Json b = base();
  b["entrance"]["state"] = "cellar";
  EXPECT_EQ(conjure::diff_worlds(a, b)["entrance"],
            Json::parse(R"({"from": "courtyard", "to": "cellar", "fields": ["state"]})"));
}

TEST(Diff, EntranceImageOnlyChangeKeepsTheStateOnBothSides) {
  Json a = base();
  Json b = base();
  b["entrance"]["image"]["src"] = "other.jpg";
  b["entrance"]["image"].erase("label");
  EXPECT_EQ(conjure::diff_worlds(a, b)["entrance"],
            Json::parse(R"({"from": "courtyard", "to": "courtyard", "fields": ["image.label", "image.src"]})"));
}

TEST(Diff, MissingEntranceReadsAsNull) {
  Json a = base();
  Json b = base();
  b.erase("entrance");
  EXPECT_EQ(conjure::diff_worlds(a, b)["entrance"],
            Json::parse(R"({"from": "courtyard", "to": null, "fields": ["image", "state"]})"));
  a.erase("entrance");
  EXPECT_TRUE(conjure::diff_worlds(a, b)["entrance"].is_null());
}

TEST(Diff, ReportsSlotsAddedRemovedAndChanged) {
  Json a = base();
  Json b = base();
  b["scene"]["slots"].erase("lake");
  b["scene"]["slots"]["abbey"] = "a burnt abbey";
  b["scene"]["slots"]["bell"] = "a cracked bell";
  EXPECT_EQ(conjure::diff_worlds(a, b)["slots"],
            Json::parse(R"({"added": ["bell"], "removed": ["lake"], "changed": ["abbey"]})"));
}

TEST(Diff, WorldsWithoutSceneOrWithOddSectionsDiffAsEmpty) {
  Json empty = Json::object();
  Json odd = Json::parse(R"({"entrance": 3, "scene": {"states": [], "events": {}, "slots": "x"}})");
  Json d = conjure::diff_worlds(empty, base());
  EXPECT_EQ(d["states"]["added"], Json::parse(R"(["cellar","courtyard","end"])"));
  EXPECT_EQ(d["events"]["added"], Json::parse(R"(["Enter","Leave"])"));
  EXPECT_EQ(d["slots"]["added"], Json::parse(R"(["abbey","lake"])"));
  EXPECT_EQ(d["entrance"]["from"], nullptr);
  Json o = conjure::diff_worlds(odd, empty);
  EXPECT_EQ(o["states"]["removed"], Json::array());
  EXPECT_EQ(o["entrance"], Json::parse(R"({"from": null, "to": null, "fields": ["*"]})"));
}

TEST(DiffFields, ComparesArraysWholeAndWalksObjects) {
  Json a = Json::parse(R"({"ambient": ["a","b"], "camera": {"static": "x"}, "k": 1})");
  Json b = Json::parse(R"({"ambient": ["a","c"], "camera": {"static": "x", "dynamic": "y"}, "k": "1"})");
  EXPECT_EQ(conjure::diff_fields(a, b), Json::parse(R"(["ambient","camera.dynamic","k"])"));
  EXPECT_EQ(conjure::diff_fields(a, a), Json::array());
}

TEST(DiffFields, AnObjectTurnedScalarIsReportedByItsPath) {
  Json a = Json::parse(R"({"camera": {"static": "x"}})");
  Json b = Json::parse(R"({"camera": "x"})");
  EXPECT_EQ(conjure::diff_fields(a, b), Json::parse(R"(["camera"])"));
  EXPECT_EQ(conjure::diff_fields(Json("x"), a), Json::parse(R"(["*"])"));
}

TEST(DiffBuilder, SortsWhatItIsGivenAndDropsEmptyChanges) {
  conjure::DiffBuilder b;
  b.state_added("z");
  b.state_added("a");
  b.state_changed("m", Json::parse(R"(["base"])"));
  b.state_changed("c", Json::array());
  b.state_changed("b", Json::parse(R"(["camera.static"])"));
  b.event_removed("Y");
  b.event_removed("X");
  b.event_changed("E", Json::parse(R"(["to"])"));
  b.set_entrance(Json::parse(R"({"from": "a", "to": "b", "fields": ["state"]})"));
  b.set_slots(Json::parse(R"({"added": ["s"], "removed": [], "changed": []})"));
  EXPECT_EQ(std::move(b).build(), Json::parse(R"({
    "states": {"added": ["a","z"], "removed": [],
               "changed": [{"id": "b", "fields": ["camera.static"]}, {"id": "m", "fields": ["base"]}]},
    "events": {"added": [], "removed": ["X","Y"], "changed": [{"name": "E", "fields": ["to"]}]},
    "entrance": {"from": "a", "to": "b", "fields": ["state"]},
    "slots": {"added": ["s"], "removed": [], "changed": []}})"));
}

TEST(Diff, ScalesToLargeWorlds) {
  Json a = Json::parse(R"({"scene": {"states": {}, "events": []}})");
  for (int i = 0; i < 10000; ++i) a["scene"]["states"]["s" + std::to_string(i)] = {{"base", "a room"}};
  for (int i = 0; i < 30000; ++i) {
    a["scene"]["events"].push_back({{"name", "e" + std::to_string(i)}, {"kind", "override"},
                                    {"from", {"s" + std::to_string(i % 10000)}}});
  }
  Json b = a;
  b["scene"]["states"]["s77"]["base"] = "a hall";
  b["scene"]["events"][29999]["hidden"] = true;
  Json d = conjure::diff_worlds(a, b);
  EXPECT_EQ(d["states"]["changed"], Json::parse(R"([{"id": "s77", "fields": ["base"]}])"));
  EXPECT_EQ(d["events"]["changed"], Json::parse(R"([{"name": "e29999", "fields": ["hidden"]}])"));
}

}  // namespace
