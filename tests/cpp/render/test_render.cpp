#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "conjure/errors.hpp"
#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"
#include "conjure/render/jpeg.hpp"
#include "conjure/render/preview.hpp"
#include "conjure/world/world.hpp"

using conjure::Error;
using conjure::ErrorCode;
namespace play = conjure::play;
namespace render = conjure::render;

namespace {

std::uint64_t hash(const render::Frame& f) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (std::uint8_t b : f.rgb) {
    h ^= b;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::size_t differing_pixels(const render::Frame& a, const render::Frame& b) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 2 < a.rgb.size(); i += 3)
    if (a.rgb[i] != b.rgb[i] || a.rgb[i + 1] != b.rgb[i + 1] || a.rgb[i + 2] != b.rgb[i + 2]) ++n;
  return n;
}

render::RenderRequest courtyard(bool moving = false, double time = 2.5) {
  render::RenderRequest r;
  r.session = 7;
  r.prompt.state = "courtyard";
  r.prompt.title = "courtyard";
  r.prompt.base = "a ruined gothic abbey, a moss-covered courtyard at dusk, lanterns glowing, stone arches";
  r.prompt.ambient = {"crows circling the bell tower", "oak trees by a grey lake"};
  r.prompt.camera = moving ? "handheld sway" : "slow drift at eye level";
  r.prompt.movement = moving ? "gravel crunching underfoot" : "still water, drifting mist";
  r.prompt.moving = moving;
  r.moving = moving;
  r.time = time;
  return r;
}

render::Frame render_one(const render::RenderRequest& r, int w = 640, int h = 360) {
  render::PreviewRenderer renderer(w, h);
  std::vector<render::Frame> out;
  renderer.render({r}, out);
  EXPECT_EQ(out.size(), 1u);
  return out.at(0);
}

TEST(Render, PreviewIsByteIdenticalForIdenticalRequests) {
  const auto a = render_one(courtyard());
  const auto b = render_one(courtyard());
  EXPECT_EQ(hash(a), hash(b));
  EXPECT_EQ(a.rgb, b.rgb);
  // The same request in a batch, on another instance, on another thread.
  render::PreviewRenderer r2(640, 360);
  std::vector<render::Frame> out;
  r2.render({courtyard(true), courtyard(), courtyard(false, 9)}, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(hash(out[1]), hash(a));
  render::Frame threaded;
  std::thread t([&] { threaded = render_one(courtyard()); });
  t.join();
  EXPECT_EQ(hash(threaded), hash(a));
}

TEST(Render, PreviewFramesHaveTheRequestedSizeFromSmallestToLargest) {
  for (auto [w, h] : {std::pair{64, 36}, std::pair{640, 360}, std::pair{333, 200}, std::pair{1920, 1080}}) {
    const auto f = render_one(courtyard(true), w, h);
    EXPECT_EQ(f.width, w);
    EXPECT_EQ(f.height, h);
    EXPECT_EQ(f.rgb.size(), static_cast<std::size_t>(w) * h * 3);
    EXPECT_TRUE(f.valid());
  }
}

TEST(Render, PreviewRefusesSizesOutsideTheRange) {
  for (auto [w, h] : {std::pair{63, 36}, std::pair{64, 35}, std::pair{1921, 1080}, std::pair{1920, 1081},
                      std::pair{0, 0}, std::pair{-5, 100}}) {
    try {
      render::PreviewRenderer r(w, h);
      ADD_FAILURE() << w << "x" << h << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kBadInput);
    }
  }
}

TEST(Render, MovingFramesDifferFromStillOnesAndMoveWithTime) {
  const auto still = render_one(courtyard(false, 3));
  const auto moving = render_one(courtyard(true, 3));
  const auto later = render_one(courtyard(true, 3.5));
  EXPECT_GT(differing_pixels(still, moving), 640u * 360u / 20);
  EXPECT_GT(differing_pixels(moving, later), 640u * 360u / 20);
}

TEST(Render, StillFramesOfACalmSceneHoldStillOverTime) {
  render::RenderRequest r = courtyard(false, 1);
  r.prompt.movement = "";  // no mist or weather: nothing animates while still
  render::RenderRequest r2 = r;
  r2.time = 42;
  EXPECT_EQ(hash(render_one(r)), hash(render_one(r2)));
}

TEST(Render, OverrideBannerChangesTheLowerPartOfTheFrame) {
  render::RenderRequest plain = courtyard();
  render::RenderRequest banner = courtyard();
  banner.prompt.override_text = "the great bell swings, dust falling from the rafters in long grey ribbons";
  const auto a = render_one(plain), b = render_one(banner);
  std::size_t top = 0, bottom = 0;
  for (int y = 0; y < 360; ++y)
    for (int x = 0; x < 640; ++x) {
      const std::size_t i = (static_cast<std::size_t>(y) * 640 + x) * 3;
      if (a.rgb[i] != b.rgb[i] || a.rgb[i + 1] != b.rgb[i + 1] || a.rgb[i + 2] != b.rgb[i + 2]) (y < 180 ? top : bottom)++;
    }
  EXPECT_EQ(top, 0u);
  EXPECT_GT(bottom, 640u * 20);
}

TEST(Render, TheSceneWordsDecideThePalette) {
  render::RenderRequest night = courtyard(), noon = courtyard();
  night.prompt.base = "a harbour at midnight, black water, a red lantern";
  noon.prompt.base = "a harbour at noon, blue water, a red lantern";
  night.prompt.movement = noon.prompt.movement = "";
  const auto a = render_one(night), b = render_one(noon);
  auto luma = [](const render::Frame& f) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < f.rgb.size(); i += 3) s += f.rgb[i] * 3u + f.rgb[i + 1] * 6u + f.rgb[i + 2];
    return s / (f.rgb.size() / 3);
  };
  EXPECT_LT(luma(a) + 200, luma(b));  // the night frame is much darker
}

TEST(Render, TitleAndEndingAreDrawn) {
  render::RenderRequest a = courtyard(), b = courtyard();
  b.prompt.title = "cellar";
  const auto fa = render_one(a), fb = render_one(b);
  // Only the title box region (top-left) differs.
  std::size_t diff_top_left = 0, diff_elsewhere = 0;
  for (int y = 0; y < 360; ++y)
    for (int x = 0; x < 640; ++x) {
      const std::size_t i = (static_cast<std::size_t>(y) * 640 + x) * 3;
      const bool d = fa.rgb[i] != fb.rgb[i] || fa.rgb[i + 1] != fb.rgb[i + 1] || fa.rgb[i + 2] != fb.rgb[i + 2];
      if (d) (y < 50 && x < 400 ? diff_top_left : diff_elsewhere)++;
    }
  EXPECT_GT(diff_top_left, 100u);
  EXPECT_EQ(diff_elsewhere, 0u);

  render::RenderRequest end = courtyard();
  end.prompt.title = "Drowned";
  end.prompt.subtitle = "The lake keeps you";
  end.prompt.ending_kind = "lose";
  EXPECT_GT(differing_pixels(render_one(end), fa), 640u * 40);
}

TEST(Render, OddInputNeverCrashes) {
  render::RenderRequest r;
  r.time = std::numeric_limits<double>::quiet_NaN();
  r.moving = true;
  r.prompt.title = std::string(5000, 'W') + "\xff\xfe\xe2\x82\xac";
  r.prompt.base = std::string(20000, 'a') + " night rain snow fog storm lake tree tree";
  r.prompt.override_text = std::string(3000, 'x');
  r.prompt.subtitle = "\x01\x02";
  for (double t : {std::numeric_limits<double>::infinity(), -1.0, 1e300, 0.0, 1e9}) {
    r.time = t;
    for (auto [w, h] : {std::pair{64, 36}, std::pair{1920, 1080}}) {
      const auto f = render_one(r, w, h);
      EXPECT_TRUE(f.valid());
    }
  }
  r.prompt.ending_kind = "win";
  EXPECT_TRUE(render_one(r, 64, 36).valid());
}

TEST(Render, EmptyBatchGivesNoFrames) {
  render::PreviewRenderer r;
  std::vector<render::Frame> out(3);
  r.render({}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.name(), "preview");
  EXPECT_EQ(r.width(), 640);
  EXPECT_EQ(r.height(), 360);
}

TEST(Render, JpegDecodesToTheFrameSizeAndLooksLikeIt) {
  const auto f = render_one(courtyard(), 640, 360);
  render::JpegEncoder enc(85);
  std::vector<std::uint8_t> jpeg;
  enc.encode(f, jpeg);
  ASSERT_GT(jpeg.size(), 1000u);
  EXPECT_EQ(jpeg[0], 0xFF);
  EXPECT_EQ(jpeg[1], 0xD8);
  const auto back = render::decode_jpeg(jpeg);
  EXPECT_EQ(back.width, 640);
  EXPECT_EQ(back.height, 360);
  ASSERT_EQ(back.rgb.size(), f.rgb.size());
  double err = 0;
  for (std::size_t i = 0; i < f.rgb.size(); ++i) err += std::abs(int(f.rgb[i]) - int(back.rgb[i]));
  EXPECT_LT(err / f.rgb.size(), 8.0);  // mean absolute error per channel
  // The handle is reused: a second, smaller frame encodes too.
  const auto small = render_one(courtyard(), 64, 36);
  const auto small_back = render::decode_jpeg(enc.encode(small));
  EXPECT_EQ(small_back.width, 64);
  EXPECT_EQ(small_back.height, 36);
}

TEST(Render, JpegQualityTradesSizeForFidelity) {
  const auto f = render_one(courtyard(true), 640, 360);
  render::JpegEncoder enc(30);
  const auto low = enc.encode(f);
  enc.set_quality(95);
  const auto high = enc.encode(f);
  EXPECT_LT(low.size(), high.size());
  enc.set_quality(1000);
  EXPECT_EQ(enc.quality(), 100);
}

TEST(Render, JpegRefusesBadFramesAndBadBytes) {
  render::JpegEncoder enc;
  render::Frame bad;
  bad.width = 10;
  bad.height = 10;
  bad.rgb.resize(10);
  EXPECT_THROW(enc.encode(bad), Error);
  EXPECT_THROW(render::decode_jpeg({}), Error);
  EXPECT_THROW(render::decode_jpeg({0xFF, 0xD8, 0x00, 0x01, 0x02}), Error);
}

TEST(Render, SessionPromptRendersEndToEnd) {
  auto w = play::PlayWorld::build(conjure::parse_world(R"({"entrance":{"state":"gate"},"scene":{"states":{
      "gate":{"base":"an iron gate in snow at night","camera":{"static":"still","dynamic":"walking"}},
      "home":{"base":"a warm room","ending":{"kind":"win","title":"Home"}}},
      "events":[{"name":"Knock","kind":"override","from":["gate"],"hotkey":"K","base":"a knock echoes"},
                {"name":"Enter","kind":"transition","from":["gate"],"to":"home","hotkey":"E"}]}})"));
  play::Session s(w, "p");
  render::PreviewRenderer r(320, 180);
  std::vector<render::Frame> frames;
  std::vector<render::RenderRequest> batch(1);
  batch[0].prompt = s.prompt();
  r.render(batch, frames);
  const auto before = hash(frames[0]);
  s.key("K");
  batch[0].prompt = s.prompt();
  r.render(batch, frames);
  const auto knocked = hash(frames[0]);
  s.key("E");
  batch[0].prompt = s.prompt();
  r.render(batch, frames);
  EXPECT_NE(before, knocked);
  EXPECT_NE(knocked, hash(frames[0]));
  EXPECT_EQ(batch[0].prompt.title, "Home");
}

}  // namespace
