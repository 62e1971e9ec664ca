#pragma once
// GPT-2's reversible byte <-> printable-character mapping used by byte-level BPE vocabularies:
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmnpu::byte_unicode {

uint32_t byte_to_codepoint(uint8_t b);
const std::string& byte_to_utf8(uint8_t b);  // the mapped character as UTF-8
// Maps the characters of a vocab piece back to raw bytes; false when a character is not a mapped byte.
bool piece_to_bytes(std::string_view piece, std::string& out);

}  // namespace llmnpu::byte_unicode
