#include "core/utf8.h"

#include "core/error.h"

namespace llmnpu::utf8 {
namespace {

// Length of the valid prefix of a sequence at bytes[0..n): returns {consumed, complete}.
// consumed >= 1 always; complete=false means a maximal subpart that is either invalid or truncated.
struct Scan {
  size_t consumed;
  bool complete;
  bool truncated;  // stopped only because input ended
};

Scan scan(const uint8_t* p, size_t n) {
  uint8_t b = p[0];
  if (b < 0x80) return {1, true, false};
  size_t need;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    need = 1;
  } else if (b >= 0xE0 && b <= 0xEF) {
    need = 2;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    need = 3;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return {1, false, false};
  }
  size_t i = 1;
  for (; i <= need; ++i) {
    if (i >= n) return {i, false, true};
    uint8_t c = p[i];
    uint8_t l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (c < l || c > h) return {i, false, false};
  }
  return {i, true, false};
}

}  // namespace

size_t sequence_length(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF8) return 4;
  return 1;
}

size_t first_invalid(std::string_view text) {
  auto* p = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0, n = text.size();
  while (i < n) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    Scan s = scan(p + i, n - i);
    if (!s.complete) return i;
    i += s.consumed;
  }
  return n;
}

void require_valid(std::string_view text) {
  size_t bad = first_invalid(text);
  check(bad == text.size(), "input is not valid UTF-8 at byte ", bad);
}

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

std::vector<uint32_t> decode(std::string_view text) {
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  auto* p = reinterpret_cast<const uint8_t*>(text.data());
  size_t i = 0, n = text.size();
  while (i < n) {
    uint8_t b = p[i];
    size_t len = sequence_length(b);
    if (i + len > n) len = 1;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    cps.push_back(cp);
    i += len;
  }
  return cps;
}

std::string encode(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) append(out, cp);
  return out;
}

size_t append_lossy(std::string& out, std::string_view bytes, bool hold_incomplete) {
  auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t i = 0, n = bytes.size();
  while (i < n) {
    if (p[i] < 0x80) {
      out += char(p[i++]);
      continue;
    }
    Scan s = scan(p + i, n - i);
    if (s.complete) {
      out.append(bytes.substr(i, s.consumed));
    } else {
      if (s.truncated && hold_incomplete) return i;
      out += "\xEF\xBF\xBD";
    }
    i += s.consumed;
  }
  return n;
}

std::string lossy(std::string_view bytes) {
  std::string out;
  append_lossy(out, bytes, false);
  return out;
}

}  // namespace llmnpu::utf8
