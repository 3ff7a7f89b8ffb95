#include "conjure/render/jpeg.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <string>

#include "conjure/errors.hpp"

namespace conjure::render {

JpegEncoder::JpegEncoder(int quality) : quality_(std::clamp(quality, 1, 100)) {
  handle_ = tjInitCompress();
  if (!handle_) throw Error(ErrorCode::kInternal, "libjpeg-turbo: cannot create a compressor");
}

JpegEncoder::~JpegEncoder() {
  if (handle_) tjDestroy(static_cast<tjhandle>(handle_));
}

JpegEncoder::JpegEncoder(JpegEncoder&& other) noexcept : handle_(other.handle_), quality_(other.quality_) {
  other.handle_ = nullptr;
}

JpegEncoder& JpegEncoder::operator=(JpegEncoder&& other) noexcept {
  if (this != &other) {
    if (handle_) tjDestroy(static_cast<tjhandle>(handle_));
    handle_ = other.handle_;
    quality_ = other.quality_;
    other.handle_ = nullptr;
  }
  return *this;
}

void JpegEncoder::set_quality(int quality) noexcept { quality_ = std::clamp(quality, 1, 100); }

void JpegEncoder::encode(const Frame& frame, std::vector<std::uint8_t>& out) {
  if (!frame.valid() || frame.width > 65535 || frame.height > 65535)
    throw Error(ErrorCode::kBadInput, "a frame's buffer must hold width * height * 3 bytes");
  if (!handle_) throw Error(ErrorCode::kInternal, "libjpeg-turbo: encoder was moved from");
  const unsigned long bound = tjBufSize(frame.width, frame.height, TJSAMP_420);
  out.resize(bound);
  unsigned char* dst = out.data();
  unsigned long size = bound;
  // TJFLAG_NOREALLOC: libjpeg-turbo writes into our buffer, sized by tjBufSize.
  const int rc = tjCompress2(static_cast<tjhandle>(handle_), frame.rgb.data(), frame.width, 0, frame.height,
                             TJPF_RGB, &dst, &size, TJSAMP_420, quality_, TJFLAG_NOREALLOC | TJFLAG_FASTDCT);
  if (rc != 0)
    throw Error(ErrorCode::kInternal, std::string("libjpeg-turbo: ") + tjGetErrorStr2(static_cast<tjhandle>(handle_)));
  out.resize(size);
}

std::vector<std::uint8_t> JpegEncoder::encode(const Frame& frame) {
  std::vector<std::uint8_t> out;
  encode(frame, out);
  return out;
}

Frame decode_jpeg(const std::vector<std::uint8_t>& jpeg) {
  tjhandle h = tjInitDecompress();
  if (!h) throw Error(ErrorCode::kInternal, "libjpeg-turbo: cannot create a decompressor");
  struct Guard {
    tjhandle h;
    ~Guard() { tjDestroy(h); }
  } guard{h};
  int w = 0, hgt = 0, subsamp = 0, colorspace = 0;
  if (jpeg.empty() || tjDecompressHeader3(h, jpeg.data(), jpeg.size(), &w, &hgt, &subsamp, &colorspace) != 0)
    throw Error(ErrorCode::kBadInput, "not a JPEG image");
  if (w <= 0 || hgt <= 0 || w > kMaxWidth || hgt > kMaxHeight)
    throw Error(ErrorCode::kBadInput, "a JPEG larger than " + std::to_string(kMaxWidth) + "x" + std::to_string(kMaxHeight));
  Frame f;
  f.width = w;
  f.height = hgt;
  f.rgb.resize(static_cast<std::size_t>(w) * hgt * 3);
  if (tjDecompress2(h, jpeg.data(), jpeg.size(), f.rgb.data(), w, 0, hgt, TJPF_RGB, 0) != 0)
    throw Error(ErrorCode::kBadInput, std::string("cannot decode the JPEG: ") + tjGetErrorStr2(h));
  return f;
}

}  // namespace conjure::render
