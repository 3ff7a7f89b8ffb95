// Data files compiled into the library (cpp/data/**), e.g. "lints/negation.txt".
#pragma once
#include <string_view>
#include <vector>

namespace conjure {

// The file's bytes, or an empty view when there is no such file.
std::string_view embedded_file(std::string_view name) noexcept;
std::vector<std::string_view> embedded_names();

// The lines of an embedded data file: `#` starts a comment, surrounding blanks are
// dropped, empty lines skipped. Views into the library (empty for an unknown file).
std::vector<std::string_view> embedded_lines(std::string_view name);

}  // namespace conjure
