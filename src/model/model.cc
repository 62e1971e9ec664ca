#include "model/model.h"

namespace llmnpu {

float* Model::own(std::vector<float> data) {
  auto buffer = std::make_shared<std::vector<float>>(std::move(data));
  float* p = buffer->data();
  keep_alive.push_back(std::move(buffer));
  return p;
}

}  // namespace llmnpu
