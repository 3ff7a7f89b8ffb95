#include "conjure/play/trace.hpp"

#include <cmath>

#include "conjure/errors.hpp"

namespace conjure::play {
namespace {

Json ending_json(const std::optional<Ending>& e) {
  if (!e) return nullptr;
  return Json{{"kind", e->kind}, {"title", e->title}, {"subtitle", e->subtitle}};
}

}  // namespace

std::vector<TraceInput> parse_trace_inputs(const Json& inputs, std::size_t max_inputs) {
  if (!inputs.is_array()) throw Error(ErrorCode::kBadInput, "trace inputs must be an array");
  if (inputs.size() > max_inputs)
    throw Error(ErrorCode::kBadInput, "a trace holds at most " + std::to_string(max_inputs) + " inputs");
  std::vector<TraceInput> out;
  out.reserve(inputs.size());
  double last = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Json& in = inputs[i];
    const std::string where = "inputs[" + std::to_string(i) + "]";
    if (!in.is_object()) throw Error(ErrorCode::kBadInput, where + " must be an object");
    TraceInput t;
    t.at = last;
    if (auto at = in.find("at"); at != in.end()) {
      if (!at->is_number()) throw Error(ErrorCode::kBadInput, where + ".at must be a number");
      t.at = at->get<double>();
      if (!std::isfinite(t.at) || t.at < last || t.at > 1e9)
        throw Error(ErrorCode::kBadInput, where + ".at must be finite, at most 1e9 and never decrease");
    }
    int actions = 0;
    for (auto [key, kind] : {std::pair{"fire", TraceInput::Kind::kFire}, std::pair{"key", TraceInput::Kind::kKey},
                             std::pair{"move", TraceInput::Kind::kMove}}) {
      auto it = in.find(key);
      if (it == in.end()) continue;
      if (!it->is_string()) throw Error(ErrorCode::kBadInput, where + "." + key + " must be a string");
      t.kind = kind;
      t.value = it->get<std::string>();
      ++actions;
    }
    if (actions > 1) throw Error(ErrorCode::kBadInput, where + " holds more than one of fire, key, move");
    last = t.at;
    out.push_back(std::move(t));
  }
  return out;
}

Trace replay(const std::shared_ptr<const PlayWorld>& world, std::string_view player,
             const std::vector<TraceInput>& inputs) {
  Session s(world, std::string(player));
  Trace trace;
  trace.player = std::string(player);
  trace.states.push_back(s.state());
  auto record = [&](const StepResult& r, TraceStep& step) {
    for (const Fired& f : r.fired) {
      trace.fired.push_back(f.event);
      step.fired.push_back(f.event);
      if (f.kind == EventKind::kTransition) trace.states.push_back(f.state);
    }
  };
  for (const TraceInput& in : inputs) {
    TraceStep step;
    const auto target_us = static_cast<std::int64_t>(std::llround(in.at * 1e6));
    if (!s.ended() && target_us > s.now_us()) record(s.tick(static_cast<double>(target_us - s.now_us()) / 1e6), step);
    StepResult r;
    switch (in.kind) {
      case TraceInput::Kind::kWait:
        step.input = "wait";
        break;
      case TraceInput::Kind::kFire:
        step.input = "fire:" + in.value;
        r = s.fire(in.value);
        break;
      case TraceInput::Kind::kKey:
        step.input = "key:" + in.value;
        r = s.key(in.value);
        break;
      case TraceInput::Kind::kMove:
        step.input = "move:" + in.value;
        r = s.move(in.value);
        break;
    }
    record(r, step);
    step.at = in.at;
    step.refusal = refusal_name(r.refusal);
    step.state = s.state();
    step.override_event = s.active_override();
    step.moving = s.moving();
    trace.steps.push_back(std::move(step));
  }
  trace.flags = s.flags();
  trace.ending = s.ending();
  return trace;
}

Json Trace::to_json() const {
  Json steps_json = Json::array();
  for (const TraceStep& st : steps)
    steps_json.push_back(Json{{"at", st.at}, {"input", st.input}, {"refusal", st.refusal},
                              {"fired", st.fired}, {"state", st.state},
                              {"override", st.override_event}, {"moving", st.moving}});
  return Json{{"player", player}, {"states", states}, {"fired", fired}, {"flags", flags},
              {"ending", ending_json(ending)}, {"steps", steps_json}};
}

bool Trace::operator==(const Trace& o) const { return to_json() == o.to_json(); }

}  // namespace conjure::play
