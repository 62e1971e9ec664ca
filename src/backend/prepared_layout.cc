#include "backend/prepared_layout.h"

#include "backend/int8_linear.h"
#include "quant/prepared_model.h"

namespace llmnpu {

PreparedLayout prepared_layout(const PreparedGraph& prepared, const GgufFile& file) {
  PreparedLayout layout;
  const std::string prefix = "llmnpu.prepared.";
  for (const auto& [key, value] : file.metadata()) {
    if (key.rfind(prefix, 0) != 0 || value.type == GgufType::ARRAY) continue;
    if (key == prefix + "version") layout.version = int(value.as_int());
    layout.settings.emplace_back(key.substr(prefix.size()), value.summary());
  }
  for (size_t i = 0; i < prepared.linears.size(); ++i) {
    const Int8Linear& op = *prepared.linears[i];
    PreparedLinearInfo info;
    info.name =
        quant::linear_name(int(i) / quant::kSlotsPerLayer, quant::LinearSlot(int(i) % quant::kSlotsPerLayer));
    info.in = op.in_features();
    info.out = op.out_features();
    info.per_channel_weights = op.per_channel_weights();
    info.act_scale = op.act_scale();
    info.shadow = op.shadow();
    info.hot_channels = op.hot_count();
    info.weight_outliers = op.weight_outlier_count();
    info.row_entry_budget = op.row_entry_budget();
    info.int8_bytes = op.int8_weight_bytes();
    info.resident_bytes = op.resident_shadow_bytes();
    layout.int8_bytes += info.int8_bytes;
    layout.resident_bytes += info.resident_bytes;
    layout.shadowed_linears += info.shadow ? 1 : 0;
    layout.linears.push_back(std::move(info));
  }
  return layout;
}

}  // namespace llmnpu
