// Play engine and preview renderer benchmark (bench/README.md "Play engine and
// preview renderer"). One run measures:
//  (a) engine steps per second on a generated 1,000-state world: sessions
//      driven by ticks at 30 Hz, digit and hotkey presses and movement changes;
//  (b) the preview renderer's cost per 640x360 frame, as a multiple of
//      libjpeg-turbo encoding the same frame (quality 80, 4:2:0) — the encode
//      every frame needs anyway before it goes on the socket.
// Usage: bench_play [results.json] [--quick] [--samples DIR]
//   --samples DIR writes a few frames as PPM files for a look.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/play/play_world.hpp"
#include "conjure/play/session.hpp"
#include "conjure/render/jpeg.hpp"
#include "conjure/render/preview.hpp"

using namespace conjure;
using Clock = std::chrono::steady_clock;

namespace {

const char* kPlaces[] = {"courtyard", "cellar", "harbour", "forest", "tower", "crypt", "meadow", "library", "shore", "cave"};
const char* kTimes[] = {"at dusk", "at noon", "at midnight", "at dawn", "in moonlight", "on an overcast morning"};
const char* kThings[] = {"stone arches", "oak trees", "a grey lake", "lanterns glowing", "a bell tower",
                         "a wooden door", "marble pillars", "a small boat", "distant hills", "a red brick house"};
const char* kWeather[] = {"", "", "light rain", "drifting mist", "falling snow"};

// 1,000 states in a ring of transitions with jumps, overrides granting flags,
// locked doors, timers and a few endings.
Json make_world(int states, std::mt19937& rng) {
  Json w;
  w["schemaVersion"] = "1.0";
  w["name"] = "bench";
  w["entrance"] = {{"state", "s0"}};
  Json& st = w["scene"]["states"];
  Json& ev = w["scene"]["events"];
  ev = Json::array();
  auto pick = [&rng](auto& arr) { return arr[rng() % (sizeof arr / sizeof *arr)]; };
  for (int i = 0; i < states; ++i) {
    const std::string id = "s" + std::to_string(i);
    Json s;
    s["base"] = std::string("a ") + pick(kPlaces) + " " + pick(kTimes) + ", " + pick(kThings) + ", " + pick(kThings);
    s["camera"] = {{"static", "slow drift at eye level"}, {"dynamic", "handheld sway"}};
    s["movement"] = {{"static", pick(kWeather)}, {"dynamic", "footsteps on gravel"}};
    s["ambient"] = Json::array({pick(kThings)});
    if (i % 7 == 3) s["variants"] = Json::array({{{"label", "B"}, {"base", std::string("a ") + pick(kPlaces) + " in rain"}}});
    if (i % 97 == 96) s["ending"] = {{"kind", i % 2 ? "win" : "lose"}, {"title", "Ending " + id}};
    st[id] = s;
    if (i % 97 == 96) continue;
    const std::string next = "s" + std::to_string((i + 1) % states);
    const std::string jump = "s" + std::to_string((i * 7 + 13) % states);
    ev.push_back({{"name", "Onward " + id}, {"kind", "transition"}, {"from", {id}}, {"to", next}, {"hotkey", "E"}});
    ev.push_back({{"name", "Leap " + id}, {"kind", "transition"}, {"from", {id}}, {"to", jump}, {"hotkey", "J"},
                  {"requires", {"rope"}}});
    ev.push_back({{"name", "Search " + id}, {"kind", "override"}, {"from", {id}}, {"hotkey", "F"},
                  {"grants", {i % 3 ? "rope" : "key"}}, {"base", "a hand sweeps the dust"}, {"oneShot", i % 2 == 0}});
    if (i % 5 == 0)
      ev.push_back({{"name", "Drift " + id}, {"kind", "transition"}, {"from", {id}}, {"to", next}, {"hotkey", "T"},
                    {"timing", {{"after", 2.5}}}, {"hidden", true}});
  }
  return w;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path, samples_dir;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--samples" && i + 1 < argc) samples_dir = argv[++i];
    else out_path = a;
  }
  std::mt19937 rng(20240611);

  // ---- (a) engine steps per second ----
  const int kStates = 1000;
  const Json world_json = make_world(kStates, rng);
  auto t_build0 = Clock::now();
  auto world = play::PlayWorld::build(world_json);
  const double build_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_build0).count();
  const int sessions = quick ? 20 : 200;
  const int steps_per_session = quick ? 2000 : 20000;
  std::uint64_t steps = 0, fired = 0, refused = 0, endings = 0;
  const char* keys[] = {"1", "2", "3", "E", "F", "J", "q"};
  auto t0 = Clock::now();
  for (int s = 0; s < sessions; ++s) {
    play::Session session(world, "player-" + std::to_string(s));
    std::mt19937 r(static_cast<unsigned>(s));
    for (int i = 0; i < steps_per_session; ++i) {
      play::StepResult res;
      const unsigned roll = r() % 10;
      if (session.ended()) {
        ++endings;
        session = play::Session(world, "player-" + std::to_string(s) + "-" + std::to_string(i));
      }
      if (roll < 6) res = session.tick(1.0 / 30.0);
      else if (roll < 9) res = session.key(keys[r() % 7]);
      else res = session.move(r() % 2 ? "W" : "");
      fired += res.fired.size();
      refused += !res.ok();
      ++steps;
    }
  }
  const double engine_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double steps_per_s = steps / engine_s;
  // available_events + prompt, what the runtime asks after each change
  auto t1 = Clock::now();
  std::uint64_t listed = 0;
  {
    play::Session session(world, "lister");
    const int n = quick ? 20000 : 200000;
    for (int i = 0; i < n; ++i) {
      listed += session.available_events().size();
      listed += session.prompt().text().size() > 0;
      if (i % 50 == 0) {
        session.key("E");
        if (session.ended()) session = play::Session(world, "lister-" + std::to_string(i));
      }
    }
    listed = n;
  }
  const double list_s = std::chrono::duration<double>(Clock::now() - t1).count();

  // ---- (b) preview render vs JPEG encode, 640x360 ----
  render::PreviewRenderer renderer(640, 360);
  render::JpegEncoder encoder(80);
  const int frames = quick ? 60 : 600;
  std::vector<double> render_us, encode_us;
  std::vector<std::uint8_t> jpeg;
  std::size_t jpeg_bytes = 0;
  std::vector<render::RenderRequest> batch(1);
  std::vector<render::Frame> out;
  for (int i = 0; i < frames; ++i) {
    play::Session session(world, "viewer-" + std::to_string(i));
    for (int k = 0; k < i % 13; ++k) session.key("E");
    if (i % 3 == 0) session.key("F");
    session.move(i % 2 ? "W" : "");
    batch[0].prompt = session.prompt();
    batch[0].moving = session.moving();
    batch[0].time = i / 30.0;
    auto a = Clock::now();
    renderer.render(batch, out);
    auto b = Clock::now();
    encoder.encode(out[0], jpeg);
    auto c = Clock::now();
    render_us.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    encode_us.push_back(std::chrono::duration<double, std::micro>(c - b).count());
    jpeg_bytes += jpeg.size();
    if (!samples_dir.empty() && i < 12) {
      std::ofstream f(samples_dir + "/frame_" + std::to_string(i) + ".ppm", std::ios::binary);
      f << "P6\n" << out[0].width << " " << out[0].height << "\n255\n";
      f.write(reinterpret_cast<const char*>(out[0].rgb.data()), static_cast<std::streamsize>(out[0].rgb.size()));
    }
  }
  // Per-frame ratios, then the median, so that machine noise hits both sides.
  std::vector<double> ratios;
  for (std::size_t i = 0; i < render_us.size(); ++i) ratios.push_back(render_us[i] / encode_us[i]);
  const double render_med = median(render_us), encode_med = median(encode_us), ratio_med = median(ratios);
  // Largest frame, for scale.
  render::PreviewRenderer big(1920, 1080);
  std::vector<double> big_render, big_encode;
  for (int i = 0; i < (quick ? 5 : 40); ++i) {
    play::Session session(world, "big-" + std::to_string(i));
    batch[0].prompt = session.prompt();
    batch[0].moving = true;
    batch[0].time = i / 30.0;
    auto a = Clock::now();
    big.render(batch, out);
    auto b = Clock::now();
    encoder.encode(out[0], jpeg);
    auto c = Clock::now();
    big_render.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    big_encode.push_back(std::chrono::duration<double, std::micro>(c - b).count());
  }

  Json report = {
      {"engine",
       {{"states", kStates},
        {"events", world->events().size()},
        {"build_ms", build_ms},
        {"sessions", sessions},
        {"steps", steps},
        {"steps_per_second", steps_per_s},
        {"fired", fired},
        {"refused", refused},
        {"endings", endings},
        {"listing_plus_prompt_per_second", listed / list_s}}},
      {"preview_640x360",
       {{"frames", frames},
        {"render_us_median", render_med},
        {"jpeg_encode_us_median", encode_med},
        {"render_over_jpeg_median_ratio", ratio_med},
        {"target_ratio", 2.0},
        {"jpeg_quality", 80},
        {"jpeg_bytes_mean", static_cast<double>(jpeg_bytes) / frames}}},
      {"preview_1920x1080",
       {{"render_us_median", median(big_render)}, {"jpeg_encode_us_median", median(big_encode)}}},
      {"quick", quick},
  };
  const std::string text = report.dump(2);
  std::cout << text << "\n";
  if (!out_path.empty() && !quick) {
    std::ofstream f(out_path);
    f << text << "\n";
  }
  return ratio_med <= 2.0 ? 0 : 1;
}
