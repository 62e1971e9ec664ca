#include "sim/cost_model.h"

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
  const double r = rows, dim = c.dim, q = c.q_dim(), kv = c.kv_dim(), ffn = c.ffn_dim;
  const WorkKind linear = sg.role == Role::Accelerator ? WorkKind::Int8 : WorkKind::Float;
  switch (sg.op) {
    case SubgraphOp::Qkv: return {linear, r * dim * (q + 2 * kv)};
    case SubgraphOp::OMlp: return {linear, r * (q * dim + dim * 2 * ffn + ffn * dim)};
    case SubgraphOp::Attention: {
      // sum over r of (pos0 + r + 1) keys: QK^T and PV each cost head_dim MACs per key and head.
      double keys = r * double(pos0) + r * (r + 1) / 2;
      return {WorkKind::Attention, double(c.n_heads) * double(c.head_dim) * 2 * keys};
    }
    case SubgraphOp::Head: return {WorkKind::Float, double(head_rows) * dim * double(c.vocab_size)};
  }
  return {};
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
