// The native runtime (RUNTIME.md "The runtime socket"): a RenderLoop owns N
// render threads, each with its own renderer and JPEG encoder, and the live
// play sessions. Every tick (1/fps) a thread advances its sessions' clocks,
// composes their prompts, renders them in one batch, encodes the frames and
// publishes each into the session's single-slot mailbox: the newest frame
// wins, a frame that was never taken is dropped (and counted), so a slow
// reader costs at most one frame of memory. Engine results (`state`, `fired`,
// `ending`, refusals as `error`) go into a bounded per-session event queue as
// ready-to-send JSON text.
//
// Inputs (move / key / fire) are applied at once on the caller's thread under
// the session's lock; `next()` blocks until the next event or frame is ready.
// Every method is thread-safe; the Python binding releases the GIL around all
// of them.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace conjure::runtime {

struct RenderLoopOptions {
  int threads = 1;                 // render threads (1–64)
  double fps = 15;                 // frames per second per session (0.5–120)
  int width = 640;                 // frame size (the renderer's limits apply)
  int height = 360;
  int jpeg_quality = 80;           // 1–100
  std::size_t max_events = 256;    // queued event messages per session (older ones are dropped past it)
  std::size_t max_sessions = 4096; // live sessions at once
  std::size_t max_worlds = 256;    // cached play worlds (least recently loaded evicted; live sessions keep theirs)
};

// What next() returns.
struct Message {
  enum class Kind : std::uint8_t {
    kTimeout,  // nothing arrived within the timeout
    kEvent,    // `text` holds one JSON message (state, fired, ending, error)
    kFrame,    // `jpeg` holds one JPEG frame
    kEnded,    // the run ended and its last frame was delivered: close normally
    kClosed,   // the session is unknown or was closed
  };
  Kind kind = Kind::kTimeout;
  std::string text;
  std::vector<std::uint8_t> jpeg;
};

// "timeout" | "event" | "frame" | "ended" | "closed".
const char* message_kind_name(Message::Kind kind) noexcept;

struct SessionStats {
  double seconds = 0;                   // the session clock (seconds played)
  std::uint64_t frames_rendered = 0;
  std::uint64_t frames_delivered = 0;   // taken by next()
  std::uint64_t frames_dropped = 0;     // overwritten before anyone took them
  std::uint64_t events_dropped = 0;     // event messages dropped past max_events
  std::size_t events_queued = 0;
  std::size_t bytes_held = 0;           // bytes of the frame mailbox + queued events
  bool ended = false;
};

struct LoopStats {
  std::size_t sessions = 0;
  std::size_t worlds = 0;
  std::uint64_t frames_rendered = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t ticks = 0;
  std::uint64_t late_ticks = 0;  // ticks that started more than one period late
  int threads = 0;
  double fps = 0;
  int width = 0;
  int height = 0;
};

class RenderLoop {
 public:
  // Starts the render threads. Error(kBadInput) for options out of range.
  explicit RenderLoop(const RenderLoopOptions& options = RenderLoopOptions{});
  ~RenderLoop();  // stop()
  RenderLoop(const RenderLoop&) = delete;
  RenderLoop& operator=(const RenderLoop&) = delete;

  // Parses a world document (resolves its slots as the gate does) and caches
  // its play form under `key` (e.g. "world-id@rev"). Error(kParse / kBadInput)
  // for a world that cannot be played.
  void load_world(const std::string& key, std::string_view world_json);
  bool has_world(const std::string& key) const;

  // Opens a live session of a loaded world; its first event is a `state`
  // message. Error(kNotFound) for an unknown world key, Error(kConflict) for a
  // session id already open, Error(kLimit) past max_sessions.
  void open(const std::string& session_id, const std::string& world_key, const std::string& player_id);

  // Inputs. Each applies at once and queues the resulting messages; a refused
  // input queues an `error` message with code "refused". Return the refusal
  // name ("ok", "missing_flags", ...), or "closed" for an unknown session.
  std::string move(const std::string& session_id, std::string_view keys);
  std::string key(const std::string& session_id, std::string_view key);
  std::string fire(const std::string& session_id, std::string_view event_name);

  // Blocks up to `timeout` for the session's next message: queued events
  // first, then the newest frame. After the ending message and the ending's
  // frame, kEnded; for an unknown or closed session, kClosed.
  Message next(const std::string& session_id, std::chrono::milliseconds timeout);

  // Removes the session (a waiting next() returns kClosed) and returns its
  // final stats; false when it was not open.
  bool close(const std::string& session_id, SessionStats* final_stats = nullptr);
  bool stats(const std::string& session_id, SessionStats& out) const;
  LoopStats stats() const;
  std::vector<std::string> session_ids() const;

  // Stops the threads and closes every session (idempotent).
  void stop();

  const RenderLoopOptions& options() const noexcept { return options_; }

 private:
  struct Impl;
  RenderLoopOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace conjure::runtime
