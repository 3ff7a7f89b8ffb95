// check_ops: the shape of an ops batch (docs/ops.md, "Shape").
#include <string>
#include <string_view>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/ops/ops.hpp"
#include "ops/internal.hpp"

namespace conjure {
namespace {

enum class Type { kString, kObject, kStringOrStrings, kStringOrNull, kKind, kImage };

struct Field {
  std::string_view name;
  Type type;
  bool required;
};

struct OpSpec {
  std::string_view op;
  std::vector<Field> fields;
};

const std::vector<OpSpec>& op_specs() {
  static const std::vector<OpSpec> specs = {
      {"add_state", {{"id", Type::kString, false}}},
      {"update_state", {{"id", Type::kString, true}, {"patch", Type::kObject, true}}},
      {"delete_state", {{"id", Type::kString, true}}},
      {"add_event",
       {{"kind", Type::kKind, true},
        {"from", Type::kStringOrStrings, true},
        {"name", Type::kString, false},
        {"to", Type::kString, false},
        {"hotkey", Type::kStringOrNull, false}}},
      {"update_event", {{"name", Type::kString, true}, {"patch", Type::kObject, true}}},
      {"delete_event", {{"name", Type::kString, true}}},
      {"set_entrance", {{"state", Type::kString, true}, {"image", Type::kImage, false}}},
      {"add_variant", {{"state", Type::kString, true}, {"label", Type::kString, false}}},
      {"remove_variant", {{"state", Type::kString, true}, {"label", Type::kString, true}}},
      {"set_slot", {{"name", Type::kString, true}, {"value", Type::kString, true}}},
      {"remove_slot", {{"name", Type::kString, true}}},
  };
  return specs;
}

const char* expected(Type t) {
  switch (t) {
    case Type::kString: return "expected a string";
    case Type::kObject: return "expected an object";
    case Type::kStringOrStrings: return "expected a state id or an array of state ids";
    case Type::kStringOrNull: return "expected a string or null";
    case Type::kKind: return "expected \"transition\", \"override\" or \"terminal\"";
    case Type::kImage: return "expected an object with a string \"src\"";
  }
  return "unexpected type";
}

bool fits(Type t, const Json& v) {
  switch (t) {
    case Type::kString: return v.is_string();
    case Type::kObject: return v.is_object();
    case Type::kStringOrNull: return v.is_string() || v.is_null();
    case Type::kKind:
      return v.is_string() && (v == "transition" || v == "override" || v == "terminal");
    case Type::kStringOrStrings:
      if (v.is_string()) return true;
      if (!v.is_array()) return false;
      for (const Json& s : v)
        if (!s.is_string()) return false;
      return true;
    case Type::kImage: {
      if (!v.is_object()) return false;
      auto src = v.find("src");
      if (src == v.end() || !src->is_string()) return false;
      auto label = v.find("label");
      return label == v.end() || label->is_string();
    }
  }
  return false;
}

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "an array";
    case Json::value_t::object: return "an object";
    default: return "a number";
  }
}

constexpr std::size_t kMaxProblems = 100;

}  // namespace

void check_ops(const Json& ops) {
  if (!ops.is_array() || ops.empty()) {
    throw Error(ErrorCode::kBadInput,
                std::string("ops: expected a non-empty array of ops, got ") +
                    (ops.is_array() ? "an empty array" : type_name(ops)));
  }
  std::vector<std::string> problems;
  std::size_t more = 0;
  auto report = [&](std::string line) {
    if (problems.size() < kMaxProblems) {
      problems.push_back(std::move(line));
    } else {
      ++more;
    }
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Json& op = ops[i];
    std::string at = "ops[" + std::to_string(i) + "]";
    if (!op.is_object()) {
      report(at + ": expected an op object, got " + type_name(op));
      continue;
    }
    auto name = op.find("op");
    if (name == op.end()) {
      report(at + ".op: missing (expected one of add_state, update_state, delete_state, "
                  "add_event, update_event, delete_event, set_entrance, add_variant, "
                  "remove_variant, set_slot, remove_slot)");
      continue;
    }
    const OpSpec* spec = nullptr;
    if (name->is_string()) {
      for (const OpSpec& s : op_specs())
        if (*name == s.op) spec = &s;
    }
    if (spec == nullptr) {
      std::string shown = name->is_string() ? "\"" + name->get<std::string>() + "\""
                                            : std::string(type_name(*name));
      if (shown.size() > 80) shown = ops_detail::utf8_prefix(shown, 77) + "...";
      report(at + ".op: unknown op " + shown +
             " (expected one of add_state, update_state, delete_state, add_event, "
             "update_event, delete_event, set_entrance, add_variant, remove_variant, "
             "set_slot, remove_slot)");
      continue;
    }
    for (const Field& f : spec->fields) {
      auto v = op.find(f.name);
      if (v == op.end()) {
        if (f.required) {
          report(at + "." + std::string(f.name) + ": missing (" + expected(f.type) + ")");
        }
        continue;
      }
      if (!fits(f.type, *v)) {
        std::string got = type_name(*v);
        if (f.type == Type::kKind && v->is_string()) {
          got = v->get<std::string>();
          if (got.size() > 40) got = ops_detail::utf8_prefix(got, 37) + "...";
          got = "\"" + got + "\"";
        }
        report(at + "." + std::string(f.name) + ": " + expected(f.type) + ", got " + got);
      }
    }
  }
  if (problems.empty()) return;
  std::string message;
  for (const std::string& p : problems) {
    if (!message.empty()) message += '\n';
    message += p;
  }
  if (more > 0) message += "\n... and " + std::to_string(more) + " more problems";
  throw Error(ErrorCode::kBadInput, message);
}

}  // namespace conjure
