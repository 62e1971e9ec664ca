#include "sim/cost_model.h"

#include <algorithm>

#include "core/error.h"

namespace llmnpu::sim {

const char* work_kind_name(WorkKind kind) {
  switch (kind) {
    case WorkKind::Int8: return "int8";
    case WorkKind::Float: return "float";
    case WorkKind::Attention: return "attention";
  }
  return "?";
}

SubgraphWork subgraph_work(const ModelConfig& c, const Subgraph& sg, int pos0, int rows, int head_rows) {
  (void)c;
  const double r = sg.head ? head_rows : rows;
  SubgraphWork work;
  work.kind = sg.role == Role::Accelerator ? WorkKind::Int8 : WorkKind::Float;
  for (const Op& op : sg.ops) {
    if (op.kind == OpKind::Linear) work.macs += r * double(op.in[0].cols) * double(op.out.cols);
    if (op.kind == OpKind::Attention) {
      // Row i (at position pos0 + i) sees min(pos0 + i + 1, window) keys with the causal mask; QK^T and
      // PV each cost head_dim MACs per key and head.
      double keys = 0;
      const int window = op.attention.window;
      if (window <= 0) {
        keys = r * double(pos0) + r * (r + 1) / 2;
      } else {
        for (int i = 0; i < rows; ++i) keys += std::min(double(pos0 + i + 1), double(window));
      }
      work.kind = WorkKind::Attention;
      work.macs += double(op.attention.n_heads) * double(op.attention.head_dim) * 2 * keys;
    }
  }
  return work;
}

double shadow_macs(const Subgraph& sg, int rows, double entries_per_row) {
  double macs = 0;
  for (const Op& op : sg.ops)
    if (op.kind == OpKind::Shadow) macs += double(rows) * entries_per_row * double(op.out.cols);
  return macs;
}

double work_rate(const DeviceProfile& device, const ProcessorProfile& proc, WorkKind kind) {
  double gmacs = kind == WorkKind::Int8    ? proc.int8_gmacs
                 : kind == WorkKind::Float ? proc.float_gmacs
                                           : device.attention_gmacs(proc);
  check(gmacs > 0, "device profile '", device.name, "': processor '", proc.name, "' cannot run ",
        work_kind_name(kind), " work (its rate is 0)");
  return gmacs * 1e9;
}

double isolated_seconds(const DeviceProfile& device, const ProcessorProfile& proc, const SubgraphWork& work) {
  return proc.launch_s + work.macs / work_rate(device, proc, work.kind);
}

}  // namespace llmnpu::sim
