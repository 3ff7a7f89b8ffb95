#include <gtest/gtest.h>

#include <string>

#include "conjure/errors.hpp"
#include "conjure/world/world.hpp"

using conjure::Error;
using conjure::ErrorCode;
using conjure::Json;

TEST(World, NormaliseWritesFromAsArrayAndDefaultsSchemaVersion) {
  Json w = conjure::parse_world(
      R"({"name":"x","scene":{"states":{},"events":[{"name":"e","from":"a"}]}})");
  EXPECT_EQ(w["schemaVersion"], "1.0");
  EXPECT_EQ(w["scene"]["events"][0]["from"], Json::array({"a"}));
}

// Keys come back sorted (nlohmann::json); every value comes back exactly.
TEST(World, UnknownPropertiesSurviveARoundTrip) {
  std::string text =
      R"({"future":{"deep":[1,2.5,"x",null,true,{"k":-0.1}]},"name":"x","scene":{"events":[],"states":{"a":{"glow":0.125,"huge":18446744073709551615}}},"schemaVersion":"1.0"})";
  Json w = conjure::parse_world(text);
  EXPECT_EQ(conjure::serialise(w), text);
  EXPECT_EQ(conjure::parse_world(conjure::serialise(w)), w);
}

TEST(World, MalformedJsonIsAParseErrorWithItsPosition) {
  try {
    conjure::parse_json("{\n  \"a\": [1, 2,,]\n}");
    FAIL() << "expected a parse error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kParse);
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
    EXPECT_NE(e.offset(), Error::npos);
  }
}

TEST(World, InvalidUtf8IsAParseError) {
  std::string text = "{\"a\":\"\xff\xfe\"}";
  try {
    conjure::parse_json(text);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kParse);
  }
}

TEST(World, DeepNestingIsRefusedBeforeParsing) {
  std::string text(100000, '[');
  text += std::string(100000, ']');
  try {
    conjure::parse_json(text);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kLimit);
    EXPECT_NE(std::string(e.what()).find("deeper"), std::string::npos);
  }
}

TEST(World, BracketsInsideStringsDoNotCountAsNesting) {
  std::string text = "{\"a\":\"" + std::string(1000, '[') + "\\\"\"}";
  EXPECT_NO_THROW(conjure::parse_json(text));
}

TEST(World, OversizedDocumentIsALimitError) {
  conjure::Limits limits;
  limits.max_document_bytes = 100;
  std::string text = "{\"a\":\"" + std::string(200, 'x') + "\"}";
  try {
    conjure::parse_json(text, limits);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kLimit);
  }
}

TEST(World, JsonDepthCountsNesting) {
  EXPECT_EQ(conjure::json_depth(Json::parse("[[[]],{}]")), 3u);
  EXPECT_EQ(conjure::json_depth(Json(1)), 0u);
}

TEST(World, NumberTooLargeForADoubleIsAParseErrorWithItsPosition) {
  try {
    conjure::parse_json("{\"a\": 1e999}");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kParse);
    EXPECT_EQ(e.offset(), 6u);
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
}
