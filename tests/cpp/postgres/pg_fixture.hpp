// A fresh PostgreSQL database per test on the machine's server (scripts/test starts
// it). CONJURE_TEST_POSTGRES names the maintenance database to connect to (default:
// postgresql://postgres@127.0.0.1:5432/postgres). An unreachable server fails the
// test with the reason; it is never skipped.
#pragma once
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <string>

namespace conjure::testing {

inline std::string admin_url() {
  const char* env = std::getenv("CONJURE_TEST_POSTGRES");
  return env && *env ? env : "postgresql://postgres@127.0.0.1:5432/postgres";
}

// Runs one statement on the maintenance database; the error text, empty on success.
inline std::string admin_exec(const std::string& sql) {
  PGconn* c = PQconnectdb(admin_url().c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = std::string("cannot reach PostgreSQL at ") + admin_url() + ": " + PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  return err;
}

// The URL of a database named `name` on the same server as the maintenance one.
inline std::string database_url(const std::string& name) {
  std::string base = admin_url();
  auto slash = base.rfind('/');
  return base.substr(0, slash + 1) + name;
}

class FreshDatabase {
 public:
  FreshDatabase() {
    std::random_device rd;
    name_ = "conjure_gtest_" + std::to_string(rd()) + std::to_string(rd() % 100000);
    error_ = admin_exec("CREATE DATABASE \"" + name_ + "\"");
  }
  ~FreshDatabase() {
    if (error_.empty()) admin_exec("DROP DATABASE IF EXISTS \"" + name_ + "\" WITH (FORCE)");
  }
  const std::string& error() const { return error_; }
  std::string url() const { return database_url(name_); }
  const std::string& name() const { return name_; }

 private:
  std::string name_, error_;
};

}  // namespace conjure::testing
