#pragma once
// Text from files and flags shown in messages: control bytes escaped as \xNN so that a hostile file
// cannot move the terminal's cursor or split a one-line error, and long values cut short.
#include <cstddef>
#include <string>
#include <string_view>

namespace llmnpu {

// Escapes bytes below 0x20 and 0x7f; keeps at most max_bytes of the input, marking a cut with "...".
std::string printable(std::string_view text, size_t max_bytes = std::string_view::npos);

// v with exactly `decimals` digits after the point ("%.*f"), for numbers in text output.
std::string fixed(double v, int decimals);

}  // namespace llmnpu
