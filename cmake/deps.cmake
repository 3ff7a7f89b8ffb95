# Third-party dependencies of the core library.
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
target_link_libraries(conjure PUBLIC SQLite::SQLite3 OpenSSL::Crypto)
