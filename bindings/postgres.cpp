// conjure._core: PostgreSQL database management (migrations); the GIL is released around it.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "conjure/store/postgres.hpp"

namespace py = pybind11;

void init_postgres(py::module_& m) {
  m.def(
      "postgres_migrate",
      [](const std::string& url) {
        conjure::PostgresMigration r;
        {
          py::gil_scoped_release release;
          r = conjure::migrate_postgres(url);
        }
        py::dict out;
        out["before"] = r.before;
        out["after"] = r.after;
        return out;
      },
      py::arg("url"), "Applies the PostgreSQL migrations the database lacks: {before, after} schema versions.");
  m.def(
      "postgres_schema_version",
      [](const std::string& url) {
        py::gil_scoped_release release;
        return conjure::postgres_schema_version(url);
      },
      py::arg("url"), "The schema version of a PostgreSQL database (0: never migrated).");
  m.def("postgres_latest_version", &conjure::postgres_latest_version,
        "The PostgreSQL schema version this build migrates to.");
  m.def("redact_database_url", &conjure::redact_database_url, py::arg("url"),
        "A database URL with its password replaced by ***.");
}
