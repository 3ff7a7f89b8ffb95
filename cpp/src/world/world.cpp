#include "conjure/world/world.hpp"

#include <string>
#include <vector>

#include "conjure/errors.hpp"

namespace conjure {
namespace {

struct LineCol {
  std::size_t line = 1, column = 1;
};

LineCol line_col(std::string_view text, std::size_t offset) {
  LineCol lc;
  if (offset > text.size()) offset = text.size();
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++lc.column;  // count code points, not continuation bytes
    }
  }
  return lc;
}

[[noreturn]] void throw_at(ErrorCode code, std::string_view text, std::size_t offset,
                           const std::string& what) {
  LineCol lc = line_col(text, offset);
  throw Error(code,
              "line " + std::to_string(lc.line) + ", column " + std::to_string(lc.column) + ": " +
                  what,
              offset);
}

// One pass over the text that measures nesting outside strings, so a document
// nested 100,000 deep is refused before any tree is built.
void check_depth(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        throw_at(ErrorCode::kLimit, text, i,
                 "JSON nests deeper than the limit of " + std::to_string(max_depth) + " levels");
      }
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    }
  }
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, column 2: ".
std::string clean_parse_message(const std::string& raw) {
  std::string msg = raw;
  auto pos = msg.find("]: ");
  if (pos == std::string::npos) pos = msg.find("] ");
  if (pos != std::string::npos) msg = msg.substr(msg.find(' ', pos) + 1);
  auto colon = msg.find(": ");
  if (msg.rfind("parse error", 0) == 0 && colon != std::string::npos) msg = msg.substr(colon + 2);
  return msg;
}

}  // namespace

Json parse_json(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_document_bytes) {
    throw Error(ErrorCode::kLimit, "the document is " + std::to_string(text.size()) +
                                       " bytes, over the limit of " +
                                       std::to_string(limits.max_document_bytes) + " bytes");
  }
  check_depth(text, limits.max_depth);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    std::size_t off = e.byte > 0 ? e.byte - 1 : 0;
    throw_at(ErrorCode::kParse, text, off, "invalid JSON: " + clean_parse_message(e.what()));
  } catch (const Json::out_of_range& e) {
    // A number too large for a double ("1e999"): nlohmann names the token; point at it.
    std::string what = e.what();
    std::size_t off = 0;
    auto q = what.find('\'');
    if (q != std::string::npos) {
      auto q2 = what.find('\'', q + 1);
      std::string token = what.substr(q + 1, q2 == std::string::npos ? std::string::npos : q2 - q - 1);
      auto at = token.empty() ? std::string_view::npos : text.find(token);
      if (at != std::string_view::npos) off = at;
    }
    throw_at(ErrorCode::kParse, text, off, "invalid JSON: a number is out of range");
  }
}

void normalise(Json& world) {
  if (!world.is_object()) return;
  if (!world.contains("schemaVersion")) world["schemaVersion"] = kSchemaVersion;
  auto scene = world.find("scene");
  if (scene == world.end() || !scene->is_object()) return;
  auto events = scene->find("events");
  if (events == scene->end() || !events->is_array()) return;
  for (Json& ev : *events) {
    if (!ev.is_object()) continue;
    auto from = ev.find("from");
    if (from != ev.end() && from->is_string()) *from = Json::array({*from});
  }
}

Json parse_world(std::string_view text, const Limits& limits) {
  Json doc = parse_json(text, limits);
  normalise(doc);
  return doc;
}

std::string serialise(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::size_t json_depth(const Json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const Json*, std::size_t>> stack{{&value, 1}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    if (depth > deepest) deepest = depth;
    for (const Json& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return deepest;
}

}  // namespace conjure
