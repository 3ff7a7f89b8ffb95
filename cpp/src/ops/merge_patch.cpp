// RFC 7386 JSON merge patch.
#include "conjure/ops/ops.hpp"

namespace conjure {

void merge_patch(Json& target, const Json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      target.erase(it.key());
    } else {
      merge_patch(target[it.key()], *it);
    }
  }
}

}  // namespace conjure
