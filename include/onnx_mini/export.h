/* ONNX_MINI_API marks what libonnx_mini.so exports. The library is built with
 * -fvisibility=hidden (and a version script, cmake/onnx_mini.map), so only the
 * public API's symbols are part of its ABI; the IR, the kernels and protobuf
 * stay inside. The same attribute serves the build and its users (ELF needs no
 * import/export distinction), and it is harmless in the static library. */
#ifndef ONNX_MINI_EXPORT_H
#define ONNX_MINI_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define ONNX_MINI_API __attribute__((visibility("default")))
#else
#define ONNX_MINI_API
#endif

#endif /* ONNX_MINI_EXPORT_H */
