#include "store/sqlite/blobs.hpp"

#include <string>
#include <vector>

#include "conjure/auth/crypto.hpp"
#include "conjure/versions/snapshot.hpp"

namespace conjure::sqlite {

namespace {

std::string raw_digest(const std::string& text) {
  auth::Digest d = auth::sha256(text);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// Cache-size estimate of a decoded manifest or bucket.
std::size_t decoded_bytes(const Json& v) { return v.is_object() ? 64 * (v.size() + 1) : 256; }

}  // namespace

std::int64_t BlobRepo::put(const Json& value, std::int64_t base) {
  std::string text = versions::canonical(value);
  std::string raw = raw_digest(text);
  {
    Stmt s = c_.prepare("SELECT id FROM blobs WHERE substr(hash, 1, 6)=? AND hash=?");
    s.bind_blob(1, std::string_view(raw).substr(0, 6)).bind_blob(2, raw);
    if (s.step()) return s.i64(0);
  }
  std::int64_t stored_base = 0;
  std::string data = text;
  if (base > 0) {
    std::int64_t base_chain = chain_bytes(base);
    Json patch;
    if (base_chain >= 0 && versions::make_delta(*get(base), value, &patch)) {
      std::string ptext = versions::canonical(patch);
      std::int64_t next = base_chain + static_cast<std::int64_t>(ptext.size());
      // A whole copy is stored again once the patches since the last one pass
      // four times its size: storage stays near the change, reads bounded.
      if (ptext.size() < text.size() && next <= 4 * static_cast<std::int64_t>(text.size())) {
        stored_base = base;
        data = std::move(ptext);
      }
    }
  }
  Stmt s = c_.prepare("INSERT INTO blobs(hash, base, data) VALUES (?,?,?)");
  s.bind_blob(1, raw);
  if (stored_base > 0) {
    s.bind(2, stored_base);
  } else {
    s.bind(2, nullptr);
  }
  s.bind_blob(3, data);
  s.run();
  ctx_.blobs().put(raw, std::make_shared<const Json>(value), text.size());
  return sqlite3_last_insert_rowid(c_.db());
}

std::int64_t BlobRepo::chain_bytes(std::int64_t id) {
  Stmt s = c_.prepare(
      "WITH RECURSIVE ch(base, n, depth) AS (SELECT base, length(data), 0 FROM blobs WHERE id=?1 "
      "UNION ALL SELECT b.base, length(b.data), ch.depth + 1 FROM blobs b JOIN ch ON b.id=ch.base "
      "WHERE ch.depth < 1000000) "
      "SELECT count(*), coalesce(sum(CASE WHEN base IS NULL THEN 0 ELSE n END), 0) FROM ch");
  s.bind(1, id);
  if (!s.step() || s.i64(0) == 0) return -1;
  return s.i64(1);
}

std::shared_ptr<const Json> BlobRepo::get(std::int64_t id) {
  std::vector<std::string> patches;  // newest first
  std::string first_hash;
  std::int64_t cur = id;
  Json value;
  for (;;) {
    Stmt s = c_.prepare("SELECT hash, base, data FROM blobs WHERE id=?");
    s.bind(1, cur);
    if (!s.step()) {
      throw Error(ErrorCode::kStorage,
                  "the store is missing content blob " + std::to_string(cur) + " (run `conjure store check`)");
    }
    std::string h = s.blob(0);
    if (first_hash.empty()) first_hash = h;
    if (auto v = ctx_.blobs().get(h)) {
      if (patches.empty()) return v;
      value = *v;
      break;
    }
    if (s.is_null(1)) {
      value = store::parse_stored(s.blob(2), "content blob");
      break;
    }
    patches.push_back(s.blob(2));
    cur = s.i64(1);
    if (patches.size() > 1000000) throw Error(ErrorCode::kStorage, "a content blob's delta chain is damaged");
  }
  for (auto it = patches.rbegin(); it != patches.rend(); ++it) {
    versions::apply_delta(value, store::parse_stored(*it, "content delta"));
  }
  std::size_t bytes = decoded_bytes(value);
  auto out = std::make_shared<const Json>(std::move(value));
  ctx_.blobs().put(first_hash, out, bytes);
  return out;
}

}  // namespace conjure::sqlite
