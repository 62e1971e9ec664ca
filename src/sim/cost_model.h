#pragma once
// How much work each subgraph of a chunk is, and how long it takes on a processor of a device profile.
// Counts are multiply-accumulates (MACs); elementwise work (norms, RoPE, SiLU, softmax) is left out.
//   Qkv       rows x dim x (q_dim + 2 kv_dim)
//   OMlp      rows x (q_dim x dim + dim x 2 ffn + ffn x dim)
//   Attention n_heads x head_dim x 2 x (keys summed over the rows: row r of chunk i at position
//             pos0 + r sees pos0 + r + 1 keys with the causal mask)
//   Head      head_rows x dim x vocab
// Qkv and OMlp are int8 work when the subgraph has the accelerator role (a prepared W8A8 model), float
// work otherwise; attention and head are always float.
#include "graph/subgraph.h"
#include "model/config.h"
#include "sim/device_profile.h"

namespace llmnpu::sim {

enum class WorkKind { Int8, Float, Attention };
const char* work_kind_name(WorkKind kind);

struct SubgraphWork {
  WorkKind kind = WorkKind::Float;
  double macs = 0;
};

// Work of subgraph sg for the chunk whose first row is at position pos0 with `rows` rows computed
// (padded rows count where the device computes them, see DeviceProfile::computes_padding); head_rows:
// rows whose logits are wanted.
SubgraphWork subgraph_work(const ModelConfig& config, const Subgraph& sg, int pos0, int rows, int head_rows);

// Rate of a processor for a kind of work, MAC/s; throws Error when the processor cannot do that work.
double work_rate(const DeviceProfile& device, const ProcessorProfile& proc, WorkKind kind);

// launch + compute (no sync: that depends on where the inputs ran).
double isolated_seconds(const DeviceProfile& device, const ProcessorProfile& proc, const SubgraphWork& work);

}  // namespace llmnpu::sim
