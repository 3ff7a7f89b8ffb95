// Characters (RUNTIME.md "Characters"): stance graphs with a brain, per app and
// mode, and what each player session said to each character (its talk memory).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "conjure/json.hpp"
#include "conjure/kernel/diagnostic.hpp"
#include "conjure/kernel/gate.hpp"
#include "conjure/store/common.hpp"

namespace conjure {

struct CharacterInfo {
  std::string id, name, created_at, updated_at, rev;
};
struct CharacterWrite {
  Json character;                        // the stored (normalised) document
  std::vector<Diagnostic> diagnostics;   // the gate's findings (no errors)
  std::string rev;
};
struct CharacterRead {
  Json character;
  std::string rev;
};

class CharacterStore {
 public:
  virtual ~CharacterStore() = default;

  // The document (kind "character" is set) passes the gate; the store assigns its id.
  virtual CharacterWrite create_character(const Scope& scope, const Json& doc, const GateOptions& gate) = 0;
  virtual CharacterRead get_character(const Scope& scope, const std::string& character_id) = 0;
  virtual Page<CharacterInfo> list_characters(const Scope& scope, int limit, const std::string& cursor) = 0;
  // An RFC 7386 merge patch of the document (`id` and `kind` stay); the result
  // passes the gate. With `expected_rev`, kConflict unless it is still current.
  virtual CharacterWrite patch_character(const Scope& scope, const std::string& character_id, const Json& patch,
                                         const std::string& expected_rev, const GateOptions& gate) = 0;
  // Soft-deletes it and its talk memory. kConflict naming the worlds of the
  // scope that place it (nothing changes), or on a rev mismatch.
  virtual void delete_character(const Scope& scope, const std::string& character_id,
                                const std::string& expected_rev = "") = 0;

  // The talk memory of one session (its token's jti) with one character, or
  // null when there is none or it expired.
  virtual Json get_talk(const Scope& scope, const std::string& session, const std::string& character_id) = 0;
  // Keeps `memory` (at most kMaxTalkBytes of JSON, kLimit otherwise) until
  // `expires_unix` (the session token's expiry); drops expired memories.
  virtual void put_talk(const Scope& scope, const std::string& session, const std::string& character_id,
                        const Json& memory, std::int64_t expires_unix) = 0;

  static constexpr std::size_t kMaxTalkBytes = 16 * 1024;
};

}  // namespace conjure
