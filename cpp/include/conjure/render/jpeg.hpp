// JPEG encoding of frames with libjpeg-turbo. An encoder owns one TurboJPEG
// handle and is reused frame after frame; it is not thread-safe: keep one per
// thread.
#pragma once
#include <cstdint>
#include <vector>

#include "conjure/render/renderer.hpp"

namespace conjure::render {

class JpegEncoder {
 public:
  // quality 1–100 (clamped); 4:2:0 chroma subsampling.
  explicit JpegEncoder(int quality = 80);
  ~JpegEncoder();
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;
  JpegEncoder(JpegEncoder&& other) noexcept;
  JpegEncoder& operator=(JpegEncoder&& other) noexcept;

  int quality() const noexcept { return quality_; }
  void set_quality(int quality) noexcept;

  // Encodes `frame` into `out` (replacing its contents). Error(kBadInput) for
  // a frame whose buffer does not match its size; Error(kInternal) when
  // libjpeg-turbo fails.
  void encode(const Frame& frame, std::vector<std::uint8_t>& out);
  std::vector<std::uint8_t> encode(const Frame& frame);

 private:
  void* handle_ = nullptr;
  int quality_ = 80;
};

// Decodes a JPEG into an RGB frame (used by tests and tools). Error(kBadInput)
// for bytes that are not a JPEG or an image larger than kMaxWidth x kMaxHeight.
Frame decode_jpeg(const std::vector<std::uint8_t>& jpeg);

}  // namespace conjure::render
