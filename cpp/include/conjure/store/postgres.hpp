// The PostgreSQL store's database management: numbered migrations and the
// schema version (`conjure store migrate`). The store itself opens through the
// same Store interface as SQLite.
#pragma once
#include <string>

namespace conjure {

struct PostgresMigration {
  int before = 0;  // the schema version found
  int after = 0;   // the schema version now (the latest this build knows)
};

// Applies the migrations a database lacks, each in its own transaction, under an
// advisory lock (several processes starting at once take turns). Throws kStorage
// when the server cannot be reached or the database is newer than this build.
PostgresMigration migrate_postgres(const std::string& url);

// The schema version of the database (0: never migrated).
int postgres_schema_version(const std::string& url);

// The number of migrations this build knows (the version migrate_postgres reaches).
int postgres_latest_version();

// `url` with any password replaced by `***` (for messages and logs).
std::string redact_database_url(const std::string& url);

}  // namespace conjure
