#include "conjure/render/preview.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <string>
#include <unordered_map>

#include "conjure/embedded.hpp"
#include "conjure/errors.hpp"
#include "render/canvas.hpp"

namespace conjure::render {
namespace {

// ---------------------------------------------------------------- lexicon --

enum class Kind : std::uint8_t { kColour, kSky, kGround, kWeather, kShape, kIndoor, kCamera };
enum Shape : std::uint8_t { kArch, kTree, kWater, kLight, kTower, kDoor, kMountain, kHouse, kPillar, kBoat, kSun, kMoon, kShapeCount };
enum Weather : std::uint8_t { kRain = 1, kSnow = 2, kMist = 4, kStorm = 8 };
enum SkyFlag : std::uint8_t { kNoBody, kSunBody, kMoonBody, kStarField };

struct Entry {
  Kind kind;
  Rgb a{}, b{};
  int light = 100;
  std::uint8_t value = 0;  // shape, weather bit, sky flag or camera horizon percent
};

struct Lexicon {
  std::unordered_map<std::string, std::vector<Entry>> words;
};

int to_int(std::string_view s, int fallback) {
  int v = fallback;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::uint8_t byte(std::string_view s) { return static_cast<std::uint8_t>(std::clamp(to_int(s, 0), 0, 255)); }

const Lexicon& lexicon() {
  static const Lexicon lex = [] {
    Lexicon out;
    static const std::array<std::string_view, kShapeCount> shape_names = {
        "arch", "tree", "water", "light", "tower", "door", "mountain", "house", "pillar", "boat", "sun", "moon"};
    std::string_view text = embedded_file("render/lexicon.txt");
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      if (line.empty() || line[0] == '#') continue;
      std::vector<std::string_view> f;
      while (!line.empty()) {
        const std::size_t sp = line.find_first_of(" \t\r");
        if (sp != 0) f.push_back(line.substr(0, sp));
        if (sp == std::string_view::npos) break;
        line = line.substr(sp + 1);
      }
      if (f.size() < 2) continue;
      Entry e{};
      const std::string_view k = f[0];
      if (k == "colour" && f.size() >= 5) {
        e.kind = Kind::kColour;
        e.a = {byte(f[2]), byte(f[3]), byte(f[4])};
      } else if (k == "sky" && f.size() >= 9) {
        e.kind = Kind::kSky;
        e.a = {byte(f[2]), byte(f[3]), byte(f[4])};
        e.b = {byte(f[5]), byte(f[6]), byte(f[7])};
        e.light = std::clamp(to_int(f[8], 100), 0, 100);
        e.value = kNoBody;
        if (f.size() >= 10) e.value = f[9] == "sun" ? kSunBody : f[9] == "moon" ? kMoonBody : f[9] == "stars" ? kStarField : kNoBody;
      } else if (k == "ground" && f.size() >= 5) {
        e.kind = Kind::kGround;
        e.a = {byte(f[2]), byte(f[3]), byte(f[4])};
      } else if (k == "weather" && f.size() >= 3) {
        e.kind = Kind::kWeather;
        e.value = f[2] == "rain" ? kRain : f[2] == "snow" ? kSnow : f[2] == "mist" ? kMist : f[2] == "storm" ? kStorm : 0;
        if (!e.value) continue;
      } else if (k == "shape" && f.size() >= 3) {
        e.kind = Kind::kShape;
        auto it = std::find(shape_names.begin(), shape_names.end(), f[2]);
        if (it == shape_names.end()) continue;
        e.value = static_cast<std::uint8_t>(it - shape_names.begin());
      } else if (k == "indoor") {
        e.kind = Kind::kIndoor;
      } else if (k == "camera" && f.size() >= 3) {
        e.kind = Kind::kCamera;
        e.value = static_cast<std::uint8_t>(std::clamp(to_int(f[2], 58), 20, 85));
      } else {
        continue;
      }
      out.words[std::string(f[1])].push_back(e);
    }
    return out;
  }();
  return lex;
}

// ------------------------------------------------------------------ scene --

struct Scene {
  Rgb sky_top{96, 140, 200}, sky_bottom{200, 212, 226};
  int light = 85;
  std::uint8_t body = kNoBody;
  bool sky_set = false;
  bool indoor = false;
  Rgb ground{104, 112, 86};
  bool ground_set = false;
  std::vector<Rgb> accents;
  std::uint8_t weather = 0;
  std::vector<std::uint8_t> shapes;
  int horizon_pct = 58;
  bool camera_set = false;
  std::uint64_t seed = 0;
};

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= 0xff;
  h *= 0x100000001b3ULL;
  return h;
}

void note_word(Scene& sc, std::string_view w) {
  const Lexicon& lex = lexicon();
  auto it = lex.words.find(std::string(w));
  if (it == lex.words.end() && w.size() > 3 && w.back() == 's') {
    it = lex.words.find(std::string(w.substr(0, w.size() - 1)));
    if (it == lex.words.end() && w.size() > 4 && w[w.size() - 2] == 'e')
      it = lex.words.find(std::string(w.substr(0, w.size() - 2)));
  }
  if (it == lex.words.end()) return;
  for (const Entry& e : it->second) {
    switch (e.kind) {
      case Kind::kColour:
        if (sc.accents.size() < 4) sc.accents.push_back(e.a);
        break;
      case Kind::kSky:
        if (!sc.sky_set) {
          sc.sky_set = true;
          sc.sky_top = e.a;
          sc.sky_bottom = e.b;
          sc.light = e.light;
          sc.body = e.value;
        }
        break;
      case Kind::kGround:
        if (!sc.ground_set) {
          sc.ground_set = true;
          sc.ground = e.a;
        }
        break;
      case Kind::kWeather:
        sc.weather |= e.value;
        break;
      case Kind::kShape:
        if (sc.shapes.size() < 6 && std::find(sc.shapes.begin(), sc.shapes.end(), e.value) == sc.shapes.end())
          sc.shapes.push_back(e.value);
        break;
      case Kind::kIndoor:
        sc.indoor = true;
        break;
      case Kind::kCamera:
        if (!sc.camera_set) {
          sc.camera_set = true;
          sc.horizon_pct = e.value;
        }
        break;
    }
  }
}

// Reads the words of `text` (ASCII letters, lower-cased; other bytes split).
void read_words(Scene& sc, std::string_view text) {
  std::string w;
  std::size_t count = 0;
  auto flush = [&] {
    if (!w.empty() && w.size() <= 24 && count++ < 400) note_word(sc, w);
    w.clear();
  };
  for (char c : text) {
    if (c >= 'A' && c <= 'Z') w.push_back(static_cast<char>(c - 'A' + 'a'));
    else if (c >= 'a' && c <= 'z') w.push_back(c);
    else flush();
  }
  flush();
}

Scene analyse(const play::PromptParts& p) {
  Scene sc;
  read_words(sc, p.base);
  for (const std::string& a : p.ambient) read_words(sc, a);
  read_words(sc, p.camera);
  read_words(sc, p.movement);
  read_words(sc, p.state);
  if ((sc.weather & kStorm) && !sc.sky_set) {
    sc.sky_top = {50, 55, 70};
    sc.sky_bottom = {100, 100, 110};
    sc.light = 50;
  }
  if (sc.weather & kStorm) sc.weather |= kRain;
  if (!sc.accents.empty() && !sc.sky_set) sc.sky_bottom = mix(sc.sky_bottom, sc.accents[0], 64);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  h = fnv1a(h, p.state);
  h = fnv1a(h, p.arm_label);
  h = fnv1a(h, p.base);
  sc.seed = h;
  return sc;
}

// ----------------------------------------------------------------- layout --

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) {  // [lo, hi)
    if (hi <= lo) return lo;
    return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo));
  }
};

int wrap(int x, int lo, int span) {
  if (span <= 0) return x;
  int v = (x - lo) % span;
  if (v < 0) v += span;
  return lo + v;
}

struct Placed {
  std::uint8_t shape;
  int x;       // centre
  int base_y;  // where it stands
  int size;    // nominal height in pixels
  int variant;
};

void draw_shape(Canvas& c, const Placed& s, const Scene& sc, int light, const Rgb& accent) {
  const int h = std::max(4, s.size);
  const int x = s.x, y = s.base_y;
  switch (s.shape) {
    case kTree: {
      const Rgb trunk = shade({92, 64, 40}, light);
      const Rgb leaf = shade(sc.accents.empty() ? Rgb{48, 110, 52} : mix({48, 110, 52}, accent, 80), light);
      c.fill_rect(x - h / 24 - 1, y - h / 2, x + h / 24 + 1, y, trunk);
      if (s.variant % 2 == 0) {
        c.fill_triangle(x, y - h, h / 3, y - h / 4, leaf);
      } else {
        c.fill_circle(x, y - h * 2 / 3, h / 3, leaf);
        c.fill_circle(x - h / 6, y - h / 2, h / 5, shade(leaf, 90));
      }
      break;
    }
    case kArch: {
      const Rgb stone = shade(sc.ground_set ? mix(sc.ground, {150, 145, 135}, 128) : Rgb{150, 145, 135}, light);
      const int half = h / 3, pw = std::max(2, h / 10);
      c.fill_rect(x - half, y - h * 2 / 3, x - half + pw, y, stone);
      c.fill_rect(x + half - pw, y - h * 2 / 3, x + half, y, stone);
      c.fill_ring_top(x, y - h * 2 / 3, half, half - pw, stone);
      break;
    }
    case kTower: {
      const Rgb wall = shade(sc.ground_set ? mix(sc.ground, {120, 115, 110}, 160) : Rgb{120, 115, 110}, light);
      const int hw = std::max(3, h / 8);
      c.fill_rect(x - hw, y - h, x + hw, y, wall);
      c.fill_triangle(x, y - h - h / 4, hw + hw / 3, y - h, shade(wall, 70));
      c.fill_rect(x - hw / 3, y - h * 3 / 4, x + hw / 3, y - h * 3 / 4 + hw, shade({40, 35, 30}, light));
      break;
    }
    case kHouse: {
      const Rgb wall = shade(sc.accents.empty() ? Rgb{170, 140, 110} : mix({170, 140, 110}, accent, 90), light);
      const int hw = h / 2;
      c.fill_rect(x - hw, y - h / 2, x + hw, y, wall);
      c.fill_triangle(x, y - h, hw + hw / 5, y - h / 2, shade({120, 60, 50}, light));
      c.fill_rect(x - hw / 5, y - h / 4, x + hw / 5, y, shade({60, 40, 30}, light));
      break;
    }
    case kDoor: {
      const Rgb frame = shade({110, 100, 90}, light);
      const int hw = std::max(3, h / 5);
      c.fill_rect(x - hw - 2, y - h * 2 / 3, x + hw + 2, y, frame);
      c.fill_circle(x, y - h * 2 / 3, hw + 2, frame);
      c.fill_rect(x - hw, y - h * 2 / 3, x + hw, y, shade({45, 32, 25}, light));
      c.fill_circle(x, y - h * 2 / 3, hw, shade({45, 32, 25}, light));
      break;
    }
    case kPillar: {
      const Rgb stone = shade({190, 185, 175}, light);
      const int hw = std::max(2, h / 14);
      c.fill_rect(x - hw, y - h, x + hw, y, stone);
      c.fill_rect(x - hw - hw / 2 - 1, y - h - std::max(1, h / 20), x + hw + hw / 2 + 1, y - h, shade(stone, 85));
      c.fill_rect(x - hw - hw / 2 - 1, y - std::max(1, h / 20), x + hw + hw / 2 + 1, y, shade(stone, 85));
      break;
    }
    case kLight: {
      const Rgb glow = sc.accents.empty() ? Rgb{255, 196, 96} : mix({255, 196, 96}, accent, 96);
      const int post = std::max(1, h / 30);
      c.fill_rect(x - post, y - h / 2, x + post, y, shade({50, 45, 40}, light));
      const int r = std::max(2, h / 10);
      c.blend_circle(x, y - h / 2 - r, r * 4, glow, 40);
      c.blend_circle(x, y - h / 2 - r, r * 2, glow, 90);
      c.fill_rect(x - r / 2 - 1, y - h / 2 - r - r / 2 - 1, x + r / 2 + 1, y - h / 2 - r + r / 2 + 1, glow);
      break;
    }
    case kBoat: {
      const Rgb hull = shade({120, 75, 45}, light);
      const int hw = h / 2;
      for (int i = 0; i < h / 5; ++i) c.fill_span(y - i, x - hw + i, x + hw - i + 1, hull);
      c.fill_rect(x - 1, y - h, x + 1, y - h / 5, shade({70, 50, 35}, light));
      c.fill_triangle(x + 2 + hw / 4, y - h, hw / 3, y - h / 4, shade({230, 225, 210}, light));
      break;
    }
    default:
      break;
  }
}

// ------------------------------------------------------------------- text --

void wrap_lines(std::string_view text, int max_chars, int max_lines, std::vector<std::string>& lines) {
  lines.clear();
  if (max_chars < 4) return;
  std::string cur;
  std::size_t i = 0;
  while (i < text.size() && static_cast<int>(lines.size()) < max_lines) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = text.find(' ', i);
    if (j == std::string_view::npos) j = text.size();
    std::string_view word = text.substr(i, j - i);
    if (word.empty()) break;
    const int need = static_cast<int>(cur.size() + (cur.empty() ? 0 : 1) + utf8_length(word));
    if (need <= max_chars) {
      if (!cur.empty()) cur.push_back(' ');
      cur.append(word);
      i = j;
    } else if (cur.empty()) {  // a word longer than a line: cut it
      cur = std::string(utf8_prefix(word, static_cast<std::size_t>(max_chars)));
      i += cur.size();
      lines.push_back(std::move(cur));
      cur.clear();
    } else {
      lines.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty() && static_cast<int>(lines.size()) < max_lines) lines.push_back(std::move(cur));
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && !lines.empty()) {
    std::string& last = lines.back();
    while (!last.empty() && static_cast<int>(utf8_length(last)) + 3 > max_chars) last.pop_back();
    last += "...";
  }
}

std::string fit(std::string_view text, int max_chars) {
  if (max_chars <= 0) return {};
  if (static_cast<int>(utf8_length(text)) <= max_chars) return std::string(text);
  if (max_chars <= 3) return std::string(utf8_prefix(text, static_cast<std::size_t>(max_chars)));
  return std::string(utf8_prefix(text, static_cast<std::size_t>(max_chars - 3))) + "...";
}

}  // namespace

// ------------------------------------------------------------- renderer --

PreviewRenderer::PreviewRenderer(int width, int height) : width_(width), height_(height) {
  if (width < kMinWidth || width > kMaxWidth || height < kMinHeight || height > kMaxHeight)
    throw Error(ErrorCode::kBadInput, "a preview frame is " + std::to_string(kMinWidth) + "x" +
                                          std::to_string(kMinHeight) + " to " + std::to_string(kMaxWidth) + "x" +
                                          std::to_string(kMaxHeight) + ", not " + std::to_string(width) + "x" +
                                          std::to_string(height));
  lexicon();
  font();
}

PreviewRenderer::~PreviewRenderer() = default;

void PreviewRenderer::render(const std::vector<RenderRequest>& batch, std::vector<Frame>& out) {
  out.resize(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) render_one(batch[i], out[i]);
}

void PreviewRenderer::render_one(const RenderRequest& req, Frame& out) const {
  const int W = width_, H = height_;
  out.width = W;
  out.height = H;
  out.rgb.resize(static_cast<std::size_t>(W) * H * 3);
  Canvas c{out.rgb.data(), W, H};
  const play::PromptParts& p = req.prompt;
  const Scene sc = analyse(p);
  const bool moving = req.moving;
  // Time enters as whole milliseconds modulo ten minutes (animations repeat
  // with that period), so any double is safe and every offset stays small.
  double t = req.time;
  if (!(t >= 0)) t = 0;
  if (t > 1e9) t = 1e9;
  const std::int64_t ms = static_cast<std::int64_t>(t * 1000.0) % 600000;
  const int light = 35 + sc.light * 65 / 100;  // percent brightness for shapes and ground
  const Rgb accent = sc.accents.empty() ? Rgb{200, 170, 110} : sc.accents[0];

  // Parallax offsets (pixels) and a handheld bob while moving.
  const int far_off = moving ? static_cast<int>((ms * W / 50) / 1000) : 0;
  const int mid_off = moving ? static_cast<int>((ms * W / 16) / 1000) : 0;
  const int near_off = moving ? static_cast<int>((ms * W / 6) / 1000) : 0;
  const int bob = moving ? isin(static_cast<int>(ms / 4)) * H / (100 * 1024) : 0;
  const int horizon = std::clamp(H * (sc.indoor ? 62 : sc.horizon_pct) / 100 + bob, H / 5, H - H / 6);

  Rng rng{sc.seed};

  // 1. Sky or ceiling and back wall.
  if (!sc.indoor) {
    for (int y = 0; y < horizon; ++y) c.fill_span(y, 0, W, mix(sc.sky_top, sc.sky_bottom, y * 256 / std::max(1, horizon)));
    if (sc.body == kStarField) {
      const int n = 20 + W * horizon / 4000;
      for (int i = 0; i < n; ++i) {
        const int sx = wrap(rng.range(0, W) - far_off / 2, 0, W), sy = rng.range(0, horizon * 4 / 5);
        const int sz = 1 + (rng.next() % 5 == 0 ? H / 300 : 0);
        c.fill_rect(sx, sy, sx + sz, sy + sz, Rgb{235, 235, 215});
      }
    }
    const bool sun = std::find(sc.shapes.begin(), sc.shapes.end(), kSun) != sc.shapes.end() || sc.body == kSunBody;
    const bool moon = std::find(sc.shapes.begin(), sc.shapes.end(), kMoon) != sc.shapes.end() || sc.body == kMoonBody;
    if (sun || moon) {
      const int r = std::max(3, H / 16);
      const int bx = wrap(W / 5 + rng.range(0, W * 3 / 5) - far_off / 3, -r, W + 2 * r);
      const int by = horizon / 4 + rng.range(0, std::max(1, horizon / 3));
      const Rgb col = sun ? Rgb{255, 228, 150} : Rgb{232, 232, 214};
      c.blend_circle(bx, by, r * 2, col, 40);
      c.fill_circle(bx, by, r, col);
    }
  } else {
    const Rgb wall = shade(sc.ground_set ? mix(sc.ground, {150, 140, 125}, 140) : Rgb{135, 120, 100}, light);
    const Rgb ceiling = shade(wall, 40);
    const int wall_top = horizon * 2 / 5;
    for (int y = 0; y < wall_top; ++y) c.fill_span(y, 0, W, mix(ceiling, shade(wall, 70), y * 256 / std::max(1, wall_top)));
    for (int y = wall_top; y < horizon; ++y) c.fill_span(y, 0, W, mix(shade(wall, 80), wall, (y - wall_top) * 256 / std::max(1, horizon - wall_top)));
    // Beams across the ceiling edge and panels on the wall, scrolling with the mid layer.
    c.fill_rect(0, wall_top - std::max(1, H / 90), W, wall_top, shade(wall, 50));
    const int panel = std::max(8, W / 7);
    for (int x = wrap(-mid_off, 0, panel) - panel; x < W; x += panel)
      c.fill_rect(x, wall_top, x + std::max(1, W / 200), horizon, shade(wall, 65));
  }

  // 2. Far silhouettes (hills, or mountains when named) outdoors.
  if (!sc.indoor) {
    const bool peaks = std::find(sc.shapes.begin(), sc.shapes.end(), kMountain) != sc.shapes.end();
    const int amp = peaks ? H / 5 : H / 14;
    const int p1 = rng.range(0, 1024), p2 = rng.range(0, 1024), p3 = rng.range(0, 1024);
    const Rgb col = shade(mix(sc.sky_bottom, sc.ground, 150), 70 + sc.light / 5);
    for (int x = 0; x < W; ++x) {
      const int u = (x + far_off) * 1024 / W;  // one period of the slowest wave per frame width
      int hgt = amp / 2 + (amp * isin(u + p1) / 1024) / 3 + (amp * isin(u * 3 + p2) / 1024) / 4 +
                (peaks ? (amp * std::abs(isin(u * 7 + p3)) / 1024) / 3 : (amp * isin(u * 5 + p3) / 1024) / 8);
      hgt = std::max(1, hgt);
      c.fill_vspan(x, horizon - hgt, horizon, col);
    }
  }

  // 3. Ground or floor with perspective bands that stream past while moving.
  {
    const Rgb g = shade(sc.ground, light);
    const Rgb near = shade(g, 115), far = shade(g, 80);
    const Rgb band = shade(g, 70);
    const int depth_k = 64 * H;  // z = depth_k / d
    const int phase = near_off * 4;
    const int gh = std::max(1, H - horizon);
    for (int y = horizon; y < H; ++y) {
      const int d = y - horizon + 2;
      const int z = depth_k / d + phase;
      Rgb col = mix(far, near, (y - horizon) * 256 / gh);
      if (((z / (H / 2 + 1)) & 7) == 0) col = mix(col, band, 110);
      c.fill_span(y, 0, W, col);
    }
  }

  // 4. Water: a band at the horizon with ripples.
  if (!sc.indoor && std::find(sc.shapes.begin(), sc.shapes.end(), kWater) != sc.shapes.end()) {
    const int bottom = horizon + (H - horizon) * 2 / 5;
    const Rgb deep = shade(mix(sc.sky_bottom, {30, 70, 110}, 150), 50 + sc.light / 2);
    const Rgb shallow = mix(deep, sc.sky_bottom, 90);
    for (int y = horizon; y < bottom; ++y) c.fill_span(y, 0, W, mix(shallow, deep, (y - horizon) * 256 / std::max(1, bottom - horizon)));
    const Rgb hi = mix(sc.sky_bottom, {255, 255, 255}, 60);
    const int n = 6 + W / 40;
    for (int i = 0; i < n; ++i) {
      const int ry = horizon + 2 + rng.range(0, std::max(1, bottom - horizon - 3));
      const int len = W / 40 + (ry - horizon) * W / std::max(1, 8 * (bottom - horizon));
      const int rx = wrap(rng.range(0, W) - mid_off, -len, W + len);
      c.blend_span(ry, rx, rx + len, hi, 140);
    }
  }

  // 5. Shapes, far to near.
  std::vector<Placed> placed;
  for (std::uint8_t s : sc.shapes) {
    if (s == kWater || s == kSun || s == kMoon || s == kMountain) continue;
    const int count = (s == kTree || s == kPillar) ? 2 + static_cast<int>(rng.next() % 3) : 1 + static_cast<int>(rng.next() % 2);
    for (int i = 0; i < count; ++i) {
      const int depth = rng.range(0, 1000);  // 0 far … 999 near
      const int base = horizon + (H - horizon) * (60 + depth * 5 / 10) / 1000;
      const int size = H * (22 + depth * 28 / 1000) / 100;
      const int par = near_off * (200 + depth) / 1200;
      const int span = W + W / 2;
      const int x = wrap(rng.range(0, W) - par, -W / 4, span);
      placed.push_back(Placed{s, x, base, size, static_cast<int>(rng.next() % 4)});
    }
  }
  std::stable_sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) { return a.base_y < b.base_y; });
  for (const Placed& s : placed) draw_shape(c, s, sc, light, accent);

  // 6. Weather.
  if (sc.weather & kMist) {
    const int top = std::max(0, horizon - H / 6), bottom = std::min(H, horizon + H / 8);
    const Rgb fog{200, 204, 210};
    for (int y = top; y < bottom; ++y) {
      const int dist = std::abs(y - horizon);
      const int reach = y < horizon ? horizon - top : bottom - horizon;
      c.blend_span(y, 0, W, fog, 150 - 150 * dist / std::max(1, reach));
    }
  }
  if (sc.weather & kRain) {
    const int n = 30 + W * H / 3000;
    const int len = std::max(3, H / 24);
    const int fall = static_cast<int>(ms * H / 700);
    const Rgb drop = mix(sc.sky_bottom, {210, 215, 230}, 160);
    for (int i = 0; i < n; ++i) {
      const int x0 = rng.range(0, W + H / 4);
      const int y0 = wrap(rng.range(0, H) + fall, -len, H + len);
      for (int k = 0; k < len; ++k) c.fill_span(y0 + k, x0 - (y0 + k) / 4, x0 - (y0 + k) / 4 + 1, drop);
    }
  }
  if (sc.weather & kSnow) {
    const int n = 30 + W * H / 2500;
    const int sz = std::max(1, H / 180);
    const int fall = static_cast<int>(ms * H / 9000);
    for (int i = 0; i < n; ++i) {
      const int y = wrap(rng.range(0, H) + fall, 0, H);
      const int x = wrap(rng.range(0, W) + isin(y * 8 + i * 97) * W / (1024 * 60) - mid_off / 3, 0, W);
      c.fill_rect(x, y, x + sz, y + sz, Rgb{240, 242, 248});
    }
  }

  // 7. Text: title, PREVIEW label, override banner, ending panel.
  const int ts = std::max(1, H / 120);       // title scale
  const int ls = std::max(1, (H + 90) / 180);  // label and banner scale
  const int pad = std::max(2, H / 60);
  const std::string label = "PREVIEW";
  const int label_w = text_width(label, ls);
  {
    const int lx = W - label_w - 2 * pad, ly = pad;
    c.fill_rect(lx - pad, ly - pad / 2, W - pad / 2, ly + 7 * ls + pad, Rgb{16, 16, 16});
    c.fill_rect(lx - pad, ly + 7 * ls + pad - std::max(1, ls / 2), W - pad / 2, ly + 7 * ls + pad, Rgb{240, 200, 40});
    draw_text(c, lx, ly + pad / 4, ls, label, Rgb{240, 200, 40});
  }
  const bool ended = !p.ending_kind.empty();
  if (!ended) {
    const int avail = (W - label_w - 6 * pad) / (6 * ts);
    const std::string title = fit(p.title, std::max(0, avail));
    if (!title.empty()) {
      const int tw = text_width(title, ts);
      c.blend_rect(pad / 2, pad / 2, pad + tw + pad, pad + 7 * ts + pad, Rgb{10, 10, 14}, 170);
      draw_text(c, pad + ts, pad + ts / 2, ts, title, Rgb{245, 245, 240});
    }
    if (moving) {  // a small marker that the player is moving
      const int mx = pad + ts, my = pad + 7 * ts + 2 * pad;
      for (int k = 0; k < 3; ++k) c.fill_triangle(mx + k * 4 * ls + 2 * ls, my, 2 * ls, my + 3 * ls, Rgb{240, 200, 40});
    }
  }
  std::vector<std::string> lines;
  if (!p.override_text.empty() && !ended) {
    const int max_chars = (W - 4 * pad) / (6 * ls);
    wrap_lines(p.override_text, max_chars, 2, lines);
    if (!lines.empty()) {
      const int lh = 9 * ls;
      const int bh = static_cast<int>(lines.size()) * lh + 2 * pad;
      const int top = H - bh - pad;
      c.blend_rect(pad, top, W - pad, H - pad, Rgb{12, 12, 20}, 190);
      c.fill_rect(pad, top, W - pad, top + std::max(1, ls), Rgb{240, 170, 60});
      for (std::size_t i = 0; i < lines.size(); ++i)
        draw_text(c, 2 * pad, top + pad + static_cast<int>(i) * lh + ls, ls, lines[i], Rgb{250, 236, 200});
    }
  }
  if (ended) {
    const bool win = p.ending_kind == "win";
    const Rgb edge = win ? Rgb{235, 195, 60} : Rgb{210, 60, 55};
    const int ps = std::max(1, H / 90);
    const int max_chars = std::max(1, (W - 6 * pad) / (6 * ps));
    const std::string title = fit(p.title, max_chars);
    const std::string kind = win ? "YOU WIN" : "THE END";
    wrap_lines(p.subtitle, std::max(4, (W - 6 * pad) / (6 * ls)), 2, lines);
    const int ph = 7 * ls + pad + 7 * ps + pad + static_cast<int>(lines.size()) * 9 * ls + 2 * pad;
    const int top = std::max(0, (H - ph) / 2);
    c.blend_rect(pad, top, W - pad, top + ph, Rgb{8, 8, 12}, 200);
    c.fill_rect(pad, top, W - pad, top + std::max(1, ls), edge);
    c.fill_rect(pad, top + ph - std::max(1, ls), W - pad, top + ph, edge);
    int y = top + pad;
    draw_text(c, (W - text_width(kind, ls)) / 2, y, ls, kind, edge);
    y += 7 * ls + pad;
    draw_text(c, (W - text_width(title, ps)) / 2, y, ps, title, Rgb{250, 248, 240});
    y += 7 * ps + pad;
    for (const std::string& l : lines) {
      draw_text(c, (W - text_width(l, ls)) / 2, y, ls, l, Rgb{220, 220, 214});
      y += 9 * ls;
    }
  }
}

}  // namespace conjure::render
