// Internal: characters and their talk memory on SQLite.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "conjure/store/characters.hpp"
#include "store/sqlite/context.hpp"

namespace conjure::sqlite {

class SqliteCharacters : public virtual CharacterStore {
 public:
  explicit SqliteCharacters(Context& ctx) : ctx_(ctx) {}

  CharacterWrite create_character(const Scope& scope, const Json& doc, const GateOptions& gate) override;
  CharacterRead get_character(const Scope& scope, const std::string& character_id) override;
  Page<CharacterInfo> list_characters(const Scope& scope, int limit, const std::string& cursor) override;
  CharacterWrite patch_character(const Scope& scope, const std::string& character_id, const Json& patch,
                                 const std::string& expected_rev, const GateOptions& gate) override;
  void delete_character(const Scope& scope, const std::string& character_id,
                        const std::string& expected_rev) override;
  Json get_talk(const Scope& scope, const std::string& session, const std::string& character_id) override;
  void put_talk(const Scope& scope, const std::string& session, const std::string& character_id,
                const Json& memory, std::int64_t expires_unix) override;

 private:
  Context& ctx_;
};

// The gate options for writing world `doc` of `scope` inside transaction `c`:
// `gate` with the ids of the characters the world places that exist in the
// scope (the gate's character-placement lint refuses the others). The gate
// stays pure; the store supplies what it needs.
GateOptions placement_gate(Conn& c, const Scope& scope, const Json& doc, const GateOptions& gate);

}  // namespace conjure::sqlite
