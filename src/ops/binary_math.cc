// Binary ops with an attribute choosing their arithmetic, numpy broadcasting:
// Mod (fmod 0: Python's remainder, the sign of the divisor; fmod 1: C's fmod,
// the sign of the dividend) and BitShift (LEFT/RIGHT on unsigned integers).
#include <cmath>
#include <string>

#include "ops/broadcast.h"
#include "ops/elementwise_util.h"
#include "ops/registry.h"

namespace onnx_mini {
namespace {

Status check_same_dtype(const Tensor& a, const Tensor& b) {
  if (a.dtype() == b.dtype()) return Status::ok();
  return bad_input("inputs 'A' and 'B' differ in dtype: " + dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
}

// Integer remainders. x % -1 is 0 (computed without the division that traps
// on INT_MIN % -1); the divisor was checked for zero beforehand.
template <typename T>
T truncated_remainder(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == T{-1}) return T{0};
  }
  return static_cast<T>(a % b);
}
template <typename T>
T floored_remainder(T a, T b) {
  T r = truncated_remainder(a, b);
  if constexpr (std::is_signed_v<T>) {
    if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
  }
  return r;
}

template <typename T>
Status check_no_zero_divisor(const Tensor& b) {
  const T* p = b.data<T>();
  for (int64_t i = 0; i < b.num_elements(); ++i) {
    if (p[i] == T{0}) return bad_input("input 'B': integer modulo by zero at flat index " + std::to_string(i));
  }
  return Status::ok();
}

// Mod-10. Floating-point inputs need fmod = 1 (the specification's rule: a
// floored float remainder is not defined); fmod(x, 0) is NaN, fmod is exact.
class Mod final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(int64_t f, node.attrs().get_int("fmod", 0));
    if (f != 0 && f != 1) return invalid_model("attribute 'fmod' must be 0 or 1, got " + std::to_string(f));
    fmod_ = f == 1;
    const TensorInfo* a = node.input(0);
    if (!fmod_ && a && dtype_is_float(a->dtype)) {
      return invalid_model("attribute 'fmod' must be 1 for floating-point inputs (" + dtype_name(a->dtype) + ")");
    }
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_same_dtype(a, b));
    if (dtype_is_float(a.dtype()) && !fmod_) {
      return invalid_model("attribute 'fmod' must be 1 for floating-point inputs (" + dtype_name(a.dtype()) + ")");
    }
    OM_ASSIGN_OR_RETURN(Tensor * y, broadcast_output(ctx, 0, a.shape(), b.shape(), a.dtype()));
    if (dispatch_float(a.dtype(), [&](auto tag) {
          using T = decltype(tag);
          broadcast_apply<T, T, T>(a, b, *y, [](T x, T d) { return std::fmod(x, d); });
        })) {
      return Status::ok();
    }
    Status st;
    bool ok = dispatch_arithmetic(a.dtype(), [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_integral_v<T>) {
        st = check_no_zero_divisor<T>(b);
        if (!st.is_ok()) return;
        if (fmod_) {
          broadcast_apply<T, T, T>(a, b, *y, [](T x, T d) { return truncated_remainder(x, d); });
        } else {
          broadcast_apply<T, T, T>(a, b, *y, [](T x, T d) { return floored_remainder(x, d); });
        }
      }
    });
    if (!ok) return unsupported("dtype " + dtype_name(a.dtype()));
    return st;
  }

 private:
  bool fmod_ = false;
};

// BitShift-11 on uint8/16/32/64. A shift by the type's width or more gives 0
// (every bit shifted out), where C++ leaves it undefined.
class BitShift final : public Kernel {
 public:
  Status init(const NodeInfo& node) {
    OM_ASSIGN_OR_RETURN(std::string d, node.attrs().get_string("direction", ""));
    if (d.empty()) return invalid_model("attribute 'direction' (LEFT or RIGHT) is required");
    if (d != "LEFT" && d != "RIGHT") return invalid_model("attribute 'direction' must be LEFT or RIGHT, got '" + d + "'");
    left_ = d == "LEFT";
    return Status::ok();
  }
  Status run(KernelContext& ctx) const override {
    const Tensor& a = *ctx.input(0);
    const Tensor& b = *ctx.input(1);
    OM_RETURN_IF_ERROR(check_same_dtype(a, b));
    OM_ASSIGN_OR_RETURN(Tensor * y, broadcast_output(ctx, 0, a.shape(), b.shape(), a.dtype()));
    auto shift = [&](auto tag) {
      using T = decltype(tag);
      constexpr T kBits = static_cast<T>(sizeof(T) * 8);
      if (left_) {
        broadcast_apply<T, T, T>(a, b, *y, [](T x, T s) { return s >= kBits ? T{0} : static_cast<T>(x << s); });
      } else {
        broadcast_apply<T, T, T>(a, b, *y, [](T x, T s) { return s >= kBits ? T{0} : static_cast<T>(x >> s); });
      }
    };
    switch (a.dtype()) {
      case DataType::kUInt8: shift(uint8_t{}); return Status::ok();
      case DataType::kUInt16: shift(uint16_t{}); return Status::ok();
      case DataType::kUInt32: shift(uint32_t{}); return Status::ok();
      case DataType::kUInt64: shift(uint64_t{}); return Status::ok();
      default: return unsupported("input 'X': dtype " + dtype_name(a.dtype()) + " (BitShift takes unsigned integers)");
    }
  }

 private:
  bool left_ = true;
};

}  // namespace

void register_binary_math_ops(OpRegistry& r) {
  r.add({.op_type = "Mod", .since_version = 10, .min_inputs = 2, .max_inputs = 2, .attributes = {"fmod"},
         .infer = infer_broadcast, .create = make_kernel<Mod>(), .also_since = {13}});
  r.add({.op_type = "BitShift", .since_version = 11, .min_inputs = 2, .max_inputs = 2, .attributes = {"direction"},
         .infer = infer_broadcast, .create = make_kernel<BitShift>()});
}

}  // namespace onnx_mini
