# simdjson: the kernel gate's fast JSON reader (Debian package libsimdjson-dev).
find_package(simdjson REQUIRED)
target_link_libraries(conjure PUBLIC simdjson::simdjson)
