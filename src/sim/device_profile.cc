#include "sim/device_profile.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "format/json_document.h"

namespace llmnpu::sim {

using nlohmann::json;

namespace {

// Rejects keys the format does not know: a misspelt field would otherwise silently keep its default.
void check_keys(const json& object, const std::set<std::string>& known, const std::string& where) {
  for (const auto& [key, value] : object.items())
    check(known.count(key) > 0, where, ": unknown field '", key, "'");
}

double number(const json& object, const char* key, const std::string& where, bool required) {
  if (!object.contains(key)) {
    check(!required, where, ": missing field '", key, "'");
    return 0;
  }
  const json& v = object.at(key);
  check(v.is_number(), where, ": field '", key, "' must be a number");
  double d = v.get<double>();
  check(std::isfinite(d) && d >= 0, where, ": field '", key, "' must be a finite number >= 0, got ", d);
  return d;
}

std::optional<double> optional_number(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key)) return std::nullopt;
  return number(object, key, where, true);
}

std::string text(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key)) return {};
  check(object.at(key).is_string(), where, ": field '", key, "' must be a string");
  return object.at(key).get<std::string>();
}

ProcessorProfile parse_processor(const json& j, const std::string& where) {
  check(j.is_object(), where, " must be an object");
  check_keys(
      j, {"name", "int8_gmacs", "float_gmacs", "attention_gmacs", "launch_s", "sync_s", "busy_w", "idle_w"},
      where);
  ProcessorProfile p;
  p.name = text(j, "name", where);
  p.int8_gmacs = number(j, "int8_gmacs", where, true);
  p.float_gmacs = number(j, "float_gmacs", where, true);
  p.attention_gmacs = optional_number(j, "attention_gmacs", where);
  p.launch_s = number(j, "launch_s", where, false);
  p.sync_s = number(j, "sync_s", where, false);
  p.busy_w = optional_number(j, "busy_w", where);
  p.idle_w = optional_number(j, "idle_w", where);
  check(p.busy_w.has_value() == p.idle_w.has_value(), where, ": give both busy_w and idle_w, or neither");
  check(p.int8_gmacs > 0 || p.float_gmacs > 0, where, ": int8_gmacs and float_gmacs are both 0");
  return p;
}

json processor_json(const ProcessorProfile& p) {
  json j = {{"name", p.name}, {"int8_gmacs", p.int8_gmacs}, {"float_gmacs", p.float_gmacs}};
  if (p.attention_gmacs) j["attention_gmacs"] = *p.attention_gmacs;
  j["launch_s"] = p.launch_s;
  j["sync_s"] = p.sync_s;
  if (p.busy_w) j["busy_w"] = *p.busy_w;
  if (p.idle_w) j["idle_w"] = *p.idle_w;
  return j;
}

}  // namespace

DeviceProfile parse_device_profile(const std::string& json_text, const std::string& origin) {
  const std::string where = "device profile '" + origin + "'";
  const json j = parse_json_document(json_text, where);
  check(j.is_object(), where, ": expected a JSON object");
  check_keys(j,
             {"name", "description", "accelerator", "host", "homogeneous", "attention_efficiency",
              "computes_padding", "notes"},
             where);
  check(j.contains("accelerator"), where, ": missing field 'accelerator'");
  check(j.contains("host"), where, ": missing field 'host'");
  DeviceProfile d;
  d.name = text(j, "name", where);
  d.description = text(j, "description", where);
  d.accelerator = parse_processor(j.at("accelerator"), where + " accelerator");
  d.host = parse_processor(j.at("host"), where + " host");
  if (j.contains("homogeneous")) d.homogeneous = parse_processor(j.at("homogeneous"), where + " homogeneous");
  if (j.contains("attention_efficiency")) {
    d.attention_efficiency = number(j, "attention_efficiency", where, true);
    check(d.attention_efficiency > 0, where, ": attention_efficiency must be > 0");
  }
  if (j.contains("computes_padding")) {
    check(j.at("computes_padding").is_boolean(), where, ": field 'computes_padding' must be true or false");
    d.computes_padding = j.at("computes_padding").get<bool>();
  }
  if (j.contains("notes")) {
    const json& n = j.at("notes");
    check(n.is_array(), where, ": field 'notes' must be an array of strings");
    for (const json& line : n) {
      check(line.is_string(), where, ": field 'notes' must be an array of strings");
      d.notes.push_back(line.get<std::string>());
    }
  }
  return d;
}

DeviceProfile load_device_profile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(bool(in), "cannot read device profile '", path, "'");
  std::ostringstream s;
  s << in.rdbuf();
  return parse_device_profile(s.str(), path);
}

std::string device_profile_to_json(const DeviceProfile& d) {
  json j = {{"name", d.name}, {"description", d.description}};
  j["accelerator"] = processor_json(d.accelerator);
  j["host"] = processor_json(d.host);
  if (d.homogeneous) j["homogeneous"] = processor_json(*d.homogeneous);
  j["attention_efficiency"] = d.attention_efficiency;
  j["computes_padding"] = d.computes_padding;
  j["notes"] = d.notes;
  return j.dump(2) + "\n";
}

void save_device_profile(const DeviceProfile& profile, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  check(bool(out), "cannot write device profile '", path, "'");
  out << device_profile_to_json(profile);
  check(bool(out), "cannot write device profile '", path, "'");
}

}  // namespace llmnpu::sim
