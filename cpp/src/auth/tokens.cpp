#include "conjure/auth/tokens.hpp"

#include "conjure/auth/crypto.hpp"

namespace conjure::auth {

std::string keyed_digest(std::string_view key, std::string_view data) {
  Digest d = hmac_sha256(key, data);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string sign_b64(std::string_view key, std::string_view payload) {
  return base64url_encode(keyed_digest(key, payload));
}

std::string seal(std::string_view prefix, std::string_view claims_json, std::string_view key) {
  std::string payload = base64url_encode(claims_json);
  std::string token(prefix);
  token += payload;
  token += '.';
  token += sign_b64(key, payload);
  return token;
}

std::optional<Json> open_signed(std::string_view token, std::string_view prefix,
                                const std::function<std::string(const Json&)>& key_of) {
  std::size_t plen = prefix.size();
  if (token.size() > 4096 || token.substr(0, plen) != prefix) return std::nullopt;
  std::size_t dot = token.find('.', plen);
  if (dot == std::string_view::npos || dot == plen || dot + 1 == token.size()) return std::nullopt;
  std::string_view payload = token.substr(plen, dot - plen);
  std::string_view signature = token.substr(dot + 1);
  std::string raw;
  if (!base64url_decode(payload, &raw)) return std::nullopt;
  Json claims;
  try {
    claims = Json::parse(raw);
  } catch (const Json::exception&) {
    return std::nullopt;
  }
  if (!claims.is_object()) return std::nullopt;
  std::string key = key_of(claims);
  if (key.empty()) return std::nullopt;
  if (!equal_ct(sign_b64(key, payload), signature)) return std::nullopt;
  return claims;
}

}  // namespace conjure::auth
