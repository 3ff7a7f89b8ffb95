// Cryptographic primitives the store needs (OpenSSL libcrypto): SHA-256,
// keyed hashes, constant-time comparison, random ids, password hashing.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace conjure::auth {

using Digest = std::array<unsigned char, 32>;

Digest sha256(std::string_view data);
std::string sha256_hex(std::string_view data);

// HMAC-SHA256(key, data).
Digest hmac_sha256(std::string_view key, std::string_view data);

// Lower-case hex of bytes, and back (throws Error(kBadInput) on bad hex).
std::string to_hex(const unsigned char* data, std::size_t n);
inline std::string to_hex(const Digest& d) { return to_hex(d.data(), d.size()); }
std::string from_hex(std::string_view hex);

// Cryptographically secure random bytes (RAND_bytes). Throws Error(kInternal)
// when the generator fails.
std::string random_bytes(std::size_t n);
// Random URL-safe token of `bytes` random bytes (base64url, no padding).
std::string random_token(std::size_t bytes);
// base64url without padding (RFC 4648 §5), and back: false for any character
// outside the alphabet, a '=' or an impossible length.
std::string base64url_encode(std::string_view data);
bool base64url_decode(std::string_view text, std::string* out);
// RFC 4122 version-4 UUID, lower-case canonical form.
std::string uuid4();
bool is_uuid(std::string_view s) noexcept;

// Constant-time equality of two byte strings (length is not secret).
bool equal_ct(std::string_view a, std::string_view b) noexcept;

// Password hashing with scrypt (EVP_PBE_scrypt), random 16-byte salt. The
// encoded form carries its parameters: "scrypt$N$r$p$<salt hex>$<hash hex>".
struct ScryptParams {
  std::uint64_t n = 1u << 15;
  std::uint64_t r = 8;
  std::uint64_t p = 1;
};
std::string hash_password(std::string_view password, const ScryptParams& params = ScryptParams{});
// False for a wrong password or a malformed / unsupported encoding; never throws
// on bad input.
bool verify_password(std::string_view password, std::string_view encoded);

}  // namespace conjure::auth
