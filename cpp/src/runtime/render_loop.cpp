#include "conjure/runtime/render_loop.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "conjure/errors.hpp"
#include "conjure/json.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"
#include "conjure/render/jpeg.hpp"
#include "conjure/render/preview.hpp"

namespace conjure::runtime {

namespace {

using Clock = std::chrono::steady_clock;

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json ending_json(const play::Ending& e) {
  return {{"type", "ending"}, {"kind", e.kind}, {"title", e.title}, {"subtitle", e.subtitle}};
}

Json state_json(const play::Session& s) {
  Json events = Json::array();
  for (const auto& ev : s.available_events()) {
    events.push_back({{"name", ev.name},
                      {"hotkey", ev.hotkey.empty() ? Json(nullptr) : Json(ev.hotkey)},
                      {"index", ev.index},
                      {"kind", play::event_kind_name(ev.kind)}});
  }
  std::string ov = s.active_override();
  return {{"type", "state"},
          {"state", s.state()},
          {"events", std::move(events)},
          {"flags", s.flags()},
          {"moving", s.moving()},
          {"override", ov.empty() ? Json(nullptr) : Json(ov)},
          {"time", s.now()}};
}

Json fired_json(const play::Fired& f) {
  Json j = {{"type", "fired"}, {"event", f.event}, {"kind", play::event_kind_name(f.kind)},
            {"from", f.from}, {"state", f.state}, {"automatic", f.automatic}};
  if (f.kind == play::EventKind::kOverride) j["duration"] = f.duration;
  if (!f.granted.empty()) j["granted"] = f.granted;
  return j;
}

}  // namespace

const char* message_kind_name(Message::Kind kind) noexcept {
  switch (kind) {
    case Message::Kind::kTimeout: return "timeout";
    case Message::Kind::kEvent: return "event";
    case Message::Kind::kFrame: return "frame";
    case Message::Kind::kEnded: return "ended";
    case Message::Kind::kClosed: return "closed";
  }
  return "timeout";
}

// One live session. Every field below `mu` is guarded by it.
struct LiveSession {
  LiveSession(std::string sid, std::shared_ptr<const play::PlayWorld> world, std::string player, int shard_)
      : id(std::move(sid)), session(std::move(world), std::move(player)), shard(shard_) {}

  const std::string id;
  std::mutex mu;
  std::condition_variable cv;
  play::Session session;
  const int shard;
  std::deque<std::string> events;
  std::size_t event_bytes = 0;
  std::vector<std::uint8_t> frame;   // the mailbox: the newest undelivered frame
  bool frame_ready = false;
  bool final_frame_rendered = false; // the ending's frame was published
  bool closed = false;
  Clock::time_point last_tick;
  SessionStats st;
};

struct RenderLoop::Impl {
  RenderLoopOptions opt;
  mutable std::shared_mutex map_mu;
  std::unordered_map<std::string, std::shared_ptr<LiveSession>> sessions;
  std::unordered_map<std::string, std::shared_ptr<const play::PlayWorld>> worlds;
  std::deque<std::string> world_order;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::atomic<std::uint64_t> frames_rendered{0}, frames_dropped{0}, ticks{0}, late_ticks{0};
  std::atomic<int> next_shard{0};

  // ---- event queue (call with s.mu held) ----
  void push_event(LiveSession& s, std::string text) {
    while (s.events.size() >= opt.max_events && !s.events.empty()) {
      // Drop the oldest message that is not an ending; state messages are
      // full snapshots, so a later one supersedes what was dropped.
      auto it = std::find_if(s.events.begin(), s.events.end(),
                             [](const std::string& e) { return e.find("\"type\":\"ending\"") == std::string::npos; });
      if (it == s.events.end()) break;
      s.event_bytes -= it->size();
      s.events.erase(it);
      ++s.st.events_dropped;
    }
    s.event_bytes += text.size();
    s.events.push_back(std::move(text));
  }

  void publish_step(LiveSession& s, const play::StepResult& r) {
    for (const auto& f : r.fired) push_event(s, dump(fired_json(f)));
    if (r.state_changed || r.moving_changed || r.override_ended || !r.fired.empty()) {
      push_event(s, dump(state_json(s.session)));
    }
    if (r.ending) push_event(s, dump(ending_json(*r.ending)));
  }

  void publish_refusal(LiveSession& s, const play::StepResult& r) {
    Json j = {{"type", "error"}, {"code", "refused"}, {"reason", play::refusal_name(r.refusal)},
              {"message", r.message.empty() ? std::string(play::refusal_name(r.refusal)) : r.message}};
    push_event(s, dump(j));
  }

  std::shared_ptr<LiveSession> find(const std::string& id) const {
    std::shared_lock lock(map_mu);
    auto it = sessions.find(id);
    return it == sessions.end() ? nullptr : it->second;
  }

  template <class F>
  std::string input(const std::string& id, F&& step) {
    auto s = find(id);
    if (!s) return "closed";
    std::string refusal;
    {
      std::lock_guard lock(s->mu);
      if (s->closed) return "closed";
      play::StepResult r = step(s->session);
      if (r.ok()) {
        publish_step(*s, r);
      } else {
        publish_refusal(*s, r);
      }
      refusal = play::refusal_name(r.refusal);
    }
    s->cv.notify_all();
    return refusal;
  }

  // ---- render threads ----
  void run(int index) {
    render::PreviewRenderer renderer(opt.width, opt.height);
    render::JpegEncoder encoder(opt.jpeg_quality);
    std::vector<std::shared_ptr<LiveSession>> mine;
    std::vector<render::RenderRequest> batch;
    std::vector<render::Frame> frames;
    std::vector<std::uint8_t> jpeg;
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / opt.fps));
    auto next_tick = Clock::now();
    for (;;) {
      {
        std::unique_lock lock(stop_mu);
        if (stop_cv.wait_until(lock, next_tick, [&] { return stopping; })) return;
      }
      const auto start = Clock::now();
      ticks.fetch_add(1, std::memory_order_relaxed);
      if (start - next_tick > period) late_ticks.fetch_add(1, std::memory_order_relaxed);
      next_tick += period;
      if (next_tick < start) next_tick = start + period;  // far behind: do not try to catch up

      mine.clear();
      {
        std::shared_lock lock(map_mu);
        for (const auto& [id, s] : sessions) {
          if (s->shard == index) mine.push_back(s);
        }
      }
      batch.clear();
      std::vector<LiveSession*> rendered;
      rendered.reserve(mine.size());
      for (const auto& sp : mine) {
        LiveSession& s = *sp;
        bool notify = false;
        {
          std::lock_guard lock(s.mu);
          if (s.closed || s.final_frame_rendered) continue;
          const auto now = Clock::now();
          const double dt = std::chrono::duration<double>(now - s.last_tick).count();
          s.last_tick = now;
          if (!s.session.ended()) {
            play::StepResult r = s.session.tick(dt);
            if (r.ok() && (!r.fired.empty() || r.state_changed || r.moving_changed || r.override_ended || r.ending)) {
              publish_step(s, r);
              notify = true;
            }
          }
          render::RenderRequest req;
          req.session = rendered.size();
          req.prompt = s.session.prompt();
          req.moving = s.session.moving();
          req.time = s.session.now();
          batch.push_back(std::move(req));
          rendered.push_back(&s);
        }
        if (notify) s.cv.notify_all();
      }
      if (batch.empty()) continue;
      renderer.render(batch, frames);
      frames_rendered.fetch_add(batch.size(), std::memory_order_relaxed);
      for (std::size_t i = 0; i < rendered.size(); ++i) {
        encoder.encode(frames[i], jpeg);
        LiveSession& s = *rendered[i];
        {
          std::lock_guard lock(s.mu);
          if (s.closed) continue;
          if (s.frame_ready) {
            ++s.st.frames_dropped;
            frames_dropped.fetch_add(1, std::memory_order_relaxed);
          }
          s.frame.swap(jpeg);  // the old mailbox buffer is reused for the next encode
          s.frame_ready = true;
          ++s.st.frames_rendered;
          if (s.session.ended()) s.final_frame_rendered = true;
        }
        s.cv.notify_all();
      }
    }
  }
};

RenderLoop::RenderLoop(const RenderLoopOptions& options) : options_(options), impl_(std::make_unique<Impl>()) {
  if (options.threads < 1 || options.threads > 64) throw Error(ErrorCode::kBadInput, "threads: 1-64");
  if (!(options.fps >= 0.5 && options.fps <= 120)) throw Error(ErrorCode::kBadInput, "fps: 0.5-120");
  if (options.width < render::kMinWidth || options.width > render::kMaxWidth || options.height < render::kMinHeight ||
      options.height > render::kMaxHeight) {
    throw Error(ErrorCode::kBadInput, "frame size: 64x36 to 1920x1080");
  }
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100) throw Error(ErrorCode::kBadInput, "jpeg_quality: 1-100");
  if (options.max_events < 8) throw Error(ErrorCode::kBadInput, "max_events: at least 8");
  if (options.max_sessions < 1) throw Error(ErrorCode::kBadInput, "max_sessions: at least 1");
  if (options.max_worlds < 1) throw Error(ErrorCode::kBadInput, "max_worlds: at least 1");
  impl_->opt = options;
  impl_->threads.reserve(options.threads);
  for (int i = 0; i < options.threads; ++i) impl_->threads.emplace_back([this, i] { impl_->run(i); });
}

RenderLoop::~RenderLoop() { stop(); }

void RenderLoop::stop() {
  {
    std::lock_guard lock(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
  std::vector<std::shared_ptr<LiveSession>> all;
  {
    std::unique_lock lock(impl_->map_mu);
    for (auto& [id, s] : impl_->sessions) all.push_back(s);
    impl_->sessions.clear();
  }
  for (auto& s : all) {
    {
      std::lock_guard lock(s->mu);
      s->closed = true;
    }
    s->cv.notify_all();
  }
}

void RenderLoop::load_world(const std::string& key, std::string_view world_json) {
  if (key.empty()) throw Error(ErrorCode::kBadInput, "world key: empty");
  Json resolved = resolve_text(world_json);
  if (resolved.is_null() || !resolved.is_object()) throw Error(ErrorCode::kBadInput, "not a world document");
  auto world = play::PlayWorld::build(resolved);
  std::unique_lock lock(impl_->map_mu);
  if (impl_->worlds.emplace(key, world).second) {
    impl_->world_order.push_back(key);
  } else {
    impl_->worlds[key] = world;
  }
  while (impl_->world_order.size() > impl_->opt.max_worlds) {
    impl_->worlds.erase(impl_->world_order.front());
    impl_->world_order.pop_front();
  }
}

bool RenderLoop::has_world(const std::string& key) const {
  std::shared_lock lock(impl_->map_mu);
  return impl_->worlds.count(key) > 0;
}

void RenderLoop::open(const std::string& session_id, const std::string& world_key, const std::string& player_id) {
  if (session_id.empty()) throw Error(ErrorCode::kBadInput, "session id: empty");
  std::shared_ptr<LiveSession> s;
  {
    std::unique_lock lock(impl_->map_mu);
    {
      std::lock_guard stop_lock(impl_->stop_mu);
      if (impl_->stopping) throw Error(ErrorCode::kConflict, "the render loop is stopped");
    }
    auto w = impl_->worlds.find(world_key);
    if (w == impl_->worlds.end()) throw Error(ErrorCode::kNotFound, "world not loaded: " + world_key);
    if (impl_->sessions.count(session_id)) throw Error(ErrorCode::kConflict, "session already open: " + session_id);
    if (impl_->sessions.size() >= impl_->opt.max_sessions) {
      throw Error(ErrorCode::kLimit, "the render loop holds its most sessions (" +
                                         std::to_string(impl_->opt.max_sessions) + ")");
    }
    const int shard = impl_->next_shard.fetch_add(1) % impl_->opt.threads;
    s = std::make_shared<LiveSession>(session_id, w->second, player_id, shard);
    s->last_tick = Clock::now();
    {
      std::lock_guard slock(s->mu);
      impl_->push_event(*s, dump(state_json(s->session)));
      if (s->session.ended()) {
        if (const auto& e = s->session.ending()) impl_->push_event(*s, dump(ending_json(*e)));
      }
    }
    impl_->sessions.emplace(session_id, s);
  }
}

std::string RenderLoop::move(const std::string& session_id, std::string_view keys) {
  std::string k(keys);
  return impl_->input(session_id, [&](play::Session& s) {
    bool was = s.moving();
    play::StepResult r = s.move(k);
    if (r.ok() && s.moving() != was) r.moving_changed = true;
    return r;
  });
}

std::string RenderLoop::key(const std::string& session_id, std::string_view key) {
  std::string k(key);
  return impl_->input(session_id, [&](play::Session& s) { return s.key(k); });
}

std::string RenderLoop::fire(const std::string& session_id, std::string_view event_name) {
  std::string n(event_name);
  return impl_->input(session_id, [&](play::Session& s) { return s.fire(n); });
}

Message RenderLoop::next(const std::string& session_id, std::chrono::milliseconds timeout) {
  Message out;
  auto s = impl_->find(session_id);
  if (!s) {
    out.kind = Message::Kind::kClosed;
    return out;
  }
  std::unique_lock lock(s->mu);
  auto ready = [&] {
    return s->closed || !s->events.empty() || s->frame_ready ||
           (s->session.ended() && s->final_frame_rendered);
  };
  if (!s->cv.wait_for(lock, timeout, ready)) {
    out.kind = Message::Kind::kTimeout;
    return out;
  }
  if (!s->events.empty()) {
    out.kind = Message::Kind::kEvent;
    out.text = std::move(s->events.front());
    s->events.pop_front();
    s->event_bytes -= out.text.size();
    return out;
  }
  if (s->frame_ready) {
    out.kind = Message::Kind::kFrame;
    out.jpeg.swap(s->frame);
    s->frame_ready = false;
    ++s->st.frames_delivered;
    return out;
  }
  out.kind = s->closed ? Message::Kind::kClosed : Message::Kind::kEnded;
  return out;
}

namespace {
void fill_stats(LiveSession& s, SessionStats& out) {
  out = s.st;
  out.seconds = s.session.now();
  out.events_queued = s.events.size();
  out.bytes_held = s.event_bytes + (s.frame_ready ? s.frame.size() : 0);
  out.ended = s.session.ended();
}
}  // namespace

bool RenderLoop::close(const std::string& session_id, SessionStats* final_stats) {
  std::shared_ptr<LiveSession> s;
  {
    std::unique_lock lock(impl_->map_mu);
    auto it = impl_->sessions.find(session_id);
    if (it == impl_->sessions.end()) return false;
    s = it->second;
    impl_->sessions.erase(it);
  }
  {
    std::lock_guard lock(s->mu);
    // Credit the time since the last tick so the seconds played are exact.
    if (!s->session.ended()) {
      const auto now = Clock::now();
      s->session.tick(std::chrono::duration<double>(now - s->last_tick).count());
      s->last_tick = now;
    }
    s->closed = true;
    if (final_stats) fill_stats(*s, *final_stats);
    s->events.clear();
    s->event_bytes = 0;
    std::vector<std::uint8_t>().swap(s->frame);
    s->frame_ready = false;
  }
  s->cv.notify_all();
  return true;
}

bool RenderLoop::stats(const std::string& session_id, SessionStats& out) const {
  auto s = impl_->find(session_id);
  if (!s) return false;
  std::lock_guard lock(s->mu);
  fill_stats(*s, out);
  return true;
}

LoopStats RenderLoop::stats() const {
  LoopStats out;
  {
    std::shared_lock lock(impl_->map_mu);
    out.sessions = impl_->sessions.size();
    out.worlds = impl_->worlds.size();
  }
  out.frames_rendered = impl_->frames_rendered.load();
  out.frames_dropped = impl_->frames_dropped.load();
  out.ticks = impl_->ticks.load();
  out.late_ticks = impl_->late_ticks.load();
  out.threads = options_.threads;
  out.fps = options_.fps;
  out.width = options_.width;
  out.height = options_.height;
  return out;
}

std::vector<std::string> RenderLoop::session_ids() const {
  std::shared_lock lock(impl_->map_mu);
  std::vector<std::string> out;
  out.reserve(impl_->sessions.size());
  for (const auto& [id, s] : impl_->sessions) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace conjure::runtime
