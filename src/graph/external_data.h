// External data: a tensor's bytes in a file next to the model, named by a path
// inside the model's folder. The file is reached component by component with
// O_NOFOLLOW from the folder (no symbolic link, no "..", no absolute path, no
// hard link), checked against the bytes the tensor needs, then mapped.
#pragma once

#include <onnx/onnx_pb.h>

#include "graph/tensor_proto.h"

namespace onnx_mini {

// The tensor of dtype and shape (`bytes` long) that proto's external_data
// describes: a view of the mapped file, or one aligned copy when the offset does
// not suit the dtype. Every refusal is an invalid_model error naming src.what.
Result<Tensor> load_external_data(const onnx::TensorProto& proto, DataType dtype, const Shape& shape, int64_t bytes,
                                  const TensorSource& src);

}  // namespace onnx_mini
