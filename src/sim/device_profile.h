#pragma once
// A device profile: what the simulator needs to know about each processor of a device (docs/simulator.md
// documents every field). Rates are multiply-accumulates per second (1 MAC = 2 FLOP), in GMAC/s.
#include <optional>
#include <string>
#include <vector>

namespace llmnpu::sim {

struct ProcessorProfile {
  std::string name;
  double int8_gmacs = 0;                  // int8 GEMM rate; 0 = cannot run int8 work
  double float_gmacs = 0;                 // float GEMM rate; 0 = cannot run float work
  std::optional<double> attention_gmacs;  // float attention rate; unset = float_gmacs x attention_efficiency
  double launch_s = 0;                    // paid by every subgraph run
  double sync_s = 0;  // paid by a subgraph when one of its inputs was produced on another processor
  std::optional<double> busy_w, idle_w;  // power while running a subgraph / while waiting

  bool has_power() const { return busy_w.has_value() && idle_w.has_value(); }
  bool operator==(const ProcessorProfile&) const = default;
};

struct DeviceProfile {
  std::string name;
  std::string description;
  ProcessorProfile accelerator;                 // heterogeneous topology: runs the int8 static subgraphs
  ProcessorProfile host;                        // heterogeneous topology: runs the float subgraphs
  std::optional<ProcessorProfile> homogeneous;  // homogeneous topology: one processor runs everything
  double attention_efficiency = 1.0;            // attention rate / float GEMM rate where not given
  // A static-shape NPU computes the padded rows of a prompt's last chunk; the CPU backends of this
  // engine compute only its real rows (false in the profile --profile-this-machine writes).
  bool computes_padding = true;
  std::vector<std::string> notes;  // sources and derivations, free text

  double attention_gmacs(const ProcessorProfile& p) const {
    return p.attention_gmacs ? *p.attention_gmacs : p.float_gmacs * attention_efficiency;
  }
  bool operator==(const DeviceProfile&) const = default;
};

// Parses profile JSON; `origin` names the source in error messages. Throws llmnpu::Error on invalid JSON,
// unknown or mistyped fields, negative or non-finite numbers, or a processor that can run nothing.
DeviceProfile parse_device_profile(const std::string& json_text, const std::string& origin);
DeviceProfile load_device_profile(const std::string& path);
std::string device_profile_to_json(const DeviceProfile& profile);  // parse_device_profile reads it back
void save_device_profile(const DeviceProfile& profile, const std::string& path);

// The Snapdragon 8 Gen 3 class phone of the paper, derived in docs/simulator.md (the same numbers as
// sim/profiles/phone-snapdragon-8gen3.json).
DeviceProfile phone_profile();

}  // namespace llmnpu::sim
