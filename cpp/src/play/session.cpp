#include "conjure/play/session.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "conjure/errors.hpp"

namespace conjure::play {
namespace {

constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
// Tick time not yet processed never grows past this (about 31 years).
constexpr std::int64_t kMaxCarryUs = 1'000'000'000'000'000LL;

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

StepResult refused(Refusal r, std::string message) {
  StepResult out;
  out.refusal = r;
  out.message = std::move(message);
  return out;
}

}  // namespace

const char* refusal_name(Refusal r) noexcept {
  switch (r) {
    case Refusal::kNone: return "ok";
    case Refusal::kEnded: return "ended";
    case Refusal::kUnknownEvent: return "unknown_event";
    case Refusal::kWrongState: return "wrong_state";
    case Refusal::kMissingFlags: return "missing_flags";
    case Refusal::kSpent: return "spent";
    case Refusal::kUnknownKey: return "unknown_key";
    case Refusal::kNoSuchIndex: return "no_such_index";
    case Refusal::kBadInput: return "bad_input";
  }
  return "bad_input";
}

Session::Session(std::shared_ptr<const PlayWorld> world, std::string player_id)
    : world_(std::move(world)), player_(std::move(player_id)) {
  if (!world_) throw Error(ErrorCode::kBadInput, "a session needs a world");
  held_.assign(world_->flags().size(), 0);
  spent_.assign(world_->events().size(), 0);
  arrive(world_->entrance());
}

void Session::arrive(std::uint32_t state) {
  const PlayState& st = world_->states()[state];
  state_ = state;
  arm_ = variant_arm(player_, st.id, st.arms.size());
  entered_us_ = now_us_;
  timer_done_.assign(st.timers.size(), 0);
  override_ = kNone;
  override_end_us_ = 0;
  if (st.ending) ending_ = st.ending;
}

Refusal Session::availability(std::uint32_t event) const noexcept {
  if (ending_) return Refusal::kEnded;
  if (event >= world_->events().size()) return Refusal::kUnknownEvent;
  const PlayEvent& ev = world_->events()[event];
  if (std::find(ev.from.begin(), ev.from.end(), state_) == ev.from.end()) return Refusal::kWrongState;
  if (ev.one_shot && spent_[event]) return Refusal::kSpent;
  for (std::uint32_t f : ev.requires_)
    if (!held_[f]) return Refusal::kMissingFlags;
  return Refusal::kNone;
}

void Session::apply(std::uint32_t event, bool automatic, StepResult& out) {
  const PlayEvent& ev = world_->events()[event];
  const PlayState& here = world_->states()[state_];
  Fired f;
  f.event = ev.name;
  f.kind = ev.kind;
  f.from = here.id;
  f.automatic = automatic;
  f.at_us = now_us_;
  if (ev.one_shot) spent_[event] = 1;
  // A timed event fires at most once per visit, whether by its timer or by hand.
  for (std::size_t i = 0; i < here.timers.size(); ++i)
    if (here.timers[i] == event) timer_done_[i] = 1;
  for (std::uint32_t g : ev.grants) {
    if (held_[g]) continue;
    held_[g] = 1;
    held_order_.push_back(g);
    f.granted.push_back(world_->flags()[g]);
  }
  switch (ev.kind) {
    case EventKind::kTransition:
      arrive(ev.to);
      break;
    case EventKind::kOverride:
      override_ = event;
      override_end_us_ = now_us_ + ev.duration_us;
      f.duration = static_cast<double>(ev.duration_us) / 1e6;
      break;
    case EventKind::kTerminal:
      override_ = kNone;
      ended_by_ = event;
      ending_ = ev.ending;
      break;
  }
  f.state = world_->states()[state_].id;
  out.state_changed = true;
  out.fired.push_back(std::move(f));
  if (ending_) {
    out.ending = ending_;
    carry_us_ = 0;
  }
}

StepResult Session::fire_index(std::uint32_t event, bool automatic) {
  Refusal r = availability(event);
  if (r != Refusal::kNone) {
    const std::string name = event < world_->events().size() ? world_->events()[event].name : std::string();
    switch (r) {
      case Refusal::kEnded: return refused(r, "the run has ended");
      case Refusal::kWrongState: return refused(r, "\"" + name + "\" cannot fire from \"" + state() + "\"");
      case Refusal::kSpent: return refused(r, "\"" + name + "\" fires once per run and has fired");
      case Refusal::kMissingFlags: return refused(r, "\"" + name + "\" requires flags the player does not hold");
      default: return refused(r, "unknown event");
    }
  }
  StepResult out;
  apply(event, automatic, out);
  return out;
}

StepResult Session::tick(double dt_seconds) {
  if (ending_) return refused(Refusal::kEnded, "the run has ended");
  if (!std::isfinite(dt_seconds) || dt_seconds < 0)
    return refused(Refusal::kBadInput, "dt must be a finite number of seconds >= 0");
  const double dt = std::min(dt_seconds, kMaxTickSeconds);
  carry_us_ = std::min(kMaxCarryUs, carry_us_ + static_cast<std::int64_t>(std::llround(dt * 1e6)));
  const std::int64_t target = now_us_ + carry_us_;

  StepResult out;
  int firings = 0;
  while (!ending_) {
    // The next thing due: the override's end, or the first available timer of
    // this visit (timers are ordered by `after`, then document order).
    const std::int64_t override_at = override_ != kNone ? override_end_us_ : kNever;
    std::int64_t timer_at = kNever;
    std::uint32_t timer_event = kNone;
    const PlayState& st = world_->states()[state_];
    for (std::size_t i = 0; i < st.timers.size(); ++i) {
      if (timer_done_[i]) continue;
      const std::uint32_t e = st.timers[i];
      const std::int64_t due = std::max(now_us_, entered_us_ + world_->events()[e].after_us);
      if (due >= timer_at) continue;
      if (availability(e) != Refusal::kNone) continue;
      timer_at = due;
      timer_event = e;
    }
    const std::int64_t next = std::min(override_at, timer_at);
    if (next > target) break;
    now_us_ = std::max(now_us_, next);
    carry_us_ = target - now_us_;
    if (override_at <= timer_at) {  // an override ends before a timer due at the same time fires
      override_ = kNone;
      override_end_us_ = 0;
      out.override_ended = true;
      out.state_changed = true;
      continue;
    }
    apply(timer_event, true, out);
    if (++firings >= kMaxFiringsPerTick) return out;  // the rest of the time is carried
  }
  if (!ending_) now_us_ = target;
  carry_us_ = 0;
  return out;
}

StepResult Session::fire(std::string_view event_name) {
  if (ending_) return refused(Refusal::kEnded, "the run has ended");
  const std::uint32_t e = world_->event_index(event_name);
  if (e == kNone) return refused(Refusal::kUnknownEvent, "no event is named \"" + std::string(event_name.substr(0, 200)) + "\"");
  return fire_index(e, false);
}

StepResult Session::key(std::string_view raw) {
  if (ending_) return refused(Refusal::kEnded, "the run has ended");
  const std::string_view k = trim(raw);
  if (k.empty()) return refused(Refusal::kBadInput, "an empty key");
  if (k.size() > 32) return refused(Refusal::kUnknownKey, "no event has this hotkey");
  if (k.size() == 1 && k[0] >= '0' && k[0] <= '9') {
    const int digit = k[0] - '0';
    if (digit == 0) return refused(Refusal::kNoSuchIndex, "digits 1-9 pick a listed event");
    int n = 0;
    for (std::uint32_t e : world_->states()[state_].events) {
      if (world_->events()[e].hidden || availability(e) != Refusal::kNone) continue;
      if (++n == digit) return fire_index(e, false);
    }
    return refused(Refusal::kNoSuchIndex, "no listed event has index " + std::string(k));
  }
  const std::string up = upper_ascii(k);
  if (up == "W" || up == "A" || up == "S" || up == "D")
    return refused(Refusal::kUnknownKey, "W, A, S and D move the player; they are not hotkeys");
  const std::vector<std::uint32_t>* candidates = world_->events_by_hotkey(state_, up);
  if (!candidates) return refused(Refusal::kUnknownKey, "no event of \"" + state() + "\" has hotkey \"" + up + "\"");
  for (std::uint32_t e : *candidates)
    if (availability(e) == Refusal::kNone) return fire_index(e, false);
  return fire_index(candidates->front(), false);
}

StepResult Session::move(std::string_view keys) {
  if (ending_) return refused(Refusal::kEnded, "the run has ended");
  bool moving = false;
  for (char c : keys.substr(0, 64)) {
    const char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    if (u == 'W' || u == 'A' || u == 'S' || u == 'D') moving = true;
  }
  StepResult out;
  out.moving_changed = moving != moving_;
  moving_ = moving;
  return out;
}

std::vector<ListedEvent> Session::available_events() const {
  std::vector<ListedEvent> out;
  if (ending_) return out;
  for (std::uint32_t e : world_->states()[state_].events) {
    const PlayEvent& ev = world_->events()[e];
    if (ev.hidden || availability(e) != Refusal::kNone) continue;
    const int n = static_cast<int>(out.size()) + 1;
    out.push_back(ListedEvent{ev.name, ev.hotkey, n <= 9 ? n : 0, ev.kind});
  }
  return out;
}

std::vector<std::string> Session::flags() const {
  std::vector<std::string> out;
  out.reserve(held_order_.size());
  for (std::uint32_t f : held_order_) out.push_back(world_->flags()[f]);
  return out;
}

bool Session::has_flag(std::string_view flag) const noexcept {
  for (std::uint32_t f : held_order_)
    if (world_->flags()[f] == flag) return true;
  return false;
}

bool Session::spent(std::string_view event_name) const noexcept {
  const std::uint32_t e = world_->event_index(event_name);
  return e != kNone && spent_[e];
}

std::string Session::active_override() const {
  return override_ == kNone ? std::string() : world_->events()[override_].name;
}

PromptParts Session::prompt() const {
  const PlayState& st = world_->states()[state_];
  const Arm& arm = st.arms[arm_ < st.arms.size() ? arm_ : 0];
  PromptParts p;
  p.state = st.id;
  p.title = st.id;
  p.arm_label = arm.label;
  p.base = arm.base;
  p.ambient = arm.ambient;
  p.camera = moving_ ? arm.camera.moving : arm.camera.still;
  p.movement = moving_ ? arm.movement.moving : arm.movement.still;
  p.moving = moving_;
  const std::uint32_t overlay = ended_by_ != kNone ? ended_by_ : override_;
  if (overlay != kNone) {
    const PlayEvent& ev = world_->events()[overlay];
    p.override_text = ev.base;
    if (!ev.detail.empty()) p.override_text += p.override_text.empty() ? ev.detail : ", " + ev.detail;
  }
  if (ending_) {
    p.title = ending_->title.empty() ? st.id : ending_->title;
    p.subtitle = ending_->subtitle;
    p.ending_kind = ending_->kind;
  }
  return p;
}

std::string PromptParts::text() const {
  std::string out;
  auto add = [&out](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += ", ";
    out += s;
  };
  add(base);
  for (const std::string& a : ambient) add(a);
  add(camera);
  add(movement);
  add(override_text);
  return out;
}

}  // namespace conjure::play
