#pragma once
// How much work each subgraph of a chunk is, and how long it takes on a processor of a device profile.
// Counts are multiply-accumulates (MACs) summed over the subgraph's program; elementwise work (norms,
// RoPE, activations, softmax) is left out.
//   linear    rows x in x out (head_rows for the head)
//   attention n_heads x head_dim x 2 x (keys summed over the rows: row r of chunk i at position
//             pos0 + r sees pos0 + r + 1 keys with the causal mask, at most the sliding window)
// Linears are int8 work when the subgraph has the accelerator role (a prepared W8A8 model), float
// work otherwise; attention and the head are always float.
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

// Float MACs of a subgraph's shadow ops for `rows` rows at entries_per_row outlier entries per row and op.
double shadow_macs(const Subgraph& sg, int rows, double entries_per_row);

// Rate of a processor for a kind of work, MAC/s; throws Error when the processor cannot do that work.
double work_rate(const DeviceProfile& device, const ProcessorProfile& proc, WorkKind kind);

// launch + compute (no sync: that depends on where the inputs ran).
double isolated_seconds(const DeviceProfile& device, const ProcessorProfile& proc, const SubgraphWork& work);

}  // namespace llmnpu::sim
