# Play engine and renderers: libjpeg-turbo encodes frames (cpp/src/render/jpeg.cpp).
find_package(PkgConfig REQUIRED)
pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)
target_link_libraries(conjure PUBLIC PkgConfig::TURBOJPEG)
