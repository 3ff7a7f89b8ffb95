// The renderer interface (RUNTIME.md "Renderers"): a batch of
// (session, composed prompt, moving, time, previous frame) in, one RGB frame
// per session out. Implementations: the CPU `preview` renderer (preview.hpp);
// a libjpeg-turbo JpegEncoder (jpeg.hpp) turns a frame into the bytes the
// runtime socket sends.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "conjure/play/prompt.hpp"

namespace conjure::render {

// Smallest and largest frame a renderer makes.
inline constexpr int kMinWidth = 64, kMinHeight = 36;
inline constexpr int kMaxWidth = 1920, kMaxHeight = 1080;
inline constexpr int kDefaultWidth = 640, kDefaultHeight = 360;

// An 8-bit RGB image, rows top to bottom, width * height * 3 bytes, no padding.
struct Frame {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;

  bool valid() const noexcept {
    return width > 0 && height > 0 && rgb.size() == static_cast<std::size_t>(width) * height * 3;
  }
};

struct RenderRequest {
  std::uint64_t session = 0;        // the caller's session id (echoed by index: out[i] is batch[i])
  play::PromptParts prompt;         // from Session::prompt()
  bool moving = false;
  double time = 0;                  // session clock, seconds
  const Frame* previous = nullptr;  // the session's last frame, or nullptr; may be ignored
};

class Renderer {
 public:
  virtual ~Renderer() = default;
  virtual std::string_view name() const noexcept = 0;
  virtual int width() const noexcept = 0;
  virtual int height() const noexcept = 0;
  // Resizes `out` to batch.size() and writes one frame per request, reusing
  // the frames' buffers. Never throws on odd prose or times.
  virtual void render(const std::vector<RenderRequest>& batch, std::vector<Frame>& out) = 0;
};

}  // namespace conjure::render
