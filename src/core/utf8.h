#pragma once
// UTF-8 helpers: validation, code point iteration, lossy decoding (U+FFFD per maximal invalid subpart,
// as Rust's from_utf8_lossy and the WHATWG decoder do).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmnpu::utf8 {

// Offset of the first byte that does not start a valid sequence; text.size() when all valid.
size_t first_invalid(std::string_view text);
// Throws Error "input is not valid UTF-8 at byte N" when text is not valid UTF-8.
void require_valid(std::string_view text);
// Length of the sequence starting with this lead byte (1 for invalid leads).
size_t sequence_length(uint8_t lead);

void append(std::string& out, uint32_t cp);
std::vector<uint32_t> decode(std::string_view valid_text);  // text must be valid UTF-8
std::string encode(const std::vector<uint32_t>& cps);

// Appends bytes to out as valid UTF-8, replacing invalid parts with U+FFFD. When hold_incomplete is set,
// a truncated but so-far valid sequence at the end is left unconsumed. Returns the bytes consumed.
size_t append_lossy(std::string& out, std::string_view bytes, bool hold_incomplete);
std::string lossy(std::string_view bytes);

}  // namespace llmnpu::utf8
