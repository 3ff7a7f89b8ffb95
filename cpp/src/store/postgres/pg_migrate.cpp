#include <regex>

#include "conjure/store/postgres.hpp"
#include "store/postgres/pg_db.hpp"
#include "store/postgres/pg_schema.hpp"

namespace conjure {

namespace {
pg::OpenSpec admin_spec(const std::string& url) {
  pg::OpenSpec spec;
  spec.url = url;
  spec.max_connections = 1;
  spec.retry_timeout_ms = 3000;  // an operator command: say soon that the server is not there
  return spec;
}
}  // namespace

PostgresMigration migrate_postgres(const std::string& url) {
  pg::Pool pool(admin_spec(url));
  auto [before, after] = pg::migrate(pool, pg::migrations());
  return {before, after};
}

int postgres_schema_version(const std::string& url) {
  pg::Pool pool(admin_spec(url));
  return pg::schema_version(pool);
}

int postgres_latest_version() { return static_cast<int>(pg::migrations().size()); }

std::string redact_database_url(const std::string& url) {
  // postgresql://user:secret@host/db -> postgresql://user:***@host/db; password=... in key/value form.
  static const std::regex in_uri(R"(^([a-z]+://[^:/@]*:)[^@]*@)");
  static const std::regex in_kv(R"((password\s*=\s*)('[^']*'|\S+))");
  std::string out = std::regex_replace(url, in_uri, "$1***@");
  return std::regex_replace(out, in_kv, "$1***");
}

}  // namespace conjure
