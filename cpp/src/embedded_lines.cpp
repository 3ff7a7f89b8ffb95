// embedded_lines(): the one reader of cpp/data line files (word lists, voice lists).
#include <string_view>
#include <vector>

#include "conjure/embedded.hpp"

namespace conjure {

std::vector<std::string_view> embedded_lines(std::string_view name) {
  std::vector<std::string_view> out;
  std::string_view data = embedded_file(name);
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos) eol = data.size();
    std::string_view line = data.substr(pos, eol - pos);
    pos = eol + 1;
    if (std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace conjure
