/* onnx-mini from C (onnx_mini_c.h): load the model named on the command line,
 * print what it declares, run it on generated inputs, print the outputs.
 *   onnx_mini_c_example MODEL.onnx [BATCH]
 * The same inputs as the C++ example: symbolic and unknown dimensions take
 * BATCH (default 1); float inputs hold (i % 17 - 8) / 8 at flat index i,
 * int64 inputs i % 3. Output buffers are sized from the declared shapes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "onnx_mini/onnx_mini_c.h"

enum { kFloat = 1, kInt64 = 7, kMaxRank = 8, kShown = 32 };

static size_t element_size(onnx_mini_element_type type) {
  return type == kFloat ? 4 : type == kInt64 ? 8 : 0;
}

static const char* type_name(onnx_mini_element_type type) {
  return type == kFloat ? "float" : type == kInt64 ? "int64" : "other";
}

static int report(onnx_mini_error* error) {
  int code = onnx_mini_error_code(error);
  fprintf(stderr, "%s\n", onnx_mini_error_message(error));
  onnx_mini_error_free(error);
  return code;
}

static void print_info(const char* kind, const onnx_mini_value_info* info) {
  printf("%s %s %s (type %d) [", kind, info->name, type_name(info->type), (int)info->type);
  for (int64_t d = 0; d < info->rank; ++d) {
    if (d > 0) printf(", ");
    if (info->dims[d] >= 0) printf("%lld", (long long)info->dims[d]);
    else printf("%s", info->symbols[d][0] ? info->symbols[d] : "?");
  }
  printf(info->rank < 0 ? "?]\n" : "]\n");
}

/* Fills the tensor's shape from the declaration (unknown dims = batch) and
 * allocates its data; returns the element count, or -1 for an unsupported
 * type or a declaration without rank. */
static int64_t prepare(const onnx_mini_value_info* info, int64_t batch, onnx_mini_tensor* t) {
  if (element_size(info->type) == 0 || info->rank < 0 || info->rank > kMaxRank) return -1;
  int64_t count = 1;
  t->name = info->name;
  t->type = info->type;
  t->rank = info->rank;
  t->max_rank = kMaxRank;
  t->shape = calloc(kMaxRank, sizeof(int64_t));
  for (int64_t d = 0; d < info->rank; ++d) {
    t->shape[d] = info->dims[d] >= 0 ? info->dims[d] : batch;
    count *= t->shape[d];
  }
  t->capacity_bytes = (size_t)count * element_size(info->type);
  t->data = malloc(t->capacity_bytes ? t->capacity_bytes : 1);
  return count;
}

static void fill_input(onnx_mini_tensor* t, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    if (t->type == kFloat) ((float*)t->data)[i] = (float)(i % 17 - 8) / 8.0f;
    else ((int64_t*)t->data)[i] = i % 3;
  }
}

static void print_output(const onnx_mini_tensor* t) {
  int64_t count = 1;
  printf("%s %s [", t->name, type_name(t->type));
  for (int64_t d = 0; d < t->rank; ++d) {
    printf(d > 0 ? ", %lld" : "%lld", (long long)t->shape[d]);
    count *= t->shape[d];
  }
  printf("]:");
  for (int64_t i = 0; i < count && i < kShown; ++i) {
    if (t->type == kFloat) printf(" %.9g", ((const float*)t->data)[i]);
    else printf(" %lld", (long long)((const int64_t*)t->data)[i]);
  }
  if (count > kShown) printf(" ... (%lld values)", (long long)count);
  printf("\n");
}

static int run(const onnx_mini_session* session, int64_t batch) {
  size_t n_in = onnx_mini_session_input_count(session), n_out = onnx_mini_session_output_count(session);
  onnx_mini_tensor* inputs = calloc(n_in + 1, sizeof *inputs);
  onnx_mini_tensor* outputs = calloc(n_out + 1, sizeof *outputs);
  int status = 0;
  for (size_t i = 0; i < n_in + n_out && status == 0; ++i) {
    onnx_mini_value_info info;
    onnx_mini_error* e = i < n_in ? onnx_mini_session_input_info(session, i, &info)
                                  : onnx_mini_session_output_info(session, i - n_in, &info);
    if (e) {
      status = report(e);
      break;
    }
    print_info(i < n_in ? "input: " : "output:", &info);
    onnx_mini_tensor* t = i < n_in ? &inputs[i] : &outputs[i - n_in];
    int64_t count = prepare(&info, batch, t);
    if (count < 0) {
      fprintf(stderr, "'%s': this example handles float and int64 tensors of known rank only\n", info.name);
      status = ONNX_MINI_UNSUPPORTED;
    } else if (i < n_in) {
      fill_input(t, count);
    }
  }
  if (status == 0) {
    onnx_mini_error* e = onnx_mini_session_run(session, inputs, n_in, outputs, n_out);
    if (e) status = report(e);
  }
  for (size_t i = 0; i < n_out && status == 0; ++i) print_output(&outputs[i]);
  for (size_t i = 0; i < n_in + n_out; ++i) {
    onnx_mini_tensor* t = i < n_in ? &inputs[i] : &outputs[i - n_in];
    free(t->shape);
    free(t->data);
  }
  free(inputs);
  free(outputs);
  return status;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s MODEL.onnx [BATCH]\n", argv[0]);
    return 2;
  }
  int64_t batch = argc == 3 ? atoll(argv[2]) : 1;
  if (batch < 1) {
    fprintf(stderr, "BATCH must be a positive integer, got '%s'\n", argv[2]);
    return 2;
  }
  printf("onnx-mini %s\n", onnx_mini_version());
  onnx_mini_options* options = onnx_mini_options_create();
  onnx_mini_options_set_threads(options, 1); /* the caller's thread only */
  onnx_mini_session* session = NULL;
  onnx_mini_error* e = onnx_mini_session_load(argv[1], options, &session);
  onnx_mini_options_free(options);
  if (e) return report(e);
  int status = run(session, batch);
  onnx_mini_session_free(session);
  return status;
}
