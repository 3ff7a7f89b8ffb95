# libpq (Debian libpq-dev) for the PostgreSQL store (cpp/src/store/postgres/).
find_package(PostgreSQL REQUIRED)
target_link_libraries(conjure PUBLIC PostgreSQL::PostgreSQL)
