#include "conjure/auth/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <vector>

#include "conjure/errors.hpp"

namespace conjure::auth {

Digest sha256(std::string_view data) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return d;
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

Digest hmac_sha256(std::string_view key, std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data(), &len) ||
      len != d.size()) {
    throw Error(ErrorCode::kInternal, "HMAC-SHA256 failed");
  }
  return d;
}

std::string to_hex(const unsigned char* data, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 15];
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string from_hex(std::string_view hex) {
  if (hex.size() % 2) throw Error(ErrorCode::kBadInput, "hex string of odd length");
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw Error(ErrorCode::kBadInput, "not a hex string");
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw Error(ErrorCode::kInternal, "the random number generator failed");
  }
  return out;
}

static const char* kB64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view raw) {
  const char* alphabet = kB64Alphabet;
  std::string out;
  out.reserve((raw.size() * 4 + 2) / 3);
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : raw) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(alphabet[(acc << (6 - bits)) & 63]);
  return out;
}

bool base64url_decode(std::string_view text, std::string* out) {
  if (text.size() % 4 == 1) return false;
  out->clear();
  out->reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero: one encoding per byte string.
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string random_token(std::size_t bytes) { return base64url_encode(random_bytes(bytes)); }

std::string uuid4() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  std::string hex = to_hex(reinterpret_cast<const unsigned char*>(b.data()), 16);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool is_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (hex_value(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

bool equal_ct(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

static bool scrypt_raw(std::string_view password, std::string_view salt, const ScryptParams& p,
                       unsigned char* out, std::size_t out_len) {
  // Memory bound: 128 * r * N bytes plus slack; allow up to 256 MiB.
  std::uint64_t max_mem = 256ull << 20;
  return EVP_PBE_scrypt(password.data(), password.size(),
                        reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), p.n, p.r,
                        p.p, max_mem, out, out_len) == 1;
}

std::string hash_password(std::string_view password, const ScryptParams& params) {
  std::string salt = random_bytes(16);
  unsigned char out[32];
  if (!scrypt_raw(password, salt, params, out, sizeof out)) {
    throw Error(ErrorCode::kInternal, "scrypt failed (unsupported parameters?)");
  }
  return "scrypt$" + std::to_string(params.n) + "$" + std::to_string(params.r) + "$" +
         std::to_string(params.p) + "$" +
         to_hex(reinterpret_cast<const unsigned char*>(salt.data()), salt.size()) + "$" +
         to_hex(out, sizeof out);
}

static bool parse_u64(std::string_view s, std::uint64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool verify_password(std::string_view password, std::string_view encoded) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 7) {
    std::size_t pos = encoded.find('$', start);
    parts.push_back(encoded.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  ScryptParams p;
  if (!parse_u64(parts[1], &p.n) || !parse_u64(parts[2], &p.r) || !parse_u64(parts[3], &p.p)) return false;
  // Refuse parameters that would cost unbounded time or memory.
  if (p.n < 2 || (p.n & (p.n - 1)) || p.n > (1u << 20) || p.r == 0 || p.r > 32 || p.p == 0 || p.p > 16) {
    return false;
  }
  std::string salt, expected;
  try {
    salt = from_hex(parts[4]);
    expected = from_hex(parts[5]);
  } catch (const Error&) {
    return false;
  }
  if (expected.size() != 32 || salt.empty()) return false;
  unsigned char out[32];
  if (!scrypt_raw(password, salt, p, out, sizeof out)) return false;
  return equal_ct(std::string_view(reinterpret_cast<const char*>(out), sizeof out), expected);
}

}  // namespace conjure::auth
