// Signed tokens and keyed digests: the one place a token is sealed or opened.
// A token is "<prefix><base64url(claims JSON)>.<base64url(HMAC-SHA256(key,
// the middle part))>"; opening checks the signature in constant time.
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "conjure/json.hpp"

namespace conjure::auth {

// HMAC-SHA256(key, data) as its 32 raw bytes: a key derived for one purpose
// (`data` names it) or the keyed hash of a secret the store must not keep.
std::string keyed_digest(std::string_view key, std::string_view data);

// base64url(HMAC-SHA256(key, payload)).
std::string sign_b64(std::string_view key, std::string_view payload);

// The token of `claims_json` (the claims' canonical text) signed with `key`.
std::string seal(std::string_view prefix, std::string_view claims_json, std::string_view key);

// The claims object of a well-formed token with `prefix` whose signature
// checks; nullopt otherwise. `key_of` picks the key from the (not yet trusted)
// claims, or returns empty for an unknown key.
std::optional<Json> open_signed(std::string_view token, std::string_view prefix,
                                const std::function<std::string(const Json&)>& key_of);

}  // namespace conjure::auth
