// Runs the table-driven op cases of tests/data/ops/*.json (format: docs/ops.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"

using conjure::Json;

namespace {

struct Case {
  std::string file;
  std::size_t index;
  Json world;
  Json body;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file << ".json case " << c.index; }

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(CONJURE_TEST_DATA "/ops")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    Json doc = Json::parse(text.str());
    const Json& list = doc.at("cases");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Json& c = list[i];
      cases.push_back({path.stem().string(), i, c.contains("world") ? c["world"] : doc.at("world"), c});
    }
  }
  return cases;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

class OpsCase : public ::testing::TestWithParam<Case> {};

TEST_P(OpsCase, MatchesItsExpectation) {
  const Case& c = GetParam();
  SCOPED_TRACE(c.file + ".json case " + std::to_string(c.index) + ": " +
               c.body.at("name").get<std::string>());
  const Json& ops = c.body.at("ops");
  const Json& expect = c.body.at("expect");

  if (expect.contains("error")) {
    try {
      conjure::apply_ops(c.world, ops);
      FAIL() << "expected apply_ops to throw";
    } catch (const conjure::Error& e) {
      EXPECT_EQ(conjure::error_code_name(e.code()), expect["error"].at("code").get<std::string>());
      EXPECT_EQ(split_lines(e.what()), expect["error"].at("lines").get<std::vector<std::string>>());
    }
    return;
  }

  const Json before = c.world;
  conjure::OpsResult result = conjure::apply_ops(c.world, ops);
  EXPECT_EQ(c.world, before) << "the input world must be untouched";

  if (expect.contains("world")) {
    EXPECT_EQ(result.world, expect["world"]) << result.world.dump(2);
  } else {
    Json want = c.world;
    conjure::merge_patch(want, expect.at("changes"));
    EXPECT_EQ(result.world, want) << result.world.dump(2);
  }

  Json want_errors = expect.value("applyErrors", Json::array());
  ASSERT_EQ(result.apply_errors.size(), want_errors.size());
  for (std::size_t i = 0; i < want_errors.size(); ++i) {
    const auto& got = result.apply_errors[i];
    const Json& want = want_errors[i];
    EXPECT_EQ(got.index, want.at("index").get<std::size_t>());
    EXPECT_EQ(conjure::error_code_name(got.code), want.at("code").get<std::string>()) << got.message;
    if (want.contains("contains")) {
      EXPECT_NE(got.message.find(want["contains"].get<std::string>()), std::string::npos)
          << got.message;
    }
    EXPECT_EQ(got.message.rfind("op " + std::to_string(got.index) + " (", 0), 0u) << got.message;
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = info.param.file + "_" + std::to_string(info.param.index);
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Data, OpsCase, ::testing::ValuesIn(load_cases()), case_name);

TEST(OpsData, EveryFileHasCases) {
  EXPECT_GE(load_cases().size(), 40u);
}

}  // namespace
