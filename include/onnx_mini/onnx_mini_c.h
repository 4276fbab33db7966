/* The C API of onnx-mini, for FFI users: opaque handles, error objects with a
 * code (onnx-run's exit codes) and a message, no C++ type across the boundary.
 * Every function that can fail returns an onnx_mini_error* (NULL on success)
 * which the caller frees with onnx_mini_error_free. Strings and arrays returned
 * by the library live as long as the handle they came from.
 * onnx_mini_session_run may be called from many threads at once on one session. */
#ifndef ONNX_MINI_C_H
#define ONNX_MINI_C_H

#include <stddef.h>
#include <stdint.h>

#include "onnx_mini/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct onnx_mini_session onnx_mini_session;
typedef struct onnx_mini_options onnx_mini_options;
typedef struct onnx_mini_error onnx_mini_error;

enum onnx_mini_error_code {
  ONNX_MINI_OK = 0,
  ONNX_MINI_USAGE = 2,          /* API misuse: unknown output, buffer too small, null argument */
  ONNX_MINI_INVALID_MODEL = 3,
  ONNX_MINI_UNSUPPORTED = 4,
  ONNX_MINI_BAD_INPUT = 5,      /* fed data does not fit the model */
  ONNX_MINI_RESOURCE_LIMIT = 6,
  ONNX_MINI_INTERNAL = 70
};

/* ONNX TensorProto.DataType numbers: 1 float, 7 int64, 9 bool, 11 double, ... */
typedef int32_t onnx_mini_element_type;

/* "MAJOR.MINOR.PATCH" */
ONNX_MINI_API const char* onnx_mini_version(void);

ONNX_MINI_API int onnx_mini_error_code(const onnx_mini_error* error);
ONNX_MINI_API const char* onnx_mini_error_message(const onnx_mini_error* error);
ONNX_MINI_API void onnx_mini_error_free(onnx_mini_error* error);

/* Options: threads 0 = online CPUs; opt_level 0 = no graph rewrites (default 1). */
ONNX_MINI_API onnx_mini_options* onnx_mini_options_create(void);
ONNX_MINI_API void onnx_mini_options_set_threads(onnx_mini_options* options, int threads);
ONNX_MINI_API void onnx_mini_options_set_opt_level(onnx_mini_options* options, int opt_level);
/* Limits of one run (each past it is ONNX_MINI_RESOURCE_LIMIT): bytes of its
 * buffers (default 16 GiB), and subgraph runs, i.e. Loop iterations and If
 * branches (default 2^24; a Loop's trip count is data). */
ONNX_MINI_API void onnx_mini_options_set_max_memory_bytes(onnx_mini_options* options, int64_t bytes);
ONNX_MINI_API void onnx_mini_options_set_max_loop_iterations(onnx_mini_options* options, int64_t iterations);
ONNX_MINI_API void onnx_mini_options_free(onnx_mini_options* options);

/* options may be NULL (defaults). On success *out is a session to free. */
ONNX_MINI_API onnx_mini_error* onnx_mini_session_load(const char* path, const onnx_mini_options* options, onnx_mini_session** out);
ONNX_MINI_API onnx_mini_error* onnx_mini_session_load_bytes(const void* data, size_t size,
                                                            const onnx_mini_options* options, onnx_mini_session** out);
ONNX_MINI_API void onnx_mini_session_free(onnx_mini_session* session);

/* What the model declares for an input or output. dims[d] < 0 is unknown;
 * symbols[d] is its name ("batch") or "" (rank entries each). */
typedef struct onnx_mini_value_info {
  const char* name;
  onnx_mini_element_type type;
  int64_t rank; /* -1: unknown */
  const int64_t* dims;
  const char* const* symbols;
} onnx_mini_value_info;

ONNX_MINI_API size_t onnx_mini_session_input_count(const onnx_mini_session* session);
ONNX_MINI_API size_t onnx_mini_session_output_count(const onnx_mini_session* session);
ONNX_MINI_API onnx_mini_error* onnx_mini_session_input_info(const onnx_mini_session* session, size_t index, onnx_mini_value_info* out);
ONNX_MINI_API onnx_mini_error* onnx_mini_session_output_info(const onnx_mini_session* session, size_t index, onnx_mini_value_info* out);

/* A tensor crossing the boundary. Inputs: name, type, rank, shape and data are
 * read (not kept after the call). Outputs: name, data, capacity_bytes, shape
 * (room for max_rank entries) are the caller's; run writes type, rank, shape
 * and the data. */
typedef struct onnx_mini_tensor {
  const char* name;
  onnx_mini_element_type type;
  int64_t rank;
  int64_t* shape;
  int64_t max_rank;
  void* data;
  size_t capacity_bytes;
} onnx_mini_tensor;

ONNX_MINI_API onnx_mini_error* onnx_mini_session_run(const onnx_mini_session* session, const onnx_mini_tensor* inputs,
                                                     size_t num_inputs, onnx_mini_tensor* outputs, size_t num_outputs);

#ifdef __cplusplus
}
#endif

#endif /* ONNX_MINI_C_H */
