#pragma once
// Layer programs: what a model computes, as data. A program is a list of ops over named chunk tensors
// ([rows][width] float buffers every chunk owns) and references to weights by name. Programs are built
// from ModelConfig (graph/model_program.h); backends compile them and never read ModelConfig; the
// reference interpreter (backend/reference_interpreter.h) runs them with plain loops.
#include <functional>
#include <string>
#include <vector>

namespace llmnpu {

// A chunk tensor: `width` floats per row. Transient tensors live only inside one subgraph (a backend may
// fuse them away, e.g. a linear's output added straight into the residual).
struct TensorDecl {
  std::string name;
  int width = 0;
  bool transient = false;
};

// Columns [col, col + cols) of a chunk tensor.
struct View {
  int tensor = -1;
  int col = 0;
  int cols = 0;
  bool operator==(const View&) const = default;
};

// A weight by name: layer -1 for the model's own ("output_norm", "output"); else a layer's ("attn_norm",
// "qkv", "o", "ffn_norm", "gate_up", "down", ...). Linears are resolved to LinearOps (fp32, int8, ...),
// vectors (norm weights and biases) to floats.
struct WeightRef {
  int layer = -1;
  std::string name;
  bool empty() const { return name.empty(); }
  std::string describe() const;  // "blk.3.qkv", "output"
  bool operator==(const WeightRef&) const = default;
};

enum class OpKind {
  Embed,            // out = embedding rows of the chunk's tokens * scale
  RmsNorm,          // out = in / rms(in) * (weight + offset)
  LayerNorm,        // out = (in - mean) / std * weight + bias
  Linear,           // out = in · W^T (+ bias inside the linear)
  Rope,             // rotates in[0] (queries) and in[1] (keys) in place at the chunk's positions
  Attention,        // out = causal attention of in[0] over the cache after appending in[1], in[2]
  Activation,       // out = act(in)
  GatedActivation,  // out = act(in[0]) * in[1]
  Add,              // out = in[0] + in[1]
  Softcap,          // out = cap * tanh(in / cap)
  Shadow,           // out += the shadow part of the int8 linear just before it (host work, see below)
};
enum class Activation { SiLU, Gelu, GeluTanh };
enum class RopeStyle { Interleaved, HalfSplit };
enum class RopeScale { None, Linear, Llama3 };

struct RopeSpec {
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int rotary_dims = 0;  // leading dims of each head that rotate (<= head_dim, even)
  RopeStyle style = RopeStyle::Interleaved;
  double base = 10000;
  RopeScale scaling = RopeScale::None;
  double factor = 1, low_freq_factor = 1, high_freq_factor = 4, original_context = 8192;
  std::vector<float> freq_factors;  // per pair: frequency divided by it (empty = none)
};

struct AttentionSpec {
  int n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int cache_layer = 0;  // which layer's keys and values in the KV cache
  float scale = 0;      // logits = q·k * scale
  int window = 0;       // sliding window: a query at p sees keys (p - window, p]; 0 = all
  float softcap = 0;    // logits = softcap * tanh(logits / softcap); 0 = none
};

struct Op {
  OpKind kind = OpKind::Add;
  std::vector<View> in;
  View out;
  WeightRef weight, bias;  // norms: weight and bias vectors; linear: the linear; embed: the table
  float eps = 0;           // norms
  float offset = 0;        // RMSNorm: multiply by (weight + offset)
  float scale = 1;         // Embed
  float cap = 0;           // Softcap
  Activation act = Activation::SiLU;
  RopeSpec rope;
  AttentionSpec attention;

  // Ops that depend on the chunk's position (RoPE, attention over the cache): their shape changes from
  // chunk to chunk, so they make a dynamic subgraph; everything else depends on the chunk length only.
  bool position_dependent() const { return kind == OpKind::Rope || kind == OpKind::Attention; }
};

const char* op_kind_name(OpKind kind);
const char* activation_name(Activation act);

// The whole model: tensors, the embedding, each layer's ops, and the head (final norm, output
// projection, ...; it runs on the rows whose logits are wanted and writes `logits`).
struct ModelProgram {
  std::vector<TensorDecl> tensors;
  int residual = -1;  // the tensor the embedding writes and every layer updates
  int logits = -1;    // the head's output ([logit rows][vocab])
  Op embed;
  std::vector<std::vector<Op>> layers;
  std::vector<Op> head;

  const TensorDecl& tensor(int id) const { return tensors.at(size_t(id)); }
  View whole(int id) const { return {id, 0, tensor(id).width}; }
};

// One op as text: "xb = rms_norm(x, blk.0.attn_norm, eps 1e-06)".
std::string format_op(const ModelProgram& program, const Op& op);
// The whole program, one op per line, layers after the first summarized when identical in shape.
std::string format_program(const ModelProgram& program, bool every_layer = false);

// Shadow outliers as host work: after each int8 linear whose shadow path is kept (has_shadow), a Shadow op
// on the same input, output and weight. It is float work for the host role (the linear's activation
// outliers times their weight rows), run beside the linear's int8 GEMM and merged into its output before
// the next op reads it. Only layer linears (the head is host work already).
void add_shadow_ops(ModelProgram& program, const std::function<bool(const WeightRef&)>& has_shadow);

// Checks views against tensor widths and op arity; throws Error naming the op.
void validate_program(const ModelProgram& program);

}  // namespace llmnpu
