// Drawing primitives of the preview renderer: clipped span fills on an RGB
// buffer (no per-pixel virtual calls), integer colour maths, an integer sine
// table and the embedded bitmap font.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "conjure/embedded.hpp"

namespace conjure::render {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

// a→b by t/256 (t in 0..256).
inline Rgb mix(Rgb a, Rgb b, int t) {
  t = std::clamp(t, 0, 256);
  auto m = [t](int x, int y) { return static_cast<std::uint8_t>(x + (y - x) * t / 256); };
  return {m(a.r, b.r), m(a.g, b.g), m(a.b, b.b)};
}

// c scaled by pct/100, saturating.
inline Rgb shade(Rgb c, int pct) {
  pct = std::max(0, pct);
  auto s = [pct](int x) { return static_cast<std::uint8_t>(std::min(255, x * pct / 100)); };
  return {s(c.r), s(c.g), s(c.b)};
}

// sin of u/1024 turns, as an integer in -1024..1024 (table built once, rounded).
inline int isin(int u) {
  static const std::array<std::int16_t, 1024> table = [] {
    std::array<std::int16_t, 1024> t{};
    for (int i = 0; i < 1024; ++i)
      t[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(std::lround(std::sin(i * 6.283185307179586 / 1024.0) * 1024.0));
    return t;
  }();
  return table[static_cast<std::size_t>(u & 1023)];
}

inline int isqrt(int v) {
  if (v <= 0) return 0;
  int r = static_cast<int>(std::sqrt(static_cast<double>(v)));
  while (r * r > v) --r;
  while ((r + 1) * (r + 1) <= v) ++r;
  return r;
}

struct Canvas {
  std::uint8_t* px;
  int w, h;

  void fill_span(int y, int x0, int x1, Rgb c) {
    if (y < 0 || y >= h) return;
    x0 = std::max(x0, 0);
    x1 = std::min(x1, w);
    if (x0 >= x1) return;
    std::uint8_t* p = px + (static_cast<std::size_t>(y) * w + x0) * 3;
    const std::size_t n = static_cast<std::size_t>(x1 - x0);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
    std::size_t done = 1;
    while (done < n) {  // doubling copies: log2(n) memcpy calls per span
      const std::size_t k = std::min(done, n - done);
      std::memcpy(p + done * 3, p, k * 3);
      done += k;
    }
  }

  void fill_vspan(int x, int y0, int y1, Rgb c) {
    if (x < 0 || x >= w) return;
    y0 = std::max(y0, 0);
    y1 = std::min(y1, h);
    std::uint8_t* p = px + (static_cast<std::size_t>(std::max(y0, 0)) * w + x) * 3;
    for (int y = y0; y < y1; ++y, p += static_cast<std::size_t>(w) * 3) {
      p[0] = c.r;
      p[1] = c.g;
      p[2] = c.b;
    }
  }

  void fill_rect(int x0, int y0, int x1, int y1, Rgb c) {
    y0 = std::max(y0, 0);
    y1 = std::min(y1, h);
    for (int y = y0; y < y1; ++y) fill_span(y, x0, x1, c);
  }

  // alpha 0..256
  void blend_span(int y, int x0, int x1, Rgb c, int alpha) {
    if (y < 0 || y >= h || alpha <= 0) return;
    alpha = std::min(alpha, 256);
    x0 = std::max(x0, 0);
    x1 = std::min(x1, w);
    if (x0 >= x1) return;
    std::uint8_t* p = px + (static_cast<std::size_t>(y) * w + x0) * 3;
    const std::size_t n = static_cast<std::size_t>(x1 - x0);
    const int cr = c.r * alpha, cg = c.g * alpha, cb = c.b * alpha, inv = 256 - alpha;
    for (std::size_t i = 0; i < n; ++i, p += 3) {
      p[0] = static_cast<std::uint8_t>((p[0] * inv + cr) >> 8);
      p[1] = static_cast<std::uint8_t>((p[1] * inv + cg) >> 8);
      p[2] = static_cast<std::uint8_t>((p[2] * inv + cb) >> 8);
    }
  }

  void blend_rect(int x0, int y0, int x1, int y1, Rgb c, int alpha) {
    y0 = std::max(y0, 0);
    y1 = std::min(y1, h);
    for (int y = y0; y < y1; ++y) blend_span(y, x0, x1, c, alpha);
  }

  void fill_circle(int cx, int cy, int r, Rgb c) {
    if (r <= 0) return;
    const int y0 = std::max(cy - r, 0), y1 = std::min(cy + r, h - 1);
    for (int y = y0; y <= y1; ++y) {
      const int half = isqrt(r * r - (y - cy) * (y - cy));
      fill_span(y, cx - half, cx + half + 1, c);
    }
  }

  void blend_circle(int cx, int cy, int r, Rgb c, int alpha) {
    if (r <= 0) return;
    const int y0 = std::max(cy - r, 0), y1 = std::min(cy + r, h - 1);
    for (int y = y0; y <= y1; ++y) {
      const int half = isqrt(r * r - (y - cy) * (y - cy));
      blend_span(y, cx - half, cx + half + 1, c, alpha);
    }
  }

  // The upper half of a ring (an arch's curve): outer radius ro, inner ri.
  void fill_ring_top(int cx, int cy, int ro, int ri, Rgb c) {
    if (ro <= 0) return;
    const int y0 = std::max(cy - ro, 0), y1 = std::min(cy, h - 1);
    for (int y = y0; y <= y1; ++y) {
      const int dy = cy - y;
      const int wo = isqrt(ro * ro - dy * dy);
      if (ri <= 0 || dy > ri) {
        fill_span(y, cx - wo, cx + wo + 1, c);
      } else {
        const int wi = isqrt(ri * ri - dy * dy);
        fill_span(y, cx - wo, cx - wi, c);
        fill_span(y, cx + wi + 1, cx + wo + 1, c);
      }
    }
  }

  // An upright isosceles triangle: apex (ax, ay), base row `by` of half-width hw.
  void fill_triangle(int ax, int ay, int hw, int by, Rgb c) {
    if (by <= ay) return;
    const int y0 = std::max(ay, 0), y1 = std::min(by, h);
    for (int y = y0; y < y1; ++y) {
      const int half = hw * (y - ay) / (by - ay);
      fill_span(y, ax - half, ax + half + 1, c);
    }
  }
};

// ---------------------------------------------------------------- font ----

struct Font {
  std::array<std::array<std::uint8_t, 7>, 128> rows{};  // bit 4 = leftmost column
  std::array<bool, 128> has{};
};

inline const Font& font() {
  static const Font f = [] {
    Font out;
    std::string_view text = embedded_file("render/font5x7.txt");
    int glyph = -1, row = 0;
    while (!text.empty()) {
      const std::size_t nl = text.find('\n');
      std::string_view line = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty() || (line.size() >= 2 && line[0] == '#' && line[1] == ' ')) continue;  // a comment
      if (line.size() >= 3 && line[0] == '=' && line[1] == ' ') {
        const std::string_view name = line.substr(2);
        glyph = name == "space" ? ' ' : (name.size() == 1 ? static_cast<unsigned char>(name[0]) : -1);
        if (glyph >= 128) glyph = -1;
        row = 0;
        if (glyph >= 0) out.has[static_cast<std::size_t>(glyph)] = true;
        continue;
      }
      if (glyph < 0 || row >= 7) continue;
      std::uint8_t bits = 0;
      for (std::size_t i = 0; i < 5 && i < line.size(); ++i)
        if (line[i] == '#') bits = static_cast<std::uint8_t>(bits | (0x10 >> i));
      out.rows[static_cast<std::size_t>(glyph)][static_cast<std::size_t>(row++)] = bits;
    }
    return out;
  }();
  return f;
}

inline std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char ch : s)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n;
}

// The first `chars` code points of s (by UTF-8 lead bytes).
inline std::string_view utf8_prefix(std::string_view s, std::size_t chars) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == chars) return s.substr(0, i);
      ++n;
    }
  }
  return s;
}

inline int text_width(std::string_view s, int scale) {
  const int n = static_cast<int>(std::min<std::size_t>(utf8_length(s), 10000));
  return n == 0 ? 0 : n * 6 * scale - scale;
}

// Draws s with its top-left at (x, y), each font pixel a scale x scale block.
// Lower case uses the upper-case glyphs; anything without a glyph is '?'.
inline void draw_text(Canvas& c, int x, int y, int scale, std::string_view s, Rgb colour) {
  const Font& f = font();
  for (std::size_t i = 0; i < s.size() && x < c.w; ++i) {
    const unsigned char ch = static_cast<unsigned char>(s[i]);
    if ((ch & 0xC0) == 0x80) continue;  // a continuation byte: its lead byte drew the '?'
    int g = ch;
    if (g >= 'a' && g <= 'z') g = g - 'a' + 'A';
    if (g >= 128 || !f.has[static_cast<std::size_t>(g)]) g = '?';
    const auto& rows = f.rows[static_cast<std::size_t>(g)];
    for (int r = 0; r < 7; ++r) {
      const std::uint8_t bits = rows[static_cast<std::size_t>(r)];
      int col = 0;
      while (col < 5) {
        if (!(bits & (0x10 >> col))) {
          ++col;
          continue;
        }
        int end = col;
        while (end < 5 && (bits & (0x10 >> end))) ++end;
        c.fill_rect(x + col * scale, y + r * scale, x + end * scale, y + (r + 1) * scale, colour);
        col = end;
      }
    }
    x += 6 * scale;
  }
}

}  // namespace conjure::render
