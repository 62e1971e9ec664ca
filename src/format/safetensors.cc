#include "format/safetensors.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "format/json_document.h"

namespace llmnpu {

namespace {

constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;  // real headers are kilobytes to a few MB

struct DtypeInfo {
  const char* name;
  size_t bytes;
  bool float_readable;
  GgmlType type;
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", 4, true, GgmlType::F32},     {"F16", 2, true, GgmlType::F16},
    {"BF16", 2, true, GgmlType::BF16},   {"F64", 8, false, GgmlType::F64},
    {"I64", 8, false, GgmlType::I64},    {"I32", 4, false, GgmlType::I32},
    {"I16", 2, false, GgmlType::I16},    {"I8", 1, false, GgmlType::I8},
    {"U8", 1, false, GgmlType::I8},      {"BOOL", 1, false, GgmlType::I8},
    {"U16", 2, false, GgmlType::I16},    {"U32", 4, false, GgmlType::I32},
    {"U64", 8, false, GgmlType::I64},    {"F8_E4M3", 1, false, GgmlType::I8},
    {"F8_E5M2", 1, false, GgmlType::I8},
};

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const char* dtype_name(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return "F32";
    case GgmlType::F16: return "F16";
    case GgmlType::BF16: return "BF16";
    default: fail("safetensors writer: type ", ggml_type_name(t), " is not supported (F32, F16, BF16 are)");
  }
}

}  // namespace

uint64_t SafetensorsTensor::elements() const {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : file_(std::make_shared<MappedFile>(path)) {
  const size_t size = file_->size();
  check(size >= 8, "'", path, "' is not a safetensors file (shorter than its 8-byte header length)");
  uint64_t header_len;
  std::memcpy(&header_len, file_->data(), 8);
  check(header_len <= kMaxHeaderBytes, "'", path, "': safetensors header length ", header_len,
        " is implausible");
  check(header_len <= size - 8, "'", path, "' is truncated: header needs ", header_len, " bytes, file has ",
        size - 8, " after the length");
  const char* text = reinterpret_cast<const char*>(file_->data() + 8);
  const Json header =
      parse_json_document(std::string_view(text, header_len), "'" + path + "' safetensors header");
  check(header.is_object(), "'", path, "': safetensors header is not a JSON object");

  const uint8_t* data = file_->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& entry = it.value();
    if (name == "__metadata__") {
      check(entry.is_object(), "'", path, "': __metadata__ is not an object");
      for (auto m = entry.begin(); m != entry.end(); ++m) {
        check(m.value().is_string(), "'", path, "': __metadata__ value '", m.key(), "' is not a string");
        metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& why) { fail("'", path, "': tensor '", name, "' ", why); };
    if (!entry.is_object()) bad("is not described by an object");
    auto dtype = entry.find("dtype");
    auto shape = entry.find("shape");
    auto offsets = entry.find("data_offsets");
    if (dtype == entry.end() || !dtype->is_string()) bad("has no dtype string");
    if (shape == entry.end() || !shape->is_array()) bad("has no shape array");
    if (offsets == entry.end() || !offsets->is_array() || offsets->size() != 2)
      bad("has no data_offsets pair");

    SafetensorsTensor t;
    t.name = name;
    t.dtype = dtype->get<std::string>();
    const DtypeInfo* info = find_dtype(t.dtype);
    if (!info) bad("has unknown dtype '" + t.dtype + "'");
    t.float_readable = info->float_readable;
    t.type = info->type;
    check(shape->size() <= 8, "'", path, "': tensor '", name, "' has rank ", shape->size());
    uint64_t elements = 1;
    for (const auto& d : *shape) {
      if (!d.is_number_unsigned()) bad("has a shape entry that is not a non-negative integer");
      uint64_t v = d.get<uint64_t>();
      if (__builtin_mul_overflow(elements, v, &elements) || elements > (uint64_t(1) << 40))
        bad("is implausibly large");
      t.shape.push_back(v);
    }
    for (const auto& o : *offsets)
      if (!o.is_number_unsigned()) bad("has data_offsets that are not non-negative integers");
    uint64_t begin = (*offsets)[0].get<uint64_t>(), end = (*offsets)[1].get<uint64_t>();
    if (begin > end) bad(str("has data_offsets ", begin, " > ", end));
    if (end > data_size)
      bad(str("has data_offsets [", begin, ", ", end, ") past the ", data_size, " data bytes"));
    if (end - begin != elements * info->bytes)
      bad(str("has ", end - begin, " bytes but dtype ", t.dtype, " and its shape need ",
              elements * info->bytes));
    t.data = data + begin;
    t.nbytes = size_t(end - begin);
    ranges.emplace_back(begin, end);
    index_[name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k)
    check(ranges[k].first >= ranges[k - 1].second, "'", path, "': tensor data ranges overlap at byte ",
          ranges[k].first);
  // File order (by offset) reads more naturally in `inspect` than JSON key order.
  std::sort(tensors_.begin(), tensors_.end(), [](const auto& a, const auto& b) { return a.data < b.data; });
  for (size_t k = 0; k < tensors_.size(); ++k) index_[tensors_[k].name] = k;
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsSet::SafetensorsSet(const std::string& folder) {
  namespace fs = std::filesystem;
  const fs::path dir(folder);
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    const Json j = read_json_document(index.string());
    check(j.is_object(), "'", index.string(), "' is not a JSON object");
    auto map = j.find("weight_map");
    check(map != j.end() && map->is_object(), "'", index.string(), "' has no weight_map object");
    std::map<std::string, SafetensorsFile*> opened;
    for (auto it = map->begin(); it != map->end(); ++it) {
      check(it.value().is_string(), "'", index.string(), "': weight_map entry '", it.key(),
            "' is not a file name");
      std::string shard = it.value().get<std::string>();
      // Shards must sit in the folder itself: no paths that climb out of it.
      check(!shard.empty() && shard.find('/') == std::string::npos && shard.find('\\') == std::string::npos &&
                shard != "." && shard != "..",
            "'", index.string(), "': shard name '", shard, "' is not a plain file name");
      if (!opened.count(shard)) {
        files_.push_back(std::make_unique<SafetensorsFile>((dir / shard).string()));
        opened[shard] = files_.back().get();
      }
      const SafetensorsTensor* t = opened[shard]->find(it.key());
      check(t != nullptr, "'", index.string(), "' says tensor '", it.key(), "' is in '", shard,
            "' but it is not");
      by_name_[it.key()] = t;
    }
  } else {
    const fs::path single = dir / "model.safetensors";
    check(fs::exists(single), "'", folder,
          "' has neither model.safetensors nor model.safetensors.index.json");
    files_.push_back(std::make_unique<SafetensorsFile>(single.string()));
    for (const auto& t : files_.back()->tensors()) by_name_[t.name] = &t;
  }
}

const SafetensorsTensor* SafetensorsSet::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<const SafetensorsTensor*> SafetensorsSet::tensors() const {
  std::vector<const SafetensorsTensor*> out;
  for (const auto& f : files_)
    for (const auto& t : f->tensors())
      if (find(t.name) == &t) out.push_back(&t);
  return out;
}

void SafetensorsWriter::add_tensor(const std::string& name, GgmlType type, const std::vector<uint64_t>& shape,
                                   const void* data, size_t nbytes) {
  check(!name.empty() && name != "__metadata__", "safetensors writer: bad tensor name '", name, "'");
  for (const auto& t : tensors_) check(t.name != name, "safetensors writer: duplicate tensor '", name, "'");
  dtype_name(type);  // rejects unsupported types now rather than at write time
  uint64_t elements = 1;
  for (auto d : shape) elements *= d;
  check(elements * (type == GgmlType::F32 ? 4 : 2) == nbytes, "safetensors writer: tensor '", name,
        "' needs ", elements * (type == GgmlType::F32 ? 4 : 2), " bytes, got ", nbytes);
  tensors_.push_back({name, type, shape, data, nbytes});
}

void SafetensorsWriter::write(const std::string& path) const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    header[t.name] = {
        {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference writer does
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    check(out.good(), "cannot create '", tmp, "'");
    uint64_t len = text.size();
    out.write(reinterpret_cast<const char*>(&len), 8);
    out.write(text.data(), std::streamsize(text.size()));
    for (const auto& t : tensors_) out.write(static_cast<const char*>(t.data), std::streamsize(t.nbytes));
    out.flush();
    if (!out.good()) {
      out.close();
      std::remove(tmp.c_str());
      fail("writing '", tmp, "' failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    fail("cannot rename '", tmp, "' to '", path, "': ", ec.message());
  }
}

}  // namespace llmnpu
