// The `preview` renderer: deterministic, fast, readable pictures made from the
// prose, so that play works with no GPU. A palette and layout come from the
// scene's words (cpp/data/render/lexicon.txt: colours, time of day, ground
// materials, weather, shapes, indoor places); the title (state id or ending
// title) is drawn with a built-in bitmap font (cpp/data/render/font5x7.txt);
// layers scroll with parallax while the player moves; an active override shows
// as a text banner; a "PREVIEW" label says what the picture is.
// Identical requests give byte-identical frames. The previous frame is not used.
#pragma once
#include <memory>

#include "conjure/render/renderer.hpp"

namespace conjure::render {

class PreviewRenderer final : public Renderer {
 public:
  // Error(kBadInput) unless kMinWidth <= width <= kMaxWidth and
  // kMinHeight <= height <= kMaxHeight.
  explicit PreviewRenderer(int width = kDefaultWidth, int height = kDefaultHeight);
  ~PreviewRenderer() override;

  std::string_view name() const noexcept override { return "preview"; }
  int width() const noexcept override { return width_; }
  int height() const noexcept override { return height_; }
  void render(const std::vector<RenderRequest>& batch, std::vector<Frame>& out) override;

  // One frame (what render() does per request).
  void render_one(const RenderRequest& request, Frame& out) const;

 private:
  int width_;
  int height_;
};

}  // namespace conjure::render
