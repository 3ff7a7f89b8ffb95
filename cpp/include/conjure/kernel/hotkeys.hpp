// Hotkeys the player's own controls use.
#pragma once
#include <string_view>

namespace conjure {

// True for W, A, S, D (any case) and the digits: WASD move the player, digits pick from
// the listed events (the `reserved-hotkey` lint).
bool is_reserved_hotkey(std::string_view hotkey) noexcept;

}  // namespace conjure
