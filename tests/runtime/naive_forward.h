#pragma once
// A deliberately naive float forward pass, one token at a time with plain loops (llama2.c run.c style),
// written independently of the engine's kernels. Tests compare the engine against it.
#include <vector>

#include "model/model.h"

namespace llmnpu::test {

class NaiveForward {
 public:
  explicit NaiveForward(const Model& model, int context);
  // Logits for `token` at the next position.
  std::vector<float> step(int token);

 private:
  const Model& m_;
  int pos_ = 0;
  int context_;
  std::vector<std::vector<float>> k_cache_, v_cache_;  // per layer [context][kv_dim]
};

}  // namespace llmnpu::test
